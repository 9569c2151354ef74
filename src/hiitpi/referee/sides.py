"""Two sides, one movement or two: merging per-side cycles of a bilateral exercise.

A curl (a shoulder press, a raise) may be done with both arms together or with one arm after
the other. Following one arm (the most confident) counts two-arm curls but only half of the
alternating ones, and a front view's occluded or weaker arm decides which half. With
``sides = "either"`` in the definition each side is counted on its own (one phase machine and
one calibrated signal per side, as for alternating exercises) and the two sides' cycles are
then merged by time: cycles that overlap by at least ``OVERLAP_SHARE`` of the shorter one are
one movement (both arms together: one rep), cycles that do not are one rep each (in turn).

A no-rep is held back while the other side is in the middle of an attempt: if that attempt
becomes a rep overlapping it, the two were one movement and the rep stands for both (a weaker
arm that lagged behind must not add a "curl higher" to a good two-arm rep).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

# Cycles of the two sides sharing at least this share of the shorter one's time are one
# movement. Two-arm reps with one arm lagging 0.3 s of a 2 s rep share 85 %; alternating reps
# where one arm starts up while the other is still lowering share 20-30 %.
OVERLAP_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Span:
    """When a side's counted (or no-rep) movement happened, and whether it was a rep."""

    start: float
    end: float
    rep: bool


def overlaps(a: Span, start: float, end: float) -> bool:
    """Whether ``[start, end]`` and ``a`` share at least OVERLAP_SHARE of the shorter one."""
    shared = min(a.end, end) - max(a.start, start)
    shorter = min(a.end - a.start, end - start)
    if shorter <= 0:
        return shared >= 0
    return shared >= OVERLAP_SHARE * shorter


@dataclass(slots=True)
class Held(Generic[T]):
    """A no-rep waiting for the other side to finish its attempt."""

    side: int
    span: Span
    item: T


class SideMerger(Generic[T]):
    """Decides, for ``sides = "either"``, which per-side cycles become events.

    The referee offers each judged cycle (``item``, with its side, time span and whether it
    is a rep) to :meth:`decide`, and calls :meth:`release` every frame for held no-reps.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._last: list[Span | None] = [None, None]
        self._held: Held[T] | None = None

    def decide(
        self, side: int, span: Span, item: T, other_since: float | None, t: float
    ) -> list[T]:
        """The items to turn into events now (in order), given side ``side``'s new cycle.

        ``other_since``: when the other side's attempt in progress began (None: at rest).
        """
        out: list[T] = []
        held, self._held = self._held, None
        if held is not None:
            if held.side == side or not overlaps(held.span, span.start, span.end):
                out.append(held.item)  # another movement: the held no-rep stands
                self._last[held.side] = held.span
            elif not span.rep:  # both sides' no-reps of one movement: one no-rep
                self._last[side] = Span(min(span.start, held.span.start), span.end, False)
                return [held.item]
            # else: a rep of the same movement stands for both; the held no-rep is dropped
        other = self._last[1 - side]
        if other is not None and overlaps(other, span.start, span.end):
            return out  # the other side already counted (or no-repped) this movement
        if not span.rep and self._may_merge(span, other_since, t):
            self._held = Held(side, span, item)
            return out
        self._last[side] = span
        out.append(item)
        return out

    def release(self, since: tuple[float | None, float | None], t: float) -> list[T]:
        """The held no-rep once the other side's attempt can no longer be the same movement
        (it ended without a cycle, or has gone on too long to overlap enough)."""
        held = self._held
        if held is None or self._may_merge(held.span, since[1 - held.side], t):
            return []
        self._held = None
        self._last[held.side] = held.span
        return [held.item]

    @staticmethod
    def _may_merge(span: Span, other_since: float | None, t: float) -> bool:
        """Whether the other side's attempt (begun ``other_since``, still going at ``t``)
        can still end up overlapping ``span`` enough to be one movement with it."""
        if other_since is None:
            return False
        return overlaps(Span(other_since, max(t, other_since), False), span.start, span.end)
