"""Measure a definition's features on one pose: angles in degrees, lengths in torso lengths.

A pose's keypoints are read out of its arrays once per frame (:class:`_Keypoints`); the
features are then scalar arithmetic on Python floats, which on a handful of 2-vectors is many
times faster than numpy calls on each.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from hiitpi.core.geometry import angle, distance, hypot, incline, torso_length_of
from hiitpi.core.keypoints import Keypoint
from hiitpi.core.pose import Pose
from hiitpi.referee.definition import SIDES, ExerciseDefinition, FeatureSpec

Features = dict[str, float]


@cache
def _resolve(name: str, side: str) -> Keypoint:
    if name.startswith(("left_", "right_")) or name == "nose":
        return Keypoint.from_name(name)
    return Keypoint.from_name(f"{side}_{name}")


def _resolve_all(names: Sequence[str], side: str) -> list[Keypoint]:
    return [_resolve(n, side) for n in names]


class _Keypoints:
    """One pose's keypoints as Python floats and whether each is visible above the confidence
    floor (as :meth:`Pose.visible`: confidence at least ``floor`` and finite coordinates)."""

    __slots__ = ("conf", "seen", "world", "xy")

    def __init__(self, pose: Pose, floor: float) -> None:
        self.xy: list[list[float]] = pose.xy.tolist()
        self.conf: list[float] = pose.conf.tolist()
        self.seen: list[bool] = pose.visible_mask(floor)
        self.world: list[list[float]] | None = None if pose.world is None else pose.world.tolist()

    def all_seen(self, kps: Sequence[Keypoint]) -> bool:
        seen = self.seen
        return all(seen[k] for k in kps)


_WIDTHS = {
    "shoulder_width": (Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER),
    "hip_width": (Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP),
}


def _scale(spec: FeatureSpec, pts: _Keypoints, torso: float) -> float:
    if spec.per == "none":
        return 1.0
    if spec.per == "torso":
        return torso
    a, b = _WIDTHS[spec.per]
    if not (pts.seen[a] and pts.seen[b]):
        return math.nan
    width = distance(pts.xy[a], pts.xy[b])
    return width if width >= spec.min_per * torso else math.nan


def angle3(a: Sequence[float], b: Sequence[float], c: Sequence[float]) -> float:
    """The angle ABC at ``b`` in degrees for points of any dimension (NaN when degenerate)."""
    v1 = [p - q for p, q in zip(a, b, strict=True)]
    v2 = [p - q for p, q in zip(c, b, strict=True)]
    n1 = math.sqrt(sum(x * x for x in v1))
    n2 = math.sqrt(sum(x * x for x in v2))
    if not (n1 > 1e-9 and n2 > 1e-9):
        return math.nan
    cos = sum(x * y for x, y in zip(v1, v2, strict=True)) / (n1 * n2)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def _joint_angle(pts: _Keypoints, kps: list[Keypoint], world: bool) -> float:
    """A joint angle from the 3D world landmarks when asked and present, else the image."""
    if world and pts.world is not None:
        pts3 = [pts.world[k] for k in kps]
        if all(math.isfinite(v) for p in pts3 for v in p):
            return angle3(pts3[0], pts3[1], pts3[2])
    return angle(pts.xy[kps[0]], pts.xy[kps[1]], pts.xy[kps[2]])


@dataclass(frozen=True, slots=True)
class _Feature:
    """A definition's feature with its keypoints resolved for each side it is measured on
    (only "left" for a feature of explicitly named points)."""

    name: str
    spec: FeatureSpec
    sided: bool
    points: dict[str, list[Keypoint]]
    fallback: dict[str, list[Keypoint]]  # empty lists without a fallback

    @classmethod
    def of(cls, name: str, spec: FeatureSpec) -> _Feature:
        sides = SIDES if spec.sided else ("left",)
        points = {s: _resolve_all(spec.points, s) for s in sides}
        fallback = {s: _resolve_all(spec.fallback, s) for s in sides}
        return cls(name, spec, spec.sided, points, fallback)


def _measure(f: _Feature, pts: _Keypoints, side: str, torso: float, world: bool) -> float:
    spec = f.spec
    kps = f.points[side]
    if not pts.all_seen(kps):
        kps = f.fallback[side]
        if not kps or not pts.all_seen(kps):
            return math.nan
    if spec.kind == "angle":  # angles and inclines need no length scale (nor a torso)
        return _joint_angle(pts, kps, world or spec.space == "world")
    xy = [pts.xy[k] for k in kps]
    if spec.kind == "incline":
        return incline(xy[0], xy[1])
    scale = _scale(spec, pts, torso)
    if not scale > 1e-6:
        return math.nan
    if spec.kind == "distance":
        return distance(xy[0], xy[1]) / scale
    if spec.kind == "height":
        return (xy[0][1] - xy[1][1]) / scale
    return _offset(xy[0], xy[1], xy[2]) / scale


def _offset(a: Sequence[float], b: Sequence[float], c: Sequence[float]) -> float:
    """Signed distance of ``b`` from the line a-c, positive when ``b`` is below it (y down)."""
    dx, dy = c[0] - a[0], c[1] - a[1]
    n = hypot(dx, dy)
    if n < 1e-9:
        return math.nan
    cross = (dx * (b[1] - a[1]) - dy * (b[0] - a[0])) / n
    # cross > 0 means b is clockwise from a->c on screen; orient so + is "towards larger y".
    return cross if dx >= 0 else -cross


def _side_confidence(f: _Feature, pts: _Keypoints, side: str) -> float:
    conf = pts.conf
    best = min(conf[k] for k in f.points[side])
    if f.fallback[side]:
        best = max(best, min(conf[k] for k in f.fallback[side]))
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


def _mean(values: list[float]) -> float:
    """The mean, summed from the first value on (as numpy sums a few values)."""
    return sum(values[1:], values[0]) / len(values)


def _combine(
    f: _Feature,
    side: str,
    pts: _Keypoints,
    values: Mapping[str, float],
    chooser: SideChooser | None,
    t: float,
) -> float:
    """The two sides' values as one (``side``: the spec's, or "best" for an "each" feature)."""
    ok = {s: v for s, v in values.items() if math.isfinite(v)}
    if not ok:
        return math.nan
    if len(ok) == 1 and chooser is None:
        return next(iter(ok.values()))
    if side == "mean":
        return _mean(list(ok.values()))
    if side == "min":
        return min(ok.values())
    if side == "max":
        return max(ok.values())
    confidences = {s: _side_confidence(f, pts, s) for s in ok}
    if chooser is None:
        return ok[max(confidences, key=lambda s: confidences[s])]
    return ok[chooser.choose(f.name, confidences, t)]


class FeatureMeter:
    """Measures one definition's features on poses; its keypoint names are resolved once."""

    def __init__(self, definition: ExerciseDefinition) -> None:
        self.definition = definition
        self._features = [_Feature.of(name, spec) for name, spec in definition.features.items()]
        self._required: list[list[Keypoint]] = []  # each sided group once per side
        for group in definition.required:
            names = [n for p in group for n in ((p,) if p.startswith(("left_", "right_")) else ())]
            sided = [p for p in group if not p.startswith(("left_", "right_"))]
            for side in SIDES:
                kps = [Keypoint.from_name(n) for n in names] + _resolve_all(sided, side)
                self._required.append(kps)

    def measure(
        self,
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
        pts = _Keypoints(pose, floor)
        torso = torso_length_of(pts.xy, pts.seen)
        shared: Features = {}
        per_side: dict[str, Features] = {s: {} for s in SIDES}
        for f in self._features:
            name, side = f.name, f.spec.side
            if not f.sided:
                shared[name] = _measure(f, pts, "left", torso, world)
                continue
            values = {s: _measure(f, pts, s, torso, world) for s in SIDES}
            if side == "each":
                for s in SIDES:
                    per_side[s][name] = values[s]
                shared[name] = _combine(f, "best", pts, values, chooser, t)
            elif side in ("left", "right"):
                shared[name] = values[side]
            else:
                shared[name] = _combine(f, side, pts, values, chooser, t)
        return shared, per_side

    def required_visible(self, pose: Pose | None, floor: float) -> bool:
        """True when at least one of the definition's alternative keypoint groups is visible."""
        if pose is None:
            return False
        seen = pose.visible_mask(floor)
        return any(all(seen[k] for k in group) for group in self._required)
