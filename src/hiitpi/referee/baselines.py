"""Baseline counters for the accuracy table, run on exactly the same pose tracks as the referee.

- :class:`OriginalCounter`: the original HIIT PI key-state rules, re-implemented from their
  description (push-ups: elbow angles >= 150 / <= 100 with the shoulder angle; jumping jacks:
  ankle spread against hip width and shoulder angles <= 30 / >= 110). Raw keypoints, no
  smoothing, no arming, no hysteresis beyond the two key states. Other exercises: unsupported.
- :class:`SingleAngleCounter`: the up/down counter most open-source trainers use: one joint
  angle, a "down" and an "up" threshold, count on the way back up.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from hiitpi.core.geometry import angle, distance
from hiitpi.core.keypoints import Keypoint
from hiitpi.core.pose import Pose

FLOOR = 0.5
Triple = tuple[str, str, str]


def _side_angle(pose: Pose, names: Triple, side: str) -> float:
    kps = [Keypoint.from_name(f"{side}_{n}") for n in names]
    if not all(pose.visible(k, FLOOR) for k in kps):
        return math.nan
    return angle(*(pose.point(k) for k in kps))


def _angles(pose: Pose, names: Triple) -> list[float]:
    values = [_side_angle(pose, names, s) for s in ("left", "right")]
    return [v for v in values if math.isfinite(v)]


def _mean_angle(pose: Pose, names: Triple) -> float:
    values = _angles(pose, names)
    return float(np.mean(values)) if values else math.nan


class KeyStateCounter:
    """Counts a cycle of key states: state 0 -> state 1 -> ... -> back to state 0 is one rep."""

    def __init__(self, states: Sequence[Callable[[Pose], bool]]) -> None:
        self.states = list(states)
        self.reps = 0
        self._next = 0
        self._begun = False

    def update(self, pose: Pose | None) -> None:
        if pose is None or not self.states[self._next](pose):
            return
        if self._next == 0:
            if self._begun:
                self.reps += 1
            self._begun = True
        self._next = (self._next + 1) % len(self.states)


def _push_up_states() -> list[Callable[[Pose], bool]]:
    def up(p: Pose) -> bool:
        elbow = _mean_angle(p, ("shoulder", "elbow", "wrist"))
        shoulder = _mean_angle(p, ("hip", "shoulder", "elbow"))
        return elbow >= 150 and shoulder >= 40

    def down(p: Pose) -> bool:
        elbow = _mean_angle(p, ("shoulder", "elbow", "wrist"))
        shoulder = _mean_angle(p, ("hip", "shoulder", "elbow"))
        return elbow <= 100 and shoulder <= 60

    return [up, down]


def _spread_ratio(p: Pose) -> float:
    pts = (Keypoint.LEFT_ANKLE, Keypoint.RIGHT_ANKLE, Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP)
    if not all(p.visible(k, FLOOR) for k in pts):
        return math.nan
    hips = distance(p.point(Keypoint.LEFT_HIP), p.point(Keypoint.RIGHT_HIP))
    feet = distance(p.point(Keypoint.LEFT_ANKLE), p.point(Keypoint.RIGHT_ANKLE))
    return feet / hips if hips > 1e-6 else math.nan


def _jack_states() -> list[Callable[[Pose], bool]]:
    def closed(p: Pose) -> bool:
        return _mean_angle(p, ("hip", "shoulder", "elbow")) <= 30 and _spread_ratio(p) <= 1.5

    def opened(p: Pose) -> bool:
        return _mean_angle(p, ("hip", "shoulder", "elbow")) >= 110 and _spread_ratio(p) >= 2.0

    return [closed, opened]


ORIGINAL_RULES: dict[str, Callable[[], list[Callable[[Pose], bool]]]] = {
    "push_up": _push_up_states,
    "jumping_jacks": _jack_states,
}


class OriginalCounter:
    """The original HIIT PI rules; ``supported`` is False for exercises it never had."""

    def __init__(self, exercise: str) -> None:
        factory = ORIGINAL_RULES.get(exercise)
        self.supported = factory is not None
        self._counter = KeyStateCounter(factory()) if factory is not None else None

    @property
    def reps(self) -> int:
        return self._counter.reps if self._counter is not None else 0

    def update(self, pose: Pose | None) -> None:
        if self._counter is not None:
            self._counter.update(pose)


# exercise -> (angle points, rest threshold, turning threshold); rest > turn = angle closes.
SINGLE_ANGLE: dict[str, tuple[Triple, float, float]] = {  # degrees
    "push_up": (("shoulder", "elbow", "wrist"), 160, 90),
    "squat": (("hip", "knee", "ankle"), 160, 90),
    "lunge": (("hip", "knee", "ankle"), 160, 90),
    "squat_jump": (("hip", "knee", "ankle"), 160, 90),
    "side_squat_jump": (("hip", "knee", "ankle"), 160, 90),
    "burpee": (("shoulder", "hip", "knee"), 160, 90),
    "bicep_curl": (("shoulder", "elbow", "wrist"), 160, 50),
    "sit_up": (("shoulder", "hip", "knee"), 120, 60),
    "jumping_jacks": (("hip", "shoulder", "elbow"), 30, 150),
    "high_knees": (("shoulder", "hip", "knee"), 160, 110),
    "mountain_climber": (("shoulder", "hip", "knee"), 160, 100),
    "toe_tap": (("shoulder", "hip", "knee"), 170, 140),
    "plank": (("shoulder", "elbow", "wrist"), 160, 90),
}


class SingleAngleCounter:
    """One angle (the side seen with most confidence), two thresholds, count on return."""

    def __init__(self, exercise: str) -> None:
        self.supported = exercise in SINGLE_ANGLE
        spec = SINGLE_ANGLE.get(exercise, (("shoulder", "elbow", "wrist"), 0.0, 0.0))
        self.points: Triple = spec[0]
        self.rest: float = spec[1]
        self.turn: float = spec[2]
        self.reps = 0
        self._at_turn = False

    def _angle(self, pose: Pose) -> float:
        best, best_conf = math.nan, -1.0
        for side in ("left", "right"):
            kps = [Keypoint.from_name(f"{side}_{n}") for n in self.points]
            conf = float(min(pose.conf[k] for k in kps))
            value = _side_angle(pose, self.points, side)
            if math.isfinite(value) and conf > best_conf:
                best, best_conf = value, conf
        return best

    def update(self, pose: Pose | None) -> None:
        if pose is None or not self.supported:
            return
        a = self._angle(pose)
        if not math.isfinite(a):
            return
        closes = self.rest > self.turn
        reached_turn = a <= self.turn if closes else a >= self.turn
        back_at_rest = a >= self.rest if closes else a <= self.rest
        if reached_turn:
            self._at_turn = True
        elif back_at_rest and self._at_turn:
            self._at_turn = False
            self.reps += 1
