"""Dropouts of the pose model are bridged: the attempt in progress goes on.

A pose model loses a person for a second or so (motion blur, an odd picture, a close-up):
the referee stays armed as long as the person tracker could tell a stranger from the same
person coming back (``lost_s``, 2 s), so a rep whose turning point fell in the gap counts.
"""

from __future__ import annotations

import pytest

from hiitpi.referee import Referee, load_exercise
from hiitpi.referee.person import FORGET_S

from . import skeleton as sk


def with_gap(frames: sk.Frames, start: float, length: float) -> sk.Frames:
    return [(t, None if start <= t < start + length else p) for t, p in frames]


@pytest.mark.parametrize("fps", [30.0, 6.0])
def test_a_rep_seen_only_at_its_bottom_still_counts(fps: float) -> None:
    # 4 squats of 3 s; the second one (4-7 s) is seen only around its bottom (5.3-5.7 s),
    # lost for 1.4 s on the way down and again on the way up
    frames = sk.sequence(sk.squat, sk.reps(4, 3.0), fps=fps)
    frames = with_gap(with_gap(frames, 3.9, 1.4), 5.7, 1.4)
    ref = sk.feed(Referee(load_exercise("squat")), frames)
    assert (ref.state.reps, ref.state.no_reps) == (4, 0)


def test_a_longer_absence_drops_the_attempt() -> None:
    # gone for 3 s from the bottom of the second squat: it is not counted, the others are
    frames = with_gap(sk.sequence(sk.squat, sk.reps(4, 3.0)), 5.4, 3.0)
    ref = sk.feed(Referee(load_exercise("squat")), frames)
    assert ref.state.reps == 2  # the first, and the fourth (re-armed standing after the gap)


def test_the_gap_bridged_is_the_person_trackers_horizon() -> None:
    assert load_exercise("squat").lost_s == FORGET_S
