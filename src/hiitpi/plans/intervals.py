"""The interval engine: pure functions of the plan clock, no clock of its own, no I/O.

``begin(plan, t)`` gives the first state; ``advance(t, state, count)`` moves it to time ``t``
given ``count``, the reps the referee has counted in the running work block; ``skip(t, state)``
ends the running interval early. Times are seconds on the caller's plan clock (the engine's
clock, which does not run while paused). One call may pass several intervals (a long pause of
the caller, a resumed engine): each interval ends at its own scheduled time, so the schedule
never drifts by when the caller happened to look.

Intervals: ``countdown`` (before the first work block, and the last ``countdown_s`` of every
rest), ``work`` (ends on its clock, or on the target, whichever comes first), ``rest`` (the
block's ``rest_s``, or the rest of an EMOM period), ``done``. An AMRAP plan ends at its cap,
counted from the start of its first work block.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from hiitpi.plans.model import Block, Plan

_MAX_STEPS = 10_000  # intervals one advance may pass (an AMRAP of 1-rep blocks for hours)


class Interval(StrEnum):
    COUNTDOWN = "countdown"
    WORK = "work"
    REST = "rest"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class PlanState:
    """Where a running plan is. ``block``/``round`` are the block of the interval: the one
    counted down to, worked, or just finished (rest)."""

    plan: Plan
    interval: Interval
    block: int  # 0-based index into plan.blocks
    round: int  # 1-based
    started: float  # plan-clock time the interval began
    ends: float | None  # when the clock ends it (None: work until the target)
    t: float  # the time last advanced to
    t0: float  # when the plan began
    period_ends: float | None = None  # EMOM: end of the running block's period
    cap_ends: float | None = None  # AMRAP: when the whole plan ends
    countdown_after: float = 0.0  # seconds of countdown that follow this rest

    @property
    def current(self) -> Block:
        return self.plan.blocks[self.block]

    @property
    def done(self) -> bool:
        return self.interval is Interval.DONE

    @property
    def elapsed_s(self) -> float:
        return self.t - self.t0

    @property
    def remaining_s(self) -> float | None:
        """Seconds left in the interval; for target-only work in an AMRAP, left in the cap."""
        if self.done:
            return None
        end = self.ends if self.ends is not None else self.cap_ends
        return None if end is None else max(0.0, end - self.t)

    @property
    def rounds(self) -> int | None:
        """Rounds in the plan (None for AMRAP: as many as fit)."""
        return None if self.plan.open_rounds else self.plan.rounds

    @property
    def target(self) -> int | None:
        return None if self.done else self.current.target

    def following(self) -> tuple[int, int] | None:
        """(block, round) after this interval's block, or None when it is the last."""
        if self.block + 1 < len(self.plan.blocks):
            return self.block + 1, self.round
        if self.plan.open_rounds or self.round < self.plan.rounds:
            return 0, self.round + 1
        return None

    @property
    def next_block(self) -> Block | None:
        """The block coming next: the one counted down to, else the one after this one."""
        if self.done:
            return None
        if self.interval is Interval.COUNTDOWN:
            return self.current
        nxt = self.following()
        return None if nxt is None else self.plan.blocks[nxt[0]]


def begin(plan: Plan, t: float = 0.0) -> PlanState:
    """The plan at its start: counting down to the first block (or working, without one)."""
    s = PlanState(plan, Interval.COUNTDOWN, 0, 1, t, t + plan.countdown_s, t, t)
    return _begin_work(s, 0, 1, t) if plan.countdown_s <= 0 else s


def advance(t: float, state: PlanState, count: int) -> PlanState:
    """``state`` at time ``t``, ``count`` reps counted in its running work block."""
    if t < state.t:
        raise ValueError(f"the plan clock went backwards: {t} < {state.t}")
    s = replace(state, t=t)
    for _ in range(_MAX_STEPS):
        nxt = _step(s, count)
        if nxt is None:
            return s
        s, count = nxt, 0  # a new interval: the count belonged to the block that ended
    return s


def skip(t: float, state: PlanState) -> PlanState:
    """End the running interval at ``t``: countdown -> work, work -> its rest (or the next
    block), rest -> the next block's countdown. Done stays done."""
    s = advance(t, state, 0)
    if s.interval is Interval.COUNTDOWN:
        return _begin_work(s, s.block, s.round, t)
    if s.interval is Interval.WORK:
        return _end_work(s, t)
    if s.interval is Interval.REST:
        return _after_rest(replace(s, countdown_after=s.plan.countdown_s), t)
    return s


def stop(t: float, state: PlanState) -> PlanState:
    """The plan ended by hand at ``t``."""
    return _done(advance(t, state, 0), t)


def _step(s: PlanState, count: int) -> PlanState | None:
    """The next interval if the current one is over at ``s.t``, else None."""
    if s.done:
        return None
    if s.cap_ends is not None and s.t >= s.cap_ends:
        return _done(s, s.cap_ends)
    if s.interval is Interval.WORK:
        target = s.current.target
        if target is not None and count >= target:
            return _end_work(s, s.t)
    if s.ends is None or s.t < s.ends:
        return None
    if s.interval is Interval.COUNTDOWN:
        return _begin_work(s, s.block, s.round, s.ends)
    if s.interval is Interval.WORK:
        return _end_work(s, s.ends)
    return _after_rest(s, s.ends)


def _begin_work(s: PlanState, block: int, round_: int, at: float) -> PlanState:
    b = s.plan.blocks[block]
    period_ends = None if b.period_s is None else at + b.period_s
    ends = [e for e in (None if b.work_s is None else at + b.work_s, period_ends) if e is not None]
    cap = s.cap_ends
    if cap is None and s.plan.time_cap_s is not None:
        cap = at + s.plan.time_cap_s
    return replace(
        s,
        interval=Interval.WORK,
        block=block,
        round=round_,
        started=at,
        ends=min(ends) if ends else None,
        period_ends=period_ends,
        cap_ends=cap,
        countdown_after=0.0,
    )


def _end_work(s: PlanState, at: float) -> PlanState:
    """Work is over at ``at``: rest (then count down), or straight into the next block."""
    nxt = s.following()
    if nxt is None:
        return _done(s, at)
    rest = s.current.rest_s if s.period_ends is None else max(0.0, s.period_ends - at)
    countdown = min(s.plan.countdown_s, rest)
    if rest <= 0:
        return _begin_work(s, nxt[0], nxt[1], at)
    rested = replace(s, period_ends=None, countdown_after=countdown)
    if rest - countdown <= 0:
        return _after_rest(rested, at)
    return replace(rested, interval=Interval.REST, started=at, ends=at + rest - countdown)


def _after_rest(s: PlanState, at: float) -> PlanState:
    """The rest of ``s`` is over at ``at``: count down to the next block, or begin it."""
    nxt = s.following()
    if nxt is None:
        return _done(s, at)
    if s.countdown_after <= 0:
        return _begin_work(s, nxt[0], nxt[1], at)
    return replace(
        s,
        interval=Interval.COUNTDOWN,
        block=nxt[0],
        round=nxt[1],
        started=at,
        ends=at + s.countdown_after,
        countdown_after=0.0,
    )


def _done(s: PlanState, at: float) -> PlanState:
    return replace(s, interval=Interval.DONE, started=at, ends=None, period_ends=None)
