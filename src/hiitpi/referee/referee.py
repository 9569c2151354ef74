"""The generic referee: runs any exercise definition over a pose stream.

``update(pose, t)`` is pure (no I/O, no clock): it smooths the keypoints, arms only when the
required joints are visible and the start pose is held, disarms when the person or the joints
are lost or the posture guard fails (an unfinished attempt is then dropped, never counted),
and turns finished attempts into rep / no-rep events.
"""

from __future__ import annotations

import math
from dataclasses import replace

from hiitpi.config import RefereeConfig
from hiitpi.core.events import EventKind, RepEvent, WorkoutState
from hiitpi.core.pose import Pose
from hiitpi.referee.calibration import Calibrator
from hiitpi.referee.definition import PROGRESS, SIDES, ExerciseDefinition
from hiitpi.referee.features import FeatureMeter, Features, SideChooser
from hiitpi.referee.judging import Verdict, judge, pace_and_tempo, violated_now
from hiitpi.referee.machine import (
    Cycle,
    FrameClock,
    PhaseMachine,
    all_hold,
    any_fails,
    phase_fails,
)
from hiitpi.referee.sides import SideMerger, Span
from hiitpi.referee.smoothing import PoseSmoother

MSG_POSITION = "Get into the start position"
MSG_LOST = "Cannot see you: step into the frame"
# A cycle (rep or no-rep) is judged only if its extreme went at least this share of the
# signal's min_range from the rest level it started at (the extreme is interpolated between
# frames): jitter never counts, nor produces no-reps.
MIN_RANGE_SHARE = 1.0


