"""Pace drift: is the player keeping the pace of their first reps? Pure, no clock.

The pace of a stretch of reps is the inverse of the median time between consecutive reps of
the same block (rests between blocks are not reps). The latest ``recent_reps`` intervals are
compared with the first ``first_reps`` of the set or session: ``drift_pct`` is how much faster
(+) or slower (-) the recent pace is, in percent, and the cue reads ``slowing`` at or below
``-slowing_pct``, ``faster`` at or above ``faster_pct``, ``steady`` between. Per-block pace
(reps per 30 s of work) drifts against the first block the same way in the session summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise
from statistics import median


class DriftCue(StrEnum):
    STEADY = "steady"
    SLOWING = "slowing"
    FASTER = "faster"


@dataclass(frozen=True, slots=True)
class DriftParams:
    """Thresholds of the drift cue, each validated (ValueError names the parameter)."""

    first_reps: int = 3  # rep intervals that set the reference pace
    recent_reps: int = 3  # latest rep intervals compared with it
    slowing_pct: float = 10.0  # recent pace this much slower (%) reads "slowing"
    faster_pct: float = 10.0  # ... this much faster reads "faster"

    def __post_init__(self) -> None:
        for name in ("first_reps", "recent_reps"):
            if not 1 <= getattr(self, name) <= 50:
                raise ValueError(f"{name} must be 1-50, got {getattr(self, name)}")
        for name in ("slowing_pct", "faster_pct"):
            if not 0 < getattr(self, name) < 100:
                raise ValueError(f"{name} must be in (0, 100), got {getattr(self, name)}")


DEFAULT_DRIFT = DriftParams()


@dataclass(frozen=True, slots=True)
class Drift:
    cue: DriftCue
    pct: float  # recent pace vs the reference, in percent (+ faster, - slower)


def rep_intervals(blocks: Sequence[Sequence[float]]) -> list[float]:
    """Seconds between consecutive reps within each block, blocks in order."""
    out: list[float] = []
    for times in blocks:
        out += [b - a for a, b in pairwise(times) if b > a]
    return out


def classify(pct: float, params: DriftParams = DEFAULT_DRIFT) -> DriftCue:
    if pct <= -params.slowing_pct:
        return DriftCue.SLOWING
    if pct >= params.faster_pct:
        return DriftCue.FASTER
    return DriftCue.STEADY


def change_pct(reference: float, now: float) -> float:
    """How much ``now`` exceeds ``reference`` (both paces), in percent."""
    if reference <= 0:
        raise ValueError(f"a reference pace must be > 0, got {reference}")
    return round((now / reference - 1.0) * 100.0, 1)


def pace_drift(
    blocks: Sequence[Sequence[float]], params: DriftParams = DEFAULT_DRIFT
) -> Drift | None:
    """The drift of the latest reps against the first ones (rep times per block, seconds).

    None until there are ``first_reps + recent_reps`` intervals: the two windows never overlap.
    """
    intervals = rep_intervals(blocks)
    if len(intervals) < params.first_reps + params.recent_reps:
        return None
    first = median(intervals[: params.first_reps])
    recent = median(intervals[-params.recent_reps :])
    pct = change_pct(1.0 / first, 1.0 / recent)
    return Drift(classify(pct, params), pct)


def block_drift(
    paces: Sequence[float | None], params: DriftParams = DEFAULT_DRIFT
) -> list[Drift | None]:
    """Each block's pace against the first block that has one (None where either is missing)."""
    reference = next((p for p in paces if p is not None and p > 0), None)
    out: list[Drift | None] = []
    for p in paces:
        if reference is None or p is None:
            out.append(None)
            continue
        pct = change_pct(reference, p)
        out.append(Drift(classify(pct, params), pct))
    return out
