"""Annotators: ``annotate(image, pose, state) -> image``. They draw; they never count.

The live engine draws every frame a viewer watches (30 a second), so each drawing call here
touches only the pixels it changes: the HUD panel is blended inside its own rectangle (not by
copying and blending the whole frame), its words come from a cache of their anti-aliased
rendering (:mod:`hiitpi.render.text`: white text), and the limbs go to OpenCV in one
``polylines`` call. They give the pixels of the straightforward version (the tests check it).
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray

from hiitpi.core.events import WorkoutState
from hiitpi.core.keypoints import SKELETON
from hiitpi.core.pose import Pose
from hiitpi.render.text import put_text

Image = NDArray[np.uint8]

_LIMB = (80, 220, 80)  # BGR
_JOINT = (40, 170, 255)
_PANEL = (30, 30, 30)


def draw_skeleton(image: Image, pose: Pose, floor: float = 0.5) -> Image:
    """Draw limbs and joints whose confidence is at least ``floor`` (in place; returns image)."""
    scale = max(1, round(max(image.shape[:2]) / 480))
    pts = pose.xy
    ok = (pose.conf >= floor) & np.isfinite(pts).all(axis=1)
    limbs = [(a, b) for a, b in SKELETON if ok[a] and ok[b]]
    if limbs:  # one call for every limb: each 2-point polyline is drawn exactly as cv2.line
        ends = np.zeros((len(limbs), 2, 2), np.int32)
        for n, (a, b) in enumerate(limbs):
            ends[n] = ((int(pts[a, 0]), int(pts[a, 1])), (int(pts[b, 0]), int(pts[b, 1])))
        cv2.polylines(image, list(ends), False, _LIMB, 2 * scale, cv2.LINE_AA)
    for i in np.flatnonzero(ok[:17]):
        cv2.circle(image, (int(pts[i, 0]), int(pts[i, 1])), 3 * scale, _JOINT, -1, cv2.LINE_AA)
    return image


def hud_lines(state: WorkoutState) -> list[str]:
    """The HUD's words: counts, then pace and phase, then the last no-rep's reason or a note."""
    lines = [
        f"REPS {state.reps}   NO-REPS {state.no_reps}",
        f"PACE {state.pace:.1f}/30s   {state.phase.upper()}",
    ]
    if state.last_reason:
        lines.append(f"last no-rep: {state.last_reason}")
    elif state.message:
        lines.append(state.message)
    return lines


@lru_cache(maxsize=16)
def _panel(shape: tuple[int, ...]) -> Image:
    """The panel's colour, a whole rectangle of it (the same few sizes frame after frame)."""
    out = np.full(shape, _PANEL, np.uint8)
    out.flags.writeable = False
    return out


def draw_hud(image: Image, state: WorkoutState) -> Image:
    """Reps, no-reps, pace and phase in a panel at the top-left (in place; returns image)."""
    h, w = image.shape[:2]
    scale = max(0.5, min(w, h) / 720)
    lines = hud_lines(state)
    font = cv2.FONT_HERSHEY_SIMPLEX
    line_h = int(32 * scale)
    width = max(cv2.getTextSize(s, font, 0.8 * scale, 2)[0][0] for s in lines) + int(20 * scale)
    # the panel's filled rectangle includes both corners: (0, 0) to (min(w, width), bottom)
    bottom = line_h * len(lines) + int(12 * scale)
    panel = image[: bottom + 1, : min(w, width) + 1]
    cv2.addWeighted(_panel(panel.shape), 0.6, panel, 0.4, 0, dst=panel)
    for i, text in enumerate(lines):
        put_text(image, text, (int(10 * scale), line_h * (i + 1)), 0.8 * scale, 2)
    return image


def annotate(
    image: Image,
    pose: Pose | None,
    state: WorkoutState | None,
    floor: float = 0.5,
    *,
    copy: bool = True,
) -> Image:
    """``image`` with the skeleton and the workout panel drawn: on a copy, or with
    ``copy=False`` on ``image`` itself (when nothing else reads that frame afterwards)."""
    out = image.copy() if copy else image
    if pose is not None:
        draw_skeleton(out, pose, floor)
    if state is not None:
        draw_hud(out, state)
    return out


def standby(image: Image, text: str = "STANDBY") -> Image:
    """The blurred greyscale stream shown while no workout runs."""
    small = cv2.resize(image, (max(1, image.shape[1] // 4), max(1, image.shape[0] // 4)))
    grey = cv2.cvtColor(cv2.GaussianBlur(small, (7, 7), 0), cv2.COLOR_BGR2GRAY)
    out: Image = np.asarray(
        cv2.cvtColor(cv2.resize(grey, (image.shape[1], image.shape[0])), cv2.COLOR_GRAY2BGR),
        np.uint8,
    )
    scale = max(0.6, min(out.shape[:2]) / 480)
    size = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)[0]
    org = ((out.shape[1] - size[0]) // 2, (out.shape[0] + size[1]) // 2)
    put_text(out, text, org, scale, 2)
    return out
