"""Measure a definition's features on one pose: angles in degrees, lengths in torso lengths."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from hiitpi.core.geometry import angle, distance, incline, torso_length
from hiitpi.core.keypoints import Keypoint
from hiitpi.core.pose import FloatArray, Pose
from hiitpi.referee.definition import SIDES, ExerciseDefinition, FeatureSpec

Features = dict[str, float]


def _resolve(name: str, side: str) -> Keypoint:
    if name.startswith(("left_", "right_")) or name == "nose":
        return Keypoint.from_name(name)
    return Keypoint.from_name(f"{side}_{name}")


_WIDTHS = {
    "shoulder_width": (Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER),
    "hip_width": (Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP),
}


def _scale(spec: FeatureSpec, pose: Pose, floor: float, torso: float) -> float:
    if spec.per == "none":
        return 1.0
    if spec.per == "torso":
        return torso
    a, b = _WIDTHS[spec.per]
    if not (pose.visible(a, floor) and pose.visible(b, floor)):
        return math.nan
    width = distance(pose.point(a), pose.point(b))
    return width if width >= spec.min_per * torso else math.nan


def angle3(a: FloatArray, b: FloatArray, c: FloatArray) -> float:
    """The angle ABC at ``b`` in degrees for points of any dimension (NaN when degenerate)."""
    v1, v2 = a - b, c - b
    n1, n2 = float(np.linalg.norm(v1)), float(np.linalg.norm(v2))
    if not (n1 > 1e-9 and n2 > 1e-9):
        return math.nan
    cos = float(np.dot(v1, v2)) / (n1 * n2)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def _joint_angle(pose: Pose, kps: list[Keypoint], world: bool) -> float:
    """A joint angle from the 3D world landmarks when asked and present, else the image."""
    if world and pose.world is not None:
        pts3 = [pose.world[k] for k in kps]
        if all(bool(np.isfinite(p).all()) for p in pts3):
            return angle3(pts3[0], pts3[1], pts3[2])
    return angle(pose.point(kps[0]), pose.point(kps[1]), pose.point(kps[2]))


def _measure(
    spec: FeatureSpec, pose: Pose, side: str, floor: float, torso: float, world: bool = False
) -> float:
    kps = [_resolve(p, side) for p in spec.points]
    if not all(pose.visible(k, floor) for k in kps):
        if not spec.fallback:
            return math.nan
        kps = [_resolve(p, side) for p in spec.fallback]
        if not all(pose.visible(k, floor) for k in kps):
            return math.nan
    pts = [pose.point(k) for k in kps]
    if spec.kind == "angle":  # angles and inclines need no length scale (nor a torso)
        return _joint_angle(pose, kps, world or spec.space == "world")
    if spec.kind == "incline":
        return incline(pts[0], pts[1])
    scale = _scale(spec, pose, floor, torso)
    if not scale > 1e-6:
        return math.nan
    if spec.kind == "distance":
        return distance(pts[0], pts[1]) / scale
    if spec.kind == "height":
        return float(pts[0][1] - pts[1][1]) / scale
    return _offset(pts[0], pts[1], pts[2]) / scale


def _offset(a: FloatArray, b: FloatArray, c: FloatArray) -> float:
    """Signed distance of ``b`` from the line a-c, positive when ``b`` is below it (y down)."""
    d = c - a
    n = float(np.hypot(*d))
    if n < 1e-9:
        return math.nan
    cross = float(d[0] * (b[1] - a[1]) - d[1] * (b[0] - a[0])) / n
    # cross > 0 means b is clockwise from a->c on screen; orient so + is "towards larger y".
    return cross if d[0] >= 0 else -cross


def side_confidence(spec: FeatureSpec, pose: Pose, side: str) -> float:
    best = float(min(pose.conf[_resolve(p, side)] for p in spec.points))
    if spec.fallback:
        best = max(best, float(min(pose.conf[_resolve(p, side)] for p in spec.fallback)))
    return best


# A "best"-side feature keeps the side it measures until the other side is clearly more
# confident for a while: near-equal confidences that alternate frame to frame (both arms in a
# side view) must not make the feature jump between two different limbs, which reads as motion.
SIDE_SWITCH_MARGIN = 0.15  # confidence lead (0-1) the other side needs ...
SIDE_SWITCH_HOLD_S = 0.4  # ... held this long before the feature changes side


class SideChooser:
    """Sticky per-feature choice of body side for ``side = "best"`` features."""

    def __init__(self) -> None:
        self._side: dict[str, str] = {}
        self._lead_since: dict[str, float] = {}

    def reset(self) -> None:
        self._side.clear()
        self._lead_since.clear()

    def choose(self, name: str, confidences: Mapping[str, float], t: float) -> str:
        """The side to use now, given each usable side's confidence (at least one)."""
        current = self._side.get(name)
        best = max(confidences, key=lambda s: confidences[s])
        if current is None or current not in confidences:  # first use, or its side is gone
            self._side[name] = best
            self._lead_since.pop(name, None)
            return best
        if best != current and confidences[best] - confidences[current] > SIDE_SWITCH_MARGIN:
            since = self._lead_since.setdefault(name, t)
            if t - since >= SIDE_SWITCH_HOLD_S:
                self._side[name] = best
                self._lead_since.pop(name, None)
        else:
            self._lead_since.pop(name, None)
        return self._side[name]


