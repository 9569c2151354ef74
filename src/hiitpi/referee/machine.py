"""The phase machine: one repetition = leave the start phase, pass the ordered phases, return.

Order: from the last phase reached, the only phases that can be entered next are the next
required one and the optional ones before it (and phase 0, which ends the attempt), so a
repetition whose middle phase never held is never complete.

Debounce: a phase is entered only after its enter thresholds hold for ``min_s``; it is left
only when an exit threshold is crossed (hysteresis), so jitter at a threshold cannot count.
Each frame stands for the time until the next one, so at 6 fps one frame that holds is
enough for a short ``min_s``: counting never needs to see several frames at a turning point.
Unknown features (NaN) never cause a transition.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hiitpi.referee.definition import Condition, ExerciseDefinition, Phase


def holds(cond: Condition, features: Mapping[str, float], staying: bool) -> bool | None:
    """Whether a condition holds (None when its feature is unknown)."""
    v = features.get(cond.feature, math.nan)
    if not math.isfinite(v):
        return True if cond.if_unknown == "pass" else None
    limit = cond.exit if staying and cond.exit is not None else cond.threshold
    return v >= limit if cond.above is not None else v <= limit


def all_hold(conds: Sequence[Condition], features: Mapping[str, float], staying: bool) -> bool:
    return all(holds(c, features, staying) is True for c in conds)


def any_fails(conds: Sequence[Condition], features: Mapping[str, float], staying: bool) -> bool:
    return any(holds(c, features, staying) is False for c in conds)


def phase_holds(phase: Phase, features: Mapping[str, float], staying: bool) -> bool:
    return any(all_hold(opt, features, staying) for opt in phase.options)


def phase_fails(phase: Phase, features: Mapping[str, float], staying: bool) -> bool:
    return all(any_fails(opt, features, staying) for opt in phase.options)


@dataclass(slots=True)
class Attempt:
    """What happened between leaving the start phase and coming back to it."""

    t_start: float
    reached: int = 0
    passed: list[int] = field(default_factory=list)
    attempted: bool = False
    counted: bool = False
    lows: dict[str, float] = field(default_factory=dict)
    highs: dict[str, float] = field(default_factory=dict)
    _last: dict[str, tuple[tuple[float, float], ...]] = field(default_factory=dict)

    def observe(self, features: Mapping[str, float], t: float | None = None) -> None:
        """Track each feature's extremes; with ``t``, an extreme between two frames is
        interpolated (a parabola through the three samples around it), so a low frame rate
        that misses the turning-point frame is not judged on the frame before it."""
        for k, v in features.items():
            if not math.isfinite(v):
                continue
            self.lows[k] = min(self.lows.get(k, v), v)
            self.highs[k] = max(self.highs.get(k, v), v)
            if t is None:
                continue
            last = (*self._last.get(k, ())[-2:], (t, v))
            self._last[k] = last
            if len(last) == 3:
                peak = vertex(*last)
                if peak is not None:
                    self.lows[k] = min(self.lows[k], peak)
                    self.highs[k] = max(self.highs[k], peak)


def vertex(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> float | None:
    """The extreme of the parabola through three samples when the middle one is a local
    extreme (None otherwise), at most half the rise to the higher neighbour beyond it."""
    (t0, v0), (t1, v1), (t2, v2) = a, b, c
    is_min = (v1 < v0 and v1 <= v2) or (v1 <= v0 and v1 < v2)
    is_max = (v1 > v0 and v1 >= v2) or (v1 >= v0 and v1 > v2)
    if not (is_min or is_max) or not t0 < t1 < t2:
        return None
    d0, d2 = (v0 - v1) / (t0 - t1), (v2 - v1) / (t2 - t1)
    curv = (d2 - d0) / (t2 - t0)  # half the second derivative
    if abs(curv) < 1e-12:
        return None
    slope = d0 - curv * (t0 - t1)  # derivative at t1
    value = v1 - slope * slope / (4.0 * curv)
    cap = 0.5 * max(abs(v0 - v1), abs(v2 - v1))
    return max(v1 - cap, min(v1 + cap, value))


@dataclass(frozen=True, slots=True)
class Cycle:
    """A finished attempt: ``complete`` when every phase was reached."""

    attempt: Attempt
    t_end: float
    complete: bool
    missed: Phase | None
    dt: float = 0.0  # the frame interval: a duration is known only to within one frame
    early: bool = False  # count_at=turn on reaching the turn: a rep only if it already passes

    @property
    def duration(self) -> float:
        return self.t_end - self.attempt.t_start


MAX_FRAME_S = 0.25  # a frame stands for at most this long (a gap is not a hold)


class FrameClock:
    """The frame interval each frame stands for: a duration seen over frames is known only to
    within one frame, so a state first seen at ``since`` has held ``t - since + dt`` by ``t``
    (one frame at 6 fps satisfies a 0.05 s minimum). Capped: a gap is not a hold."""

    __slots__ = ("_t_prev", "dt")

    def __init__(self) -> None:
        self.dt = 0.0
        self._t_prev: float | None = None

    def tick(self, t: float) -> None:
        if self._t_prev is not None and t > self._t_prev:
            self.dt = min(t - self._t_prev, MAX_FRAME_S)
        self._t_prev = t

    def held(self, since: float, t: float, need: float) -> bool:
        """Whether a state first seen at ``since`` has held for ``need`` seconds by ``t``."""
        return t - since + self.dt >= need - 1e-9


class PhaseMachine:
    """Tracks one body side (or the whole body) through the definition's phases."""

    def __init__(self, definition: ExerciseDefinition) -> None:
        self.phases = definition.phases
        self.count_at_turn = definition.count_at == "turn"
        self.attempt_conds = definition.attempt
        required = [i for i, ph in enumerate(self.phases) if i > 0 and not ph.optional]
        self.final = required[-1] if required else len(self.phases) - 1
        self.reset()

    def reset(self, in_start: bool = True) -> None:
        self.current: int | None = 0 if in_start else None
        self.last = 0
        self.attempt: Attempt | None = None
        self._pending: int | None = None
        self._since = 0.0
        self._clock = FrameClock()

    @property
    def phase_name(self) -> str:
        if self.current is not None:
            return self.phases[self.current].name
        return "moving"

    def _debounced(self, idx: int | None, t: float) -> bool:
        if idx != self._pending:
            self._pending, self._since = idx, t
        return idx is not None and self._clock.held(self._since, t, self.phases[idx].min_s)

    def step(self, features: Mapping[str, float], t: float) -> Cycle | None:
        """Advance with one frame's features; returns a finished cycle, if any."""
        self._clock.tick(t)
        turned: Cycle | None = None
        if self.current is not None and phase_fails(self.phases[self.current], features, True):
            if self.current == 0 and self.attempt is None:
                self.attempt = Attempt(t_start=t)
            attempt = self.attempt
            at_turn = self.count_at_turn and self.current == self.final
            if at_turn and attempt is not None and not attempt.counted:
                # Not counted on reaching the turning point: judged on leaving it, with its
                # extreme known by then.
                attempt.counted = True
                turned = Cycle(attempt, t, complete=True, missed=None, dt=self._clock.dt)
            self.current = None
        if self.attempt is not None:
            self.attempt.observe(features, t)
            if any(holds(c, features, False) is True for c in self.attempt_conds):
                self.attempt.attempted = True
        if turned is not None:
            return turned
        if self.current is not None:
            self._advance_in_place(features, t)
            return None
        candidate = self._candidate(features)
        pending = self._pending
        unknown = pending is not None and not phase_fails(self.phases[pending], features, False)
        if candidate is None and unknown:
            return None  # the pending phase's features are unknown this frame: keep waiting
        if not self._debounced(candidate, t) or candidate is None:
            return None
        self.current, self._pending = candidate, None
        if candidate > 0:
            self.last = candidate
            attempt = self.attempt
            if attempt is not None:
                attempt.reached = max(attempt.reached, candidate)
                if candidate not in attempt.passed:
                    attempt.passed.append(candidate)
                attempt.attempted = True
                if self.count_at_turn and candidate == self.final and not attempt.counted:
                    # Provisional: counts now if the standards already hold, else on leaving.
                    dt = self._clock.dt
                    return Cycle(attempt, t, complete=True, missed=None, dt=dt, early=True)
            return None
        return self._finish(t)

    def _advance_in_place(self, features: Mapping[str, float], t: float) -> None:
        """Inside a phase > 0, move on to the next allowed phase as soon as it holds too
        (a burpee's chest to the floor is reached without leaving the plank)."""
        if not self.current or self.attempt is None:
            self._pending = None
            return
        nxt = next(
            (j for j in self._next_allowed() if phase_holds(self.phases[j], features, False)),
            None,
        )
        if nxt is None or not self._debounced(nxt, t):
            if nxt is None:
                self._pending = None
            return
        self.current = self.last = nxt
        self._pending = None
        self.attempt.reached = max(self.attempt.reached, nxt)
        self.attempt.passed.append(nxt)

    def _next_allowed(self) -> list[int]:
        """Phases that may be entered after ``last``: the optional ones up to the next
        required phase, and that phase (furthest first)."""
        out: list[int] = []
        for j in range(self.last + 1, len(self.phases)):
            out.append(j)
            if not self.phases[j].optional:
                break
        return out[::-1]

    def _candidate(self, features: Mapping[str, float]) -> int | None:
        """The phase to enter next, in order: a later allowed phase, the same one, or 0."""
        for j in self._next_allowed():
            if phase_holds(self.phases[j], features, False):
                return j
        if self.last > 0 and phase_holds(self.phases[self.last], features, False):
            return self.last
        if phase_holds(self.phases[0], features, False):
            return 0
        return None

    def _finish(self, t: float) -> Cycle | None:
        attempt, self.attempt, self.last = self.attempt, None, 0
        if attempt is None or not attempt.attempted or attempt.counted:
            return None
        complete = attempt.reached >= self.final
        missed = None
        if not complete:
            missed = next(
                ph for i, ph in enumerate(self.phases) if i > attempt.reached and not ph.optional
            )
        return Cycle(attempt, t, complete=complete, missed=missed, dt=self._clock.dt)
