"""Pace drift: the thresholds are parameters, each boundary pinned by a table."""

from __future__ import annotations

import pytest

from hiitpi.plans import Drift, DriftCue, DriftParams, block_drift, pace_drift
from hiitpi.plans.drift import classify, rep_intervals


def _times(intervals: list[float]) -> list[float]:
    out = [1.0]
    for d in intervals:
        out.append(out[-1] + d)
    return out


@pytest.mark.parametrize(
    ("intervals", "cue", "pct"),
    [
        ([2.0] * 6, DriftCue.STEADY, 0.0),
        ([2.0, 2.0, 2.0, 2.2, 2.2, 2.2], DriftCue.STEADY, -9.1),  # just inside 10 %
        ([2.0, 2.0, 2.0, 2.5, 2.5, 2.5], DriftCue.SLOWING, -20.0),
        ([2.0, 2.0, 2.0, 1.6, 1.6, 1.6], DriftCue.FASTER, 25.0),
        ([2.0, 2.0, 2.0, 3.0, 1.0, 3.0, 3.0, 3.0], DriftCue.SLOWING, -33.3),  # medians
    ],
)
def test_drift_of_the_latest_reps_against_the_first(
    intervals: list[float], cue: DriftCue, pct: float
) -> None:
    assert pace_drift([_times(intervals)]) == Drift(cue, pct)


def test_no_drift_until_both_windows_are_full() -> None:
    assert pace_drift([_times([2.0] * 5)]) is None
    assert pace_drift([_times([2.0] * 5)], DriftParams(first_reps=2, recent_reps=3)) is not None


def test_rests_between_blocks_are_not_rep_intervals() -> None:
    blocks = [[1.0, 3.0, 5.0, 7.0], [1.0, 3.5, 6.0, 8.5]]  # each block's own clock
    assert rep_intervals(blocks) == [2.0, 2.0, 2.0, 2.5, 2.5, 2.5]
    assert pace_drift(blocks) == Drift(DriftCue.SLOWING, -20.0)


@pytest.mark.parametrize(
    ("pct", "params", "cue"),
    [
        (-10.0, DriftParams(), DriftCue.SLOWING),  # the threshold itself counts
        (-9.9, DriftParams(), DriftCue.STEADY),
        (10.0, DriftParams(), DriftCue.FASTER),
        (-9.9, DriftParams(slowing_pct=5), DriftCue.SLOWING),
        (12.0, DriftParams(faster_pct=15), DriftCue.STEADY),
    ],
)
def test_thresholds(pct: float, params: DriftParams, cue: DriftCue) -> None:
    assert classify(pct, params) is cue


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"first_reps": 0}, "first_reps"), ({"recent_reps": 51}, "recent_reps"),
     ({"slowing_pct": 0}, "slowing_pct"), ({"faster_pct": 100}, "faster_pct")],
)  # fmt: skip
def test_parameters_are_validated(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        DriftParams(**kwargs)  # type: ignore[arg-type]


def test_block_pace_drifts_against_the_first_block() -> None:
    got = block_drift([None, 12.0, 12.6, 9.0])
    assert got == [None, Drift(DriftCue.STEADY, 0.0), Drift(DriftCue.STEADY, 5.0),
                   Drift(DriftCue.SLOWING, -25.0)]  # fmt: skip
