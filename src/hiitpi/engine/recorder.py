"""SessionRecorder: the live engine's writer of history (one set at a time, one station).

The engine calls ``begin_plan``/``end_plan`` around a plan's sets, ``begin`` when an exercise
starts, ``on_events`` with whatever the referee reported for a frame (an empty list is fine and
costs nothing), and ``end`` with the final state.

A rep is durable when the referee counts it: with a :class:`~hiitpi.engine.journal.Journal`
(the live app always has one) every call appends its record and fsyncs it *before* returning,
so when the engine publishes a count or answers Done!, it survives any crash. The history
database then gets it from a writer thread, one short transaction per event
(:meth:`HistoryStore.record_event`, which also bumps the session's totals). ``end`` waits a
moment for the set's end to reach the database too, unless the database is known to be away.

The recorder never raises a database error into the engine: while the database is away it keeps
sets and events queued, in order (and in the journal), and retries every ``retry_s``. At
start-up the journal is replayed into the database: every set, plan run and fix has a uuid and
every rep an index, so a replay stores nothing twice; a *different* rep under a stored index is
a :class:`~hiitpi.store.RepConflict`, logged as an error. The set the journal left open is
offered to the engine (:meth:`SessionRecorder.open_set`) to resume or close. Once everything in
the journal is stored and closed, the journal is emptied. Without a journal (tests, tools) the
queue lives in memory only. Only a bad player name (ValueError) is raised, by ``begin``.

A set that ends with 0 reps, 0 no-reps and no fix is deleted, not saved (it would rank); a
plan's block is kept even when empty (its session shows every block; boards skip it).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hiitpi.core.events import RepEvent, WorkoutState
from hiitpi.core.names import DEFAULT_STATION, player_or_guest
from hiitpi.core.names import GUEST_PLAYER as GUEST_PLAYER  # re-exported: defined in names
from hiitpi.engine.journal import Journal
from hiitpi.engine.pending import (
    Fix,
    LooseFix,
    OpenSet,
    PendingPlan,
    PendingSet,
    fix_record,
    recover,
)
from hiitpi.engine.writer import QueueWriter
from hiitpi.errors import StoreError
from hiitpi.live.base import component
from hiitpi.store import HistoryStore, SessionStatus

log = logging.getLogger(__name__)

RETRY_S = 5.0
END_WAIT_S = 0.5  # longest Done! waits for the database (the journal already has the end)
# a timed hold (plank) counts no events while it grows: its state is journaled each time the
# held time has grown this much, so a crash mid-hold loses at most this much of it
HOLD_JOURNAL_S = 1.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SessionRecorder(QueueWriter):
    """Writes the engine's sets to ``history`` as they happen (journaled first). Thread-safe."""

    def __init__(
        self,
        history: HistoryStore,
        *,
        station: str = DEFAULT_STATION,
        background: bool = True,
        retry_s: float = RETRY_S,
        clock: Callable[[], datetime] = _utcnow,
        journal: Journal | None = None,
        end_wait_s: float = END_WAIT_S,
    ) -> None:
        """``journal``: the station's journal, owned by the recorder from now on (replayed
        into ``history`` at once, closed by :meth:`close`)."""
        super().__init__(
            history, station=station, background=background, retry_s=retry_s, clock=clock,
            journal=journal,
        )  # fmt: skip
        self.end_wait_s = end_wait_s
        self._hold_mark = math.inf  # the open set's journaled hold time (inf: none open)
        if journal is not None:
            found = recover(journal.records())
            self._plans, self._sets, self._loose = found.plans, found.sets, found.loose
            if self._sets or self._plans or self._loose:
                log.info(
                    "journal %s: replaying %d set(s), %d event(s) into the history database",
                    journal.path, len(self._sets), sum(len(x.events) for x in self._sets),
                )  # fmt: skip
                self._last = next((x for x in reversed(self._sets) if x.finished), None)
                with self._cond:
                    self._ensure_thread()
                self._write_now(force=True)

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
        owner: str | None = None,
    ) -> None:
        """Start recording a set of ``workout`` by ``player``.

        ``block``/``round``/``target``: the set is that block of the running plan session
        (:meth:`begin_plan`).

        An empty ``player`` records as :data:`GUEST_PLAYER`; a set still open is ended first
        (as done, without a pace: call :meth:`end` with the final state to keep it).
        ``resume=True`` continues the set the journal left open (:meth:`open_set`) when it is
        of the same player and workout (without a journal: this station's active session of
        them in the database), as when an engine restarts in the middle of a set; otherwise the
        sessions this station left active are marked interrupted (their reps kept).
        ``owner``: the browser token that started it (journaled, so a resumed set keeps it).
        """
        player = player_or_guest(player)
        with self._cond:
            if self._closing:
                raise RuntimeError("SessionRecorder is closed")
            current = self._open()
            if resume and current is not None and (current.player, current.workout) == (
                player, workout
            ):  # fmt: skip
                current.recovered = False  # the same set goes on, its uuid and its indices
                self._hold_mark = current.state.hold_s if current.state is not None else 0.0
                self._ensure_thread()
                return
            if current is not None:
                status = SessionStatus.INTERRUPTED if current.recovered else SessionStatus.DONE
                self._finish(current, None, status)
            plan = self._plans[-1] if self._plans and not self._plans[-1].finished else None
            if block is None:
                plan = None
            new = PendingSet(player, workout, backend, source, self._clock(), resume, plan=plan,
                       block=block, round=round, target=target, owner=owner)  # fmt: skip
            self._sets.append(new)
            self._journal(new.begin_record(self.station))
            self._hold_mark = 0.0
            self._ensure_thread()
            self._cond.notify_all()
        self._write_now(force=True)

    def on_events(self, events: Sequence[RepEvent], state: WorkoutState | None = None) -> None:
        """Record ``events`` of the open set, ``state`` the referee's state after them: in the
        journal (fsynced) before this returns, then each committed in its own transaction.
        Without events, a hold that has grown by :data:`HOLD_JOURNAL_S` since it was last
        journaled is journaled (its state alone: what a resumed set carries on from)."""
        held = not events and state is not None and state.hold_s >= self._hold_mark + HOLD_JOURNAL_S
        if not events and not held and self.background:
            return
        with self._cond:
            if events or held:
                if (current := self._open()) is None:
                    if events:
                        log.warning("%d event(s) outside a recorded set dropped", len(events))
                    return
                self._journal(current.events_record(events, state))
                current.events.extend(events)
                current.state = state if state is not None else current.state
                if state is not None:
                    self._hold_mark = state.hold_s
                self._cond.notify_all()
        self._write_now()

    def wait_stored(self, timeout: float) -> bool:
        """Wait until every event handed over is committed; True when none waits.

        Returns at once (False) while the database is known to be away (waiting to retry): the
        referee must go on, the events stay queued in order.
        """

        def stored() -> bool:
            return not self._events_queued()

        with self._cond:
            if not self.background or stored():
                return stored()
            self._cond.wait_for(lambda: stored() or time.monotonic() < self._retry_at, timeout)
            return stored()

    def end(self, state: WorkoutState | None = None, *, interrupted: bool = False) -> None:
        """Close the open set: ``done`` with ``state.pace``, or ``interrupted`` (e.g. shutdown).

        Durable when it returns: journaled, and stored when the database answers within
        ``end_wait_s`` (Done! must never reopen after a crash, whatever is told next).
        """
        status = SessionStatus.INTERRUPTED if interrupted else SessionStatus.DONE
        with self._cond:
            if (current := self._open()) is None:
                return
            self._finish(current, None if state is None else state.pace, status, state)
            self._cond.notify_all()
        self._write_now(force=True)
        if self.background:
            with self._cond:
                self._cond.wait_for(
                    lambda: current not in self._sets or time.monotonic() < self._retry_at,
                    self.end_wait_s,
                )

    def open_set(self) -> OpenSet | None:
        """The set still open (left by a crash, or running): what the engine resumes from.

        Its state is the journal's; should the database hold a higher rep index (it never
        should: the database is written from the journal), the count goes on from there, so
        that indices never collide.
        """
        with self._cond:
            s = self._open()
            if s is None:
                return None
            state, sid = s.state, s.session_id
            player = "" if s.player == GUEST_PLAYER else s.player  # as the engine names them
            found = OpenSet(s.uuid, player, s.owner, s.workout, state, s.plan is not None)
        try:
            sid = sid if sid is not None else self.history.session_by_uuid(found.uuid)
            reps, no_reps = (0, 0) if sid is None else self.history.last_indices(sid)
        except StoreError:  # the database is away: the journal alone decides
            return found
        base = state or WorkoutState(exercise=found.workout, t=0.0)
        if reps > base.reps or no_reps > base.no_reps:
            log.error(
                "set %s: the database holds rep %d / no-rep %d, the journal %d / %d: "
                "counting on from the higher", found.uuid, reps, no_reps, base.reps, base.no_reps,
            )  # fmt: skip
            base = replace(base, reps=max(reps, base.reps), no_reps=max(no_reps, base.no_reps))
            return replace(found, state=base)
        return found

    @property
    def plan_open(self) -> bool:
        """A plan session is running (or a crash left one open)."""
        with self._cond:
            return bool(self._plans) and not self._plans[-1].finished

    def begin_plan(self, player: str, plan_id: str, plan_name: str, plan_toml: str) -> None:
        """A plan session starts: the sets begun with a ``block`` until :meth:`end_plan` are
        its blocks. A plan session still running is ended first."""
        player = player_or_guest(player)
        with self._cond:
            self._end_plan(SessionStatus.DONE)
            plan = PendingPlan(player, plan_id, plan_name, plan_toml, self._clock())
            self._plans.append(plan)
            self._journal(plan.begin_record())
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
            fix = Fix(delta, self._clock())
            if target in self._sets:
                target.corrections.append(fix)
            elif target.session_id is not None:
                self._loose.append(LooseFix(target.uuid, target.session_id, fix))
            else:
                return False
            self._journal(fix_record(target.uuid, fix))
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
            log.error(
                "history: %d event(s) not saved yet: %s (%s)", self.backlog, self.last_error,
                "they stay in the journal" if self.journal is not None else "lost",
            )  # fmt: skip
        if self.journal is not None:
            self.journal.close()
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

    def health(self) -> dict[str, Any]:
        """The history database as the recorder sees it, for ``EngineStatus.health``:
        ``backlog`` counts the journal's entries not yet in the database."""
        with self._cond:
            backlog = (
                sum(
                    len(s.events) + len(s.corrections) + (s.session_id is None) + s.finished
                    for s in self._sets
                )
                + len(self._loose)
                + sum(p.session_id is None or p.finished for p in self._plans)
            )
            error = self.last_error
            if self.journal_error is not None:
                error = f"journal: {self.journal_error}" + (f"; {error}" if error else "")
            elif self.conflicts:
                error = f"{self.conflicts} rep(s) conflicted with stored ones (a bug: see log)"
            ok = self.last_error is None and self.journal_error is None
            return component(ok, "ok" if ok else "down", error, self._health_since, backlog=backlog)

    # --- internals (the caller holds self._cond) -----------------------------------------------
    def _finish(
        self,
        s: PendingSet,
        pace: float | None,
        status: SessionStatus,
        state: WorkoutState | None = None,
    ) -> None:  # holds _cond
        s.state = state if state is not None else s.state
        ended_at = self._clock()
        if s.recovered and s.state is not None:
            # a crash left it open and it is closed now, maybe hours later: it ended when its
            # last state was journaled (its clock runs from the set's first frame)
            last = s.started_at + timedelta(seconds=max(0.0, s.state.t))
            ended_at = min(ended_at, last)
        s.finished, s.pace, s.status, s.ended_at = True, pace, status, ended_at
        self._last = s
        self._hold_mark = math.inf
        self._journal(s.end_record())

    def _end_plan(self, status: SessionStatus) -> None:  # holds _cond
        if self._plans and not self._plans[-1].finished:
            p = self._plans[-1]
            p.finished, p.status, p.ended_at = True, status, self._clock()
            self._journal(p.end_record())
