"""The engine's one session clock and the plan it runs (the interval engine itself is pure).

:class:`SessionClock` counts the seconds a session has run, not counting pauses, on a monotonic
clock; :class:`PlanRun` advances a plan on it and says which set the engine must be refereeing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from hiitpi.plans import Interval, Plan, PlanState, advance, begin, skip, stop
from hiitpi.plans.drift import DEFAULT_DRIFT, DriftParams, pace_drift


class SessionClock:
    """Seconds since ``start`` minus the time spent paused."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._start = now()
        self._paused_at: float | None = None
        self._paused_total = 0.0

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def t(self) -> float:
        end = self._paused_at if self._paused_at is not None else self._now()
        return end - self._start - self._paused_total

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = self._now()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._paused_total += self._now() - self._paused_at
            self._paused_at = None


@dataclass(frozen=True, slots=True)
class SetKey:
    """The set a plan wants refereed now: its block, round, exercise and rep target."""

    block: int
    round: int
    exercise: str
    target: int | None


class PlanRun:
    """One plan on the engine's clock; remembers each block's rep times for the drift cue."""

    def __init__(
        self,
        plan: Plan,
        clock: SessionClock,
        drift: DriftParams = DEFAULT_DRIFT,
    ) -> None:
        self.plan = plan
        self.clock = clock
        self.drift_params = drift
        self.state: PlanState = begin(plan, clock.t())
        self.rep_times: dict[tuple[int, int], list[float]] = {}

    def advance(self, count: int) -> PlanState:
        self.state = advance(self.clock.t(), self.state, count)
        return self.state

    def skip(self) -> PlanState:
        self.state = skip(self.clock.t(), self.state)
        return self.state

    def stop(self) -> PlanState:
        self.state = stop(self.clock.t(), self.state)
        return self.state

    def wanted(self) -> SetKey | None:
        """The set to referee now: the working block, None in countdown, rest and done."""
        s = self.state
        if s.interval is not Interval.WORK:
            return None
        return SetKey(s.block, s.round, s.current.exercise, s.current.target)

    def record_reps(self, key: SetKey, times: tuple[float, ...]) -> None:
        self.rep_times[(key.round, key.block)] = list(times)

    def drift(self) -> tuple[str | None, float | None]:
        """The cue and percentage of the session's latest reps against its first."""
        blocks = [self.rep_times[k] for k in sorted(self.rep_times)]
        d = pace_drift(blocks, self.drift_params)
        return (None, None) if d is None else (d.cue.value, d.pct)
