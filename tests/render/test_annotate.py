"""The live view's drawing: the cheap versions give the pixels of the straightforward ones.

The references below are the drawing code as it was before it was made cheaper (cv2.line per
limb, putText per HUD line, a full-frame copy blended for the panel), kept here to compare.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hiitpi.core.events import WorkoutState
from hiitpi.core.keypoints import NUM_KEYPOINTS, SKELETON
from hiitpi.core.pose import Pose
from hiitpi.render import annotate, draw_hud, draw_skeleton, standby
from hiitpi.render.annotate import hud_lines
from hiitpi.render.text import put_text


def _frame(h: int = 360, w: int = 640) -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def _pose(w: int = 640, h: int = 360) -> Pose:
    rng = np.random.default_rng(3)
    xy = rng.uniform([0, 0], [w, h], (NUM_KEYPOINTS, 2))
    conf = rng.uniform(0.0, 1.0, NUM_KEYPOINTS)
    return Pose(xy=xy, conf=conf, score=0.9, width=w, height=h)


def _state(**kw: object) -> WorkoutState:
    base = dict(exercise="squat", t=3.0, reps=12, no_reps=3, phase="down", pace=11.5)
    base.update(kw)
    return WorkoutState(**base)  # type: ignore[arg-type]


def _reference_hud(image: np.ndarray, state: WorkoutState) -> np.ndarray:
    h, w = image.shape[:2]
    scale = max(0.5, min(w, h) / 720)
    lines = hud_lines(state)
    font = cv2.FONT_HERSHEY_SIMPLEX
    line_h = int(32 * scale)
    width = max(cv2.getTextSize(s, font, 0.8 * scale, 2)[0][0] for s in lines) + int(20 * scale)
    overlay = image.copy()
    bottom = line_h * len(lines) + int(12 * scale)
    cv2.rectangle(overlay, (0, 0), (min(w, width), bottom), (30, 30, 30), -1)
    cv2.addWeighted(overlay, 0.6, image, 0.4, 0, dst=image)
    for i, text in enumerate(lines):
        org = (int(10 * scale), line_h * (i + 1))
        cv2.putText(image, text, org, font, 0.8 * scale, (255, 255, 255), 2, cv2.LINE_AA)
    return image


@pytest.mark.parametrize("size", [(360, 640), (720, 1280), (478, 848)])
@pytest.mark.parametrize("reason", ["", "not low enough"])
def test_hud_matches_put_text_on_a_full_frame_blend(size: tuple[int, int], reason: str) -> None:
    image = _frame(*size)
    state = _state(last_reason=reason or None)
    got = draw_hud(image.copy(), state)
    want = _reference_hud(image.copy(), state)
    diff = np.abs(got.astype(int) - want.astype(int))
    # OpenCV blends each stroke in fixed point: where strokes overlap, the roundings add up to
    # a few levels of 255 on a few dozen pixels; nothing a person can see
    assert diff.max() <= 10
    assert (diff > 2).sum() < 0.002 * diff.size
    assert np.array_equal(got[200:], want[200:])  # below the panel: untouched


def test_skeleton_matches_one_line_per_limb() -> None:
    image, pose = _frame(), _pose()
    got = draw_skeleton(image.copy(), pose, 0.5)
    want = image.copy()
    ok = pose.conf >= 0.5
    for a, b in SKELETON:
        if ok[a] and ok[b]:
            pa = (int(pose.xy[a, 0]), int(pose.xy[a, 1]))
            pb = (int(pose.xy[b, 0]), int(pose.xy[b, 1]))
            cv2.line(want, pa, pb, (80, 220, 80), 2, cv2.LINE_AA)
    for i in np.flatnonzero(ok[:17]):
        center = (int(pose.xy[i, 0]), int(pose.xy[i, 1]))
        cv2.circle(want, center, 3, (40, 170, 255), -1, cv2.LINE_AA)
    assert np.array_equal(got, want)


def test_put_text_is_clipped_at_the_borders() -> None:
    # cut by the right and bottom borders, or wholly outside: what is inside matches putText
    # (OpenCV's own clipping shades the border row/column of a cut stroke its own way)
    for org in [(30, 45), (5, 30), (600, 350), (-500, -500), (700, 10), (5, 400)]:
        image = _frame(40, 64)
        want = image.copy()
        cv2.putText(want, "REPS 12", org, cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255,) * 3, 2, cv2.LINE_AA)
        put_text(image, "REPS 12", org, 0.8, 2)
        inner = (slice(0, -1), slice(0, -1))
        assert np.abs(image[inner].astype(int) - want[inner].astype(int)).max() <= 10, org
    image = _frame(40, 64)
    before = image.copy()
    put_text(image, "REPS 12", (-30, 5), 0.8, 2)  # cut at the top and left: no error
    assert np.array_equal(image[20:], before[20:])


def test_annotate_copies_unless_told_to_draw_in_place() -> None:
    image = _frame()
    before = image.copy()
    out = annotate(image, _pose(), _state())
    assert out is not image and np.array_equal(image, before)
    inplace = annotate(image, _pose(), _state(), copy=False)
    assert inplace is image and np.array_equal(inplace, out)


def test_standby_text_is_drawn() -> None:
    out = standby(_frame())
    assert out.shape == (360, 640, 3)
    centre = out[170:190, 280:360]
    assert (centre == 255).any()  # the white word in the middle
