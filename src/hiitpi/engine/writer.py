"""The recorder's queue and its writer thread: sets, plan runs and fixes on their way to the
history database, written oldest first, one short transaction at a time.

:class:`QueueWriter` is the half of :class:`~hiitpi.engine.recorder.SessionRecorder` that
talks to the database: it never raises a database error (it notes it, waits ``retry_s`` and
retries; every write is idempotent), and once the queue is empty and nothing is open it empties
the journal. The other half (what the engine calls, and the journal's records) is the recorder.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from hiitpi.engine.journal import Journal
from hiitpi.engine.pending import Fix, LooseFix, PendingPlan, PendingSet
from hiitpi.errors import StoreError
from hiitpi.store import HistoryStore, RepConflict

log = logging.getLogger(__name__)


class QueueWriter:
    """The queue (guarded by ``_cond``) and the thread that writes it. Thread-safe."""

    def __init__(
        self,
        history: HistoryStore,
        *,
        station: str,
        background: bool,
        retry_s: float,
        clock: Callable[[], datetime],
        journal: Journal | None,
    ) -> None:
        self.history = history
        self.journal = journal
        self.journal_error: str | None = None
        self._unjournaled: list[dict[str, Any]] = []  # refused by the disk, kept in order
        self.conflicts = 0  # reps the database refused as different from a stored one
        self.station = station
        self.background = background
        self.retry_s = retry_s
        self.last_error: str | None = None
        self._clock = clock
        self._cond = threading.Condition()  # guards the fields below
        self._writing = threading.Lock()  # one writer at a time (the thread, or callers)
        self._sets: list[PendingSet] = []  # oldest first; the last one may be the open set
        self._plans: list[PendingPlan] = []  # oldest first; the last one may be running
        self._last: PendingSet | None = None  # the set finished last (a fix may still come)
        self._loose: list[LooseFix] = []  # fixes of sets no longer queued
        self.last_session_id: int | None = None
        self._last_plan_id: int | None = None
        self._interrupt = False  # close what a crash left active (a plan that will not resume)
        self._retry_at = 0.0  # monotonic time before which the database is left alone
        self._failures = 0
        self._closing = False
        self._thread: threading.Thread | None = None
        self._health_since = time.time()

    @property
    def backlog(self) -> int:
        """Events not yet committed."""
        with self._cond:
            return sum(len(s.events) for s in self._sets)

    def unsaved(self) -> str | None:
        """Why counted reps (or a hold's time) are in memory only, or None when on disk or stored.

        They are when the disk refused the journal and the database has not stored them yet
        (a hold reaches the database only when its set ends), or, without a journal, while the
        database fails: what a message that says "saved" must not claim."""
        with self._cond:
            queued = self._events_queued()
            if self.journal_error is not None:
                holding = any(
                    not s.finished and s.state is not None and s.state.hold_s > 0
                    for s in self._sets
                )
                return f"the disk refused them: {self.journal_error}" if queued or holding else None
            if self.journal is None and self.last_error is not None and queued:
                return f"the database has not stored them: {self.last_error}"
            return None

    def _events_queued(self) -> bool:  # holds _cond
        """Some set has events the database has not committed yet."""
        return any(s.events for s in self._sets)

    def _ensure_thread(self) -> None:  # holds _cond
        if self.background and self._thread is None and not self._closing:
            self._thread = threading.Thread(target=self._run, name="hiitpi-recorder", daemon=True)
            self._thread.start()

    def _open(self) -> PendingSet | None:  # holds _cond
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

    def _journal(self, record: dict[str, Any]) -> None:  # holds _cond
        """Append ``record`` to the journal and fsync it; a failing disk is logged and shown
        in the health (the queue in memory still goes to the database)."""
        if self.journal is None:
            return
        self._unjournaled.append(record)  # in order: those a full disk refused go first
        try:
            self.journal.append(*self._unjournaled)
        except OSError as exc:
            if self.journal_error is None:
                log.error("journal %s: cannot write: %s (reps are in memory only until the "
                          "database has them)", self.journal.path, exc)  # fmt: skip
                self._health_since = time.time()
            self.journal_error = str(exc)
            return
        self._unjournaled.clear()
        if self.journal_error is not None:
            log.info("journal %s: writing again", self.journal.path)
            self.journal_error = None
            self._health_since = time.time()

    def _compact(self) -> None:  # holds _cond
        """Everything journaled is stored and closed: empty the journal."""
        if self.journal is None or self._sets or self._plans or self._loose:
            return
        if self.journal_error is not None:
            return
        try:
            if self.journal.size:
                self.journal.compact()
        except OSError as exc:
            log.warning("journal %s: cannot compact: %s", self.journal.path, exc)

    def _plan_to_close(self) -> PendingPlan | None:  # holds _cond
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
                if first:
                    self._health_since = time.time()
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
                self._health_since = time.time()
            self._compact()
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
                sid = loose.session_id
                sid = sid if sid is not None else self.history.session_by_uuid(loose.set_uuid)
                if sid is None:
                    raise KeyError(f"no set {loose.set_uuid}")
                self._correct(sid, loose.fix)
            except KeyError as exc:  # the set was deleted meanwhile
                log.warning("correction dropped: %s", exc)
            with self._cond:
                self._loose.remove(loose)
            return True
        return False

    def _correct(self, sid: int, fix: Fix) -> None:
        try:
            self.history.add_correction(sid, fix.delta, at=fix.at, uuid=fix.uuid)
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
                known = self.history.plan_session_by_uuid(p.uuid)
                if known is None:
                    self.history.mark_interrupted_sessions(self.station)  # a crash's leftovers
                p.session_id = known or self.history.start_plan_session(
                    p.player, p.plan_id, p.plan_name, p.plan_toml,
                    station=self.station, started_at=p.started_at, uuid=p.uuid,
                )  # fmt: skip
            elif sid is None:
                sid = self._create(s)
                with self._cond:
                    s.session_id = sid
                    self.last_session_id = sid
            elif event is not None:
                try:
                    self.history.record_event(sid, event)
                except RepConflict as exc:  # two counts of one set: a bug, never silent
                    log.error("history: %s (set %s)", exc, s.uuid)
                    with self._cond:
                        self.conflicts += 1
                with self._cond:
                    if s.events and s.events[0] is event:
                        s.events.pop(0)
            elif fix is not None:
                self._correct(sid, fix)
                with self._cond:
                    s.corrections.pop(0)
            elif finished:
                held = s.state.hold_s if s.state is not None else 0.0  # a plank's time
                self.history.finish_session(
                    sid, s.pace, ended_at=s.ended_at, status=s.status, hold_s=held
                )
                # an empty set is not history; an empty block of a plan is (the interval ran)
                if s.plan is None and self.history.discard_session(sid):
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

    def _create(self, s: PendingSet) -> int:
        h = self.history
        sid = h.session_by_uuid(s.uuid)  # a replay: the set is there already
        if sid is None and s.resume and self.journal is None:
            sid = h.find_active_session(self.station, s.player, s.workout)
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
                uuid=s.uuid,
            )
        return sid