class Referee:
    """Counts and judges one exercise for one person (one referee per camera)."""

    def __init__(self, definition: ExerciseDefinition, config: RefereeConfig | None = None) -> None:
        self.definition = definition
        self.config = config or RefereeConfig()
        self._world = self.config.angles == "world"
        # the world landmarks are smoothed only when some feature is measured on them
        in_3d = self._world or any(f.space == "world" for f in definition.features.values())
        self._smoother = PoseSmoother(self.config.smoothing, world=in_3d)
        self._sides = SideChooser()
        self._meter = FeatureMeter(definition)
        self._alternating = definition.alternating  # a property that walks the phases
        n = 2 if self._alternating else 1
        self._machines = [PhaseMachine(definition) for _ in range(n)]
        signal = definition.signal
        self._calibrators = [Calibrator(signal) for _ in range(n)] if signal else []
        merge = n == 2 and definition.sides == "merge"
        self._merger: SideMerger[tuple[Cycle, Verdict]] | None = SideMerger() if merge else None
        self.form_judged = True
        self.form_reason: str | None = None
        self.reset()

    # -- public API ---------------------------------------------------------------------------

    def reset(self) -> None:
        self._smoother.reset()
        self._sides.reset()
        for m in self._machines:
            m.reset()
        for c in self._calibrators:
            c.reset()
        if self._merger is not None:
            self._merger.reset()
        self._events: list[RepEvent] = []
        self._armed = False
        self._start_since: float | None = None
        self._seen_at: float | None = None
        self._guard_fail_since: float | None = None
        self._hold_s = 0.0
        self._hold_t: float | None = None
        self._hold_bad_since: float | None = None
        self._hold_flagged = False
        self._carried: WorkoutState | None = None
        self._clock = FrameClock()  # the start pose's hold is timed as the phases' are
        self._state = WorkoutState(exercise=self.definition.id, t=0.0, message=MSG_POSITION)

    def resume(self, state: WorkoutState) -> None:
        """Carry on a set that an interrupted engine left open, from its last ``state``.

        Counts, rep times, the last no-rep reason and the hold time go on from ``state``; new
        events are numbered after its; pace and tempo are computed over old and new reps
        alike. Feed times that continue from ``state.t``. Posture starts over: the person
        arms again before the next rep counts.
        """
        if state.exercise != self.definition.id:
            raise ValueError(
                f"cannot resume {state.exercise!r} with the {self.definition.id} referee"
            )
        self.reset()
        self._carried = state
        self._state = replace(
            state, phase="idle", armed=False, pace=0.0, tempo_cv=0.0, message=MSG_POSITION
        )

    def set_form_judging(self, judged: bool, reason: str | None = None) -> None:
        """Whether the standards (depth, lockout, hip line) can be judged from now on, e.g.
        from the camera's view; when not, attempts still count and each event and the state
        say ``form_judged=False`` with ``reason`` ("form not judged from this angle")."""
        self.form_judged = judged
        self.form_reason = None if judged else reason

    def new_person(self) -> None:
        """Somebody else replaced the person being refereed (or the video cut to another
        shot): the attempt in progress is dropped and counting re-arms from the start pose."""
        self._disarm()
        self._seen_at = None
        self._smoother.reset()
        self._sides.reset()
        for c in self._calibrators:  # another person's range is not this one's
            c.reset()

    @property
    def state(self) -> WorkoutState:
        return self._state

    @property
    def events(self) -> list[RepEvent]:
        return list(self._events)

    def update(self, pose: Pose | None, t: float) -> tuple[WorkoutState, list[RepEvent]]:
        """Feed one frame (``pose`` None = nobody found) at media/capture time ``t`` seconds."""
        floor = self.config.confidence_floor
        new: list[RepEvent] = []
        self._clock.tick(t)
        visible = self._meter.required_visible(pose, floor)
        if pose is None or not visible:
            self._lost(t)
            return self._publish(t, new, MSG_LOST if self._seen_at is None else None)
        self._seen_at = t
        smooth = self._smoother(pose, t)
        shared, per_side = self._meter.measure(smooth, floor, self._sides, t, self._world)
        inputs = self._inputs(shared, per_side, t)
        if not self._armed:
            self._try_arm(shared, inputs, t)
            return self._publish(t, new, None)
        if self._guard_failed(shared, t):
            self._disarm()
            return self._publish(t, new, MSG_POSITION)
        if self.definition.kind == "hold":
            new.extend(self._hold(shared, t))
        else:
            new.extend(self._count(inputs, t))
        return self._publish(t, new, None)

    # -- arming -------------------------------------------------------------------------------

    def _lost(self, t: float) -> None:
        """No usable pose this frame: disarm after ``lost_s``; forget a half-held start pose."""
        gone = self._seen_at is None or t - self._seen_at > self.definition.lost_s
        if self._armed and gone:
            self._disarm()
        if gone:
            self._seen_at = None
            self._start_since = None
            self._smoother.reset()
            self._sides.reset()

    def _inputs(self, shared: Features, per_side: dict[str, Features], t: float) -> list[Features]:
        """The features each phase machine sees: one per side for alternating exercises,
        with the calibrated ``progress`` of the signal (only while armed: it calibrates on
        the set, not on getting into position)."""
        inputs = [{**shared, **per_side[s]} for s in SIDES] if self._alternating else [dict(shared)]
        signal = self.definition.signal
        if signal is not None:
            for feats, cal in zip(inputs, self._calibrators, strict=True):
                value = feats.get(signal.feature, math.nan)
                feats[PROGRESS] = cal.update(value, t) if self._armed else math.nan
        return inputs

    def _try_arm(self, shared: Features, inputs: list[Features], t: float) -> None:
        """Arm once the start pose has held for ``hold_s``; brief dropouts do not restart it."""
        start = self.definition.start
        options = start.options
        if all(any_fails(opt, shared, False) for opt in options):
            self._start_since = None
            return
        if not any(all_hold(opt, shared, False) for opt in options):
            return
        if self._start_since is None:
            self._start_since = t
        if self._clock.held(self._start_since, t, start.hold_s):
            self._armed = True
            self._guard_fail_since = None
            self._hold_t = t
            signal = self.definition.signal
            for i, (m, feats) in enumerate(zip(self._machines, inputs, strict=True)):
                if signal is not None:
                    cal = self._calibrators[i]
                    cal.restart()
                    feats[PROGRESS] = cal.update(feats.get(signal.feature, math.nan), t)
                m.reset(in_start=self._in_start(feats))

    def _in_start(self, shared: Features) -> bool:
        phases = self.definition.phases
        # A side not seen yet is assumed at rest, so its first movement can count.
        return not phases or not phase_fails(phases[0], shared, True)

    def _guard_failed(self, shared: Features, t: float) -> bool:
        if not all(any_fails(opt, shared, True) for opt in self.definition.guard.options):
            self._guard_fail_since = None
            return False
        if self._guard_fail_since is None:
            self._guard_fail_since = t
        return t - self._guard_fail_since > self.definition.guard.grace_s

    def _disarm(self) -> None:
        self._armed = False
        self._start_since = None
        self._hold_t = None
        for m in self._machines:
            m.reset()
        for c in self._calibrators:
            c.restart()
        if self._merger is not None:  # a held no-rep of a dropped set is dropped with it
            self._merger.reset()

    # -- counting -----------------------------------------------------------------------------

    def _count(self, inputs: list[Features], t: float) -> list[RepEvent]:
        out: list[RepEvent] = []
        for i, (machine, feats) in enumerate(zip(self._machines, inputs, strict=True)):
            cycle = machine.step(feats, t)
            if cycle is not None and self._calibrators:
                cal = self._calibrators[i]
                moved = cal.excursion(cycle.attempt.lows, cycle.attempt.highs)
                if not cycle.complete:
                    cal.reanchor()
                if moved < MIN_RANGE_SHARE * cal.signal.min_range:
                    continue  # jitter, not a movement: neither a rep nor an attempt
            if cycle is None:
                continue
            verdict = self._verdict(cycle)
            if verdict is None:
                continue
            if self._merger is None:
                out.append(self._emit(cycle, verdict))
                continue
            span = Span(cycle.attempt.t_start, cycle.t_end, verdict.counts)
            since = self._attempt_since(1 - i)
            for c, v in self._merger.decide(i, span, (cycle, verdict), since, t):
                out.append(self._emit(c, v))
        if self._merger is not None:
            since2 = (self._attempt_since(0), self._attempt_since(1))
            out.extend(self._emit(c, v) for c, v in self._merger.release(since2, t))
        return out

    def _attempt_since(self, side: int) -> float | None:
        """When side ``side``'s attempt in progress began (None: it is at rest)."""
        attempt = self._machines[side].attempt
        return None if attempt is None else attempt.t_start

    def _verdict(self, cycle: Cycle) -> Verdict | None:
        """The cycle's verdict; None when it makes no event (too short to be a movement, or
        a provisional turning point that does not pass yet and is judged again on leaving)."""
        verdict: Verdict | None = judge(self.definition, cycle, self.form_judged)
        if verdict is None:
            return None
        if cycle.early:
            if not verdict.counts:
                return None
            cycle.attempt.counted = True
        return verdict

    def _emit(self, cycle: Cycle, verdict: Verdict) -> RepEvent:
        kind = EventKind.REP if verdict.counts else EventKind.NO_REP
        index = self._next_index(kind)
        event = RepEvent(
            kind=kind,
            index=index,
            t=cycle.t_end,
            t_start=cycle.attempt.t_start,
            duration=round(cycle.duration, 3),
            quality=round(verdict.quality, 3),
            rom=round(verdict.rom, 3),
            reason_code=verdict.reason_code,
            reason=verdict.reason,
            form_judged=self.form_judged,
            form_reason=self.form_reason,
        )
        self._events.append(event)
        return event

    def _hold(self, shared: Features, t: float) -> list[RepEvent]:
        """Timed holds: accumulate seconds with good form; a form break gives one no-rep."""
        dt = 0.0 if self._hold_t is None else max(0.0, min(t - self._hold_t, 0.5))
        self._hold_t = t
        broken = violated_now(self.definition.rules, shared) if self.form_judged else []
        if not broken:
            self._hold_s += dt
            self._hold_bad_since = None
            self._hold_flagged = False
            return []
        if self._hold_bad_since is None:
            self._hold_bad_since = t
        if self._hold_flagged or t - self._hold_bad_since < 0.5:
            return []
        self._hold_flagged = True
        rule = broken[0]
        index = self._next_index(EventKind.NO_REP)
        event = RepEvent(
            EventKind.NO_REP,
            index,
            t,
            self._hold_bad_since,
            round(t - self._hold_bad_since, 3),
            0.0,
            0.0,
            rule.code,
            rule.message,
        )
        self._events.append(event)
        return [event]

    def _next_index(self, kind: EventKind) -> int:
        """1-based number of the next event of ``kind`` in the set (a resumed set's included)."""
        own = sum(1 for e in self._events if e.kind == kind)
        carried = self._carried
        if carried is None:
            return 1 + own
        return 1 + own + (carried.reps if kind is EventKind.REP else carried.no_reps)

    # -- state --------------------------------------------------------------------------------

    def _publish(
        self, t: float, new: list[RepEvent], message: str | None
    ) -> tuple[WorkoutState, list[RepEvent]]:
        reps = [e for e in self._events if e.kind == EventKind.REP]
        no_reps = len(self._events) - len(reps)
        rep_times = tuple(e.t for e in reps)
        last_reason = next(
            (e.reason for e in reversed(self._events) if e.kind == EventKind.NO_REP), None
        )
        hold_s = self._hold_s
        carried = self._carried
        if carried is not None:
            reps_n, no_reps = carried.reps + len(reps), carried.no_reps + no_reps
            rep_times = carried.rep_times + rep_times
            last_reason = last_reason or carried.last_reason
            hold_s += carried.hold_s
        else:
            reps_n = len(reps)
        pace, tempo_cv = pace_and_tempo(rep_times, t, self.config.pace_window_s)
        phase = self._phase_name()
        if message is None:
            message = self._message(new)
        self._state = replace(
            self._state,
            t=t,
            reps=reps_n,
            no_reps=no_reps,
            phase=phase,
            armed=self._armed,
            pace=pace,
            tempo_cv=tempo_cv,
            last_reason=last_reason,
            rep_times=rep_times,
            message=message,
            hold_s=round(hold_s, 2),
            form_judged=self.form_judged,
            form_reason=self.form_reason,
        )
        return self._state, new

    def _phase_name(self) -> str:
        if not self._armed:
            return "idle"
        if self.definition.kind == "hold":
            return "hold" if self._hold_bad_since is None else "form_break"
        # The side in the middle of a movement (an alternating set's other side is at rest).
        moving = [m for m in self._machines if m.attempt is not None]
        return (moving or self._machines)[0].phase_name

    def _message(self, new: list[RepEvent]) -> str:
        if not self._armed:
            return MSG_POSITION
        if new and new[-1].kind == EventKind.NO_REP:
            return new[-1].reason or "No rep"
        if new:
            note = f": {new[-1].reason}" if new[-1].reason else ""
            return f"Rep {new[-1].index}{note}"
        return self._state.message if self._state.armed else "Go!"