def _combine(
    name: str,
    spec: FeatureSpec,
    pose: Pose,
    values: Mapping[str, float],
    chooser: SideChooser | None,
    t: float,
) -> float:
    ok = {s: v for s, v in values.items() if math.isfinite(v)}
    if not ok:
        return math.nan
    if len(ok) == 1 and chooser is None:
        return next(iter(ok.values()))
    if spec.side == "mean":
        return float(np.mean(list(ok.values())))
    if spec.side == "min":
        return min(ok.values())
    if spec.side == "max":
        return max(ok.values())
    confidences = {s: side_confidence(spec, pose, s) for s in ok}
    if chooser is None:
        return ok[max(confidences, key=lambda s: confidences[s])]
    return ok[chooser.choose(name, confidences, t)]


def measure(
    definition: ExerciseDefinition,
    pose: Pose,
    floor: float,
    chooser: SideChooser | None = None,
    t: float = 0.0,
    world: bool = False,
) -> tuple[Features, dict[str, Features]]:
    """Shared features and per-side features (``side = "each"``; empty unless alternating).

    A feature whose keypoints are not all visible above ``floor`` is NaN. With a ``chooser``
    (the referee's), "best"-side features keep their side across frames (see SideChooser).
    ``world``: joint angles from the pose's 3D world landmarks where it has them.
    """
    torso = torso_length(pose, floor)
    shared: Features = {}
    per_side: dict[str, Features] = {s: {} for s in SIDES}
    for name, spec in definition.features.items():
        if not spec.sided:
            shared[name] = _measure(spec, pose, "left", floor, torso, world)
            continue
        values = {s: _measure(spec, pose, s, floor, torso, world) for s in SIDES}
        if spec.side == "each":
            for s in SIDES:
                per_side[s][name] = values[s]
            best = spec.model_copy(update={"side": "best"})
            shared[name] = _combine(name, best, pose, values, chooser, t)
        elif spec.side in ("left", "right"):
            shared[name] = values[spec.side]
        else:
            shared[name] = _combine(name, spec, pose, values, chooser, t)
    return shared, per_side


def required_visible(definition: ExerciseDefinition, pose: Pose | None, floor: float) -> bool:
    """True when at least one of the definition's alternative keypoint groups is visible."""
    if pose is None:
        return False
    for group in definition.required:
        names = [n for p in group for n in ((p,) if p.startswith(("left_", "right_")) else ())]
        sided = [p for p in group if not p.startswith(("left_", "right_"))]
        for side in SIDES:
            kps = [Keypoint.from_name(n) for n in names] + [_resolve(p, side) for p in sided]
            if all(pose.visible(k, floor) for k in kps):
                return True
    return False
