"""SessionRecorder: the live engine's writer of history (one set at a time, one station).

The engine calls ``begin`` when an exercise starts, ``on_events`` with whatever the referee
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
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hiitpi.core.events import RepEvent, WorkoutState
from hiitpi.errors import StoreError
from hiitpi.live.base import validate_player
from hiitpi.store import DEFAULT_STATION, HistoryStore, SessionStatus

log = logging.getLogger(__name__)

GUEST_PLAYER = "guest"  # who a set belongs to when nobody has logged in
RETRY_S = 5.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


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

    def has_work(self) -> bool:
        return self.session_id is None or bool(self.events) or self.finished


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
    ) -> None:
        """Start recording a set of ``workout`` by ``player``.

        An empty ``player`` records as :data:`GUEST_PLAYER`; a set still open is ended first
        (as done, without a pace: call :meth:`end` with the final state to keep it).
        ``resume=True`` continues this station's active session of the same player and workout,
        as when an engine restarts in the middle of a set; otherwise the sessions this station
        left active are marked interrupted (their reps kept).
        """
        player = validate_player(player) if player.strip() else GUEST_PLAYER
        with self._cond:
            if self._closing:
                raise RuntimeError("SessionRecorder is closed")
            if (current := self._open()) is not None:
                self._finish(current, None, SessionStatus.DONE)
            self._sets.append(_Set(player, workout, backend, source, self._clock(), resume))
            if self.background and self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="hiitpi-recorder", daemon=True
                )
                self._thread.start()
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

    def end(self, state: WorkoutState | None = None, *, interrupted: bool = False) -> None:
        """Close the open set: ``done`` with ``state.pace``, or ``interrupted`` (e.g. shutdown)."""
        status = SessionStatus.INTERRUPTED if interrupted else SessionStatus.DONE
        with self._cond:
            if (current := self._open()) is None:
                return
            self._finish(current, None if state is None else state.pace, status)
            self._cond.notify_all()
        self._write_now(force=True)

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
    def backlog(self) -> int:
        """Events not yet committed."""
        with self._cond:
            return sum(len(s.events) for s in self._sets)

    # --- internals (the caller holds self._cond where noted) -----------------------------------
    def _open(self) -> _Set | None:  # holds _cond
        if self._sets and not self._sets[-1].finished:
            return self._sets[-1]
        return None

    def _has_work(self) -> bool:  # holds _cond
        return any(s.has_work() for s in self._sets)

    def _finish(self, s: _Set, pace: float | None, status: SessionStatus) -> None:  # holds _cond
        s.finished, s.pace, s.status, s.ended_at = True, pace, status, self._clock()

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

    def _step(self) -> bool:
        """One database write for the oldest set; False when there is nothing to write."""
        with self._cond:
            if not self._sets:
                return False
            s = self._sets[0]
            sid, finished = s.session_id, s.finished
            event = s.events[0] if s.events else None
        try:
            if sid is None:
                sid = self._create(s)
                with self._cond:
                    s.session_id = sid
            elif event is not None:
                self.history.record_event(sid, event)
                with self._cond:
                    if s.events and s.events[0] is event:
                        s.events.pop(0)
            elif finished:
                self.history.finish_session(sid, s.pace, ended_at=s.ended_at, status=s.status)
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
            h.mark_interrupted_sessions(self.station)
            sid = h.start_session(
                s.player,
                s.workout,
                s.backend,
                s.source,
                station=self.station,
                started_at=s.started_at,
            )
        return sid
