"""SessionRecorder: the live engine's writer of history (one set at a time, one station).

The engine calls ``begin_plan``/``end_plan`` around a plan's sets, ``begin`` when an exercise
starts, ``on_events`` with whatever the referee
reported for a frame (an empty list is fine and costs nothing), and ``end`` with the final state.
Every rep and no-rep is committed to the history database as it happens, one short transaction
each (:meth:`HistoryStore.record_event`, which also bumps the session's totals), so reps already
counted survive a crash of the engine or of the web.

By default a writer thread does the committing, so the engine's frame loop never waits for a
disk flush or a database on the network: an event is on disk a few milliseconds after the
referee judged it. ``background=False`` commits inside the engine's call instead (when the call
returns, the event is stored).

The recorder never raises a database error into the engine: while the database is away it keeps
sets and events in memory, in order, and retries every ``retry_s`` (events are idempotent, so a
retry never counts twice). Only a bad player name (ValueError) is raised, by ``begin``.
A set that ends with 0 reps, 0 no-reps and no fix is deleted, not saved (it would rank); a
plan's block is kept even when empty (its session shows every block; boards skip it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hiitpi.core.events import RepEvent, WorkoutState
from hiitpi.core.names import DEFAULT_STATION, player_or_guest
from hiitpi.core.names import GUEST_PLAYER as GUEST_PLAYER  # re-exported: defined in names
from hiitpi.errors import StoreError
from hiitpi.store import HistoryStore, SessionStatus

log = logging.getLogger(__name__)

RETRY_S = 5.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False)
class _PlanRun:
    """A plan session on its way to the database: created before its first set."""

    player: str
    plan_id: str
    plan_name: str
    plan_toml: str
    started_at: datetime
    session_id: int | None = None
    finished: bool = False
    ended_at: datetime | None = None
    status: SessionStatus = SessionStatus.DONE


@dataclass(eq=False)
class _Set:
    """One set on its way to the database: created lazily, events queued, finished last."""

    player: str
    workout: str
    backend: str
    source: str
    started_at: datetime
    resume: bool
    session_id: int | None = None
    events: list[RepEvent] = field(default_factory=list)
    finished: bool = False
    pace: float | None = None
    ended_at: datetime | None = None
    status: SessionStatus = SessionStatus.DONE
    plan: _PlanRun | None = None
    block: int | None = None
    round: int | None = None
    target: int | None = None
    corrections: list[int] = field(default_factory=list)

    def has_work(self) -> bool:
        return self.session_id is None or bool(self.events or self.corrections) or self.finished


class SessionRecorder:
    """Writes the engine's sets to ``history`` as they happen. Thread-safe."""

    def __init__(
        self,
        history: HistoryStore,
        *,
        station: str = DEFAULT_STATION,
        background: bool = True,
        retry_s: float = RETRY_S,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.history = history
        self.station = station
        self.background = background
        self.retry_s = retry_s
        self.last_error: str | None = None
        self._clock = clock
        self._cond = threading.Condition()  # guards the fields below
        self._writing = threading.Lock()  # one writer at a time (the thread, or callers)
        self._sets: list[_Set] = []  # oldest first; the last one may be the open set
        self._plans: list[_PlanRun] = []  # oldest first; the last one may be running
        self._last: _Set | None = None  # the set finished last (a fix may still come)
        self._loose: list[tuple[int, int]] = []  # (session id, delta) of sets already written
        self.last_session_id: int | None = None
        self._last_plan_id: int | None = None
        self._interrupt = False  # close what a crash left active (a plan that will not resume)
        self._retry_at = 0.0  # monotonic time before which the database is left alone
        self._failures = 0
        self._closing = False
        self._thread: threading.Thread | None = None

    # --- what the engine calls (never blocks on the database in background mode) --------------
    def begin(
        self,
        player: str,
        workout: str,
        backend: str = "",
        source: str = "",
        *,
        resume: bool = False,
        block: int | None = None,
        round: int | None = None,
        target: int | None = None,
    ) -> None:
        """Start recording a set of ``workout`` by ``player``.

        ``block``/``round``/``target``: the set is that block of the running plan session
        (:meth:`begin_plan`).

        An empty ``player`` records as :data:`GUEST_PLAYER`; a set still open is ended first
        (as done, without a pace: call :meth:`end` with the final state to keep it).
        ``resume=True`` continues this station's active session of the same player and workout,
        as when an engine restarts in the middle of a set; otherwise the sessions this station
        left active are marked interrupted (their reps kept).
        """
        player = player_or_guest(player)
        with self._cond:
            if self._closing:
                raise RuntimeError("SessionRecorder is closed")
            if (current := self._open()) is not None:
                self._finish(current, None, SessionStatus.DONE)
            plan = self._plans[-1] if self._plans and not self._plans[-1].finished else None
            if block is None:
                plan = None
            self._sets.append(
                _Set(player, workout, backend, source, self._clock(), resume, plan=plan,
                     block=block, round=round, target=target)
            )  # fmt: skip
            self._ensure_thread()
            self._cond.notify_all()
        self._write_now(force=True)

    def on_events(self, events: Sequence[RepEvent]) -> None:
        """Record ``events`` of the open set (each committed in its own transaction)."""
        if not events and self.background:
            return
        with self._cond:
            if events:
                if (current := self._open()) is None:
                    log.warning("%d event(s) outside a recorded set dropped", len(events))
                    return
                current.events.extend(events)
                self._cond.notify_all()
        self._write_now()

    def wait_stored(self, timeout: float) -> bool:
        """Wait until every event handed over is committed; True when none waits.

        Returns at once (False) while the database is known to be away (waiting to retry): the
        referee must go on, the events stay queued in order.
        """

        def stored() -> bool:
            return not any(s.events for s in self._sets)

        with self._cond:
            if not self.background or stored():
                return stored()
            self._cond.wait_for(lambda: stored() or time.monotonic() < self._retry_at, timeout)
            return stored()

    def end(self, state: WorkoutState | None = None, *, interrupted: bool = False) -> None:
        """Close the open set: ``done`` with ``state.pace``, or ``interrupted`` (e.g. shutdown)."""
        status = SessionStatus.INTERRUPTED if interrupted else SessionStatus.DONE
        with self._cond:
            if (current := self._open()) is None:
                return
            self._finish(current, None if state is None else state.pace, status)
            self._cond.notify_all()
        self._write_now(force=True)

    def begin_plan(self, player: str, plan_id: str, plan_name: str, plan_toml: str) -> None:
        """A plan session starts: the sets begun with a ``block`` until :meth:`end_plan` are
        its blocks. A plan session still running is ended first."""
        player = player_or_guest(player)
        with self._cond:
            self._end_plan(SessionStatus.DONE)
            self._plans.append(_PlanRun(player, plan_id, plan_name, plan_toml, self._clock()))
            self._cond.notify_all()

    def end_plan(self, *, interrupted: bool = False) -> None:
        """The running plan session is over (its open set, if any, is ended first)."""
        status = SessionStatus.INTERRUPTED if interrupted else SessionStatus.DONE
        with self._cond:
            if (current := self._open()) is not None and current.plan is not None:
                self._finish(current, None, status)
            self._end_plan(status)
            self._cond.notify_all()
        self._write_now(force=True)

    def interrupt_leftovers(self) -> None:
        """Close as ``interrupted`` the sets and plan sessions this station left active (reps
        kept): after a crash, for a plan that does not resume."""
        with self._cond:
            self._interrupt = True
            self._ensure_thread()
            self._cond.notify_all()
        self._write_now(force=True)

    def correct(self, delta: int, *, last: bool = False) -> bool:
        """A person's +1/-1 on the open set (or the set finished last); False if there is none.

        Stored beside the referee's count (never changing it); a fix that would take the
        count below 0 is refused by the store and logged.
        """
        if delta not in (1, -1):
            raise ValueError(f"a correction is +1 or -1, got {delta!r}")
        with self._cond:
            target = self._last if last else self._open()
            if target is None:
                return False
            if target in self._sets:
                target.corrections.append(delta)
            elif target.session_id is not None:
                self._loose.append((target.session_id, delta))
            else:
                return False
            self._cond.notify_all()
        self._write_now(force=True)
        return True

    # --- what the owner calls ------------------------------------------------------------------
    def flush(self, timeout: float = 10.0) -> bool:
        """Write whatever waits now (retrying at once); True when nothing is left waiting."""
        with self._cond:
            self._retry_at = 0.0
            failures = self._failures
            self._cond.notify_all()
            if self.background:
                self._cond.wait_for(
                    lambda: not self._has_work() or self._failures > failures, timeout
                )
        if not self.background:
            self._drain()
        with self._cond:
            return not self._has_work()

    def close(self, timeout: float = 10.0) -> bool:
        """Flush, then stop the writer thread; True when everything was stored."""
        saved = self.flush(timeout)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        if not saved:
            log.error("history: %d event(s) could not be saved: %s", self.backlog, self.last_error)
        return saved

    @property
    def session_id(self) -> int | None:
        """The open set's session id (None when no set is open or it is not stored yet)."""
        with self._cond:
            current = self._open()
            return None if current is None else current.session_id

    @property
    def plan_session_id(self) -> int | None:
        """The running (or last) plan session's id, once it is stored."""
        with self._cond:
            return self._plans[-1].session_id if self._plans else self._last_plan_id

    @property
    def backlog(self) -> int:
        """Events not yet committed."""
        with self._cond:
            return sum(len(s.events) for s in self._sets)

    # --- internals (the caller holds self._cond where noted) -----------------------------------
    def _ensure_thread(self) -> None:  # holds _cond
        if self.background and self._thread is None and not self._closing:
            self._thread = threading.Thread(target=self._run, name="hiitpi-recorder", daemon=True)
            self._thread.start()

    def _open(self) -> _Set | None:  # holds _cond
        if self._sets and not self._sets[-1].finished:
            return self._sets[-1]
        return None

    def _has_work(self) -> bool:  # holds _cond
        return (
            any(s.has_work() for s in self._sets)
            or bool(self._loose)
            or self._interrupt
            or self._plan_to_close() is not None
        )

    def _finish(self, s: _Set, pace: float | None, status: SessionStatus) -> None:  # holds _cond
        s.finished, s.pace, s.status, s.ended_at = True, pace, status, self._clock()
        self._last = s

    def _end_plan(self, status: SessionStatus) -> None:  # holds _cond
        if self._plans and not self._plans[-1].finished:
            p = self._plans[-1]
            p.finished, p.status, p.ended_at = True, status, self._clock()

    def _plan_to_close(self) -> _PlanRun | None:  # holds _cond
        """The oldest finished plan session none of whose sets wait to be written."""
        for p in self._plans:
            if p.finished and not any(s.plan is p for s in self._sets):
                return p
        return None

    def _write_now(self, *, force: bool = False) -> None:
        """Synchronous mode: write in the caller's thread (unless waiting to retry)."""
        if self.background:
            return
        if force or time.monotonic() >= self._retry_at:
            self._drain()

    def _run(self) -> None:
        """The writer thread: write while there is work, wait for more (or for a retry)."""
        while True:
            with self._cond:
                while not (self._has_work() and time.monotonic() >= self._retry_at):
                    if self._closing:
                        return
                    wait = self._retry_at - time.monotonic() if self._has_work() else None
                    self._cond.wait(wait)
            self._drain()

    def _drain(self) -> None:
        """Write until nothing is left; on a database error, note it and wait ``retry_s``."""
        try:
            with self._writing:
                while self._step():
                    pass
        except StoreError as exc:
            with self._cond:
                first = self.last_error is None
                self.last_error = str(exc)
                self._retry_at = time.monotonic() + self.retry_s
                self._failures += 1
                self._cond.notify_all()
            log.warning(
                "history %s (%d event(s) waiting, retry in %.0f s): %s",
                "unavailable" if first else "still unavailable",
                self.backlog,
                self.retry_s,
                exc,
            )
            return
        with self._cond:
            back, self.last_error = self.last_error is not None, None
        if back:
            log.info("history database back: everything waiting is saved")

    def _step_plans(self) -> bool:
        """Close a finished plan session and write loose fixes; True when something was done."""
        with self._cond:
            plan = self._plan_to_close()
            loose = self._loose[0] if self._loose else None
            interrupt = self._interrupt
        if interrupt:
            self.history.mark_interrupted_sessions(self.station)
            with self._cond:
                self._interrupt = False
            return True
        if plan is not None:
            if plan.session_id is not None:
                try:
                    self.history.finish_plan_session(
                        plan.session_id, ended_at=plan.ended_at, status=plan.status
                    )
                    self._last_plan_id = plan.session_id
                except KeyError as exc:  # deleted meanwhile: nothing to close
                    log.warning("plan session dropped: %s", exc)
            with self._cond:
                self._plans.remove(plan)
            return True
        if loose is not None:
            try:
                self._correct(*loose)
            except KeyError as exc:  # the set was deleted meanwhile
                log.warning("correction dropped: %s", exc)
            with self._cond:
                self._loose.remove(loose)
            return True
        return False

    def _correct(self, sid: int, delta: int) -> None:
        try:
            self.history.add_correction(sid, delta)
        except ValueError as exc:
            log.warning("correction of set %d refused: %s", sid, exc)

    def _step(self) -> bool:
        """One database write for the oldest set; False when there is nothing to write."""
        if self._step_plans():
            return True
        with self._cond:
            if not self._sets:
                return False
            s = self._sets[0]
            sid, finished = s.session_id, s.finished
            event = s.events[0] if s.events else None
            fix = s.corrections[0] if s.corrections else None
        try:
            if s.plan is not None and s.plan.session_id is None:
                p = s.plan
                self.history.mark_interrupted_sessions(self.station)  # a crash's leftovers
                p.session_id = self.history.start_plan_session(
                    p.player, p.plan_id, p.plan_name, p.plan_toml,
                    station=self.station, started_at=p.started_at,
                )  # fmt: skip
            elif sid is None:
                sid = self._create(s)
                with self._cond:
                    s.session_id = sid
                    self.last_session_id = sid
            elif event is not None:
                self.history.record_event(sid, event)
                with self._cond:
                    if s.events and s.events[0] is event:
                        s.events.pop(0)
            elif fix is not None:
                self._correct(sid, fix)
                with self._cond:
                    s.corrections.pop(0)
            elif finished:
                # an empty set is not history; an empty block of a plan is (the interval ran)
                if s.plan is not None or not self.history.discard_session(sid):
                    self.history.finish_session(sid, s.pace, ended_at=s.ended_at, status=s.status)
                else:
                    with self._cond:
                        s.session_id = None  # gone: there is nothing left to fix
                with self._cond:
                    self._sets.pop(0)
            else:
                return False  # the open set is up to date
        except KeyError as exc:  # its session was deleted meanwhile: nothing to add to
            log.error("set of %r at %s dropped: %s", s.player, s.workout, exc)
            with self._cond:
                self._sets.remove(s)
        with self._cond:
            self._cond.notify_all()
        return True

    def _create(self, s: _Set) -> int:
        h = self.history
        sid = h.find_active_session(self.station, s.player, s.workout) if s.resume else None
        if sid is None:
            h.mark_interrupted_sessions(
                self.station, keep_plan=None if s.plan is None else s.plan.session_id
            )
            sid = h.start_session(
                s.player,
                s.workout,
                s.backend,
                s.source,
                station=self.station,
                started_at=s.started_at,
                plan_session_id=None if s.plan is None else s.plan.session_id,
                block=s.block,
                round=s.round,
                target=s.target,
            )
        return sid
