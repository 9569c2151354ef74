"""SessionRecorder: the live engine's writer of history (one set at a time, one station).

The engine calls ``begin`` when an exercise starts, ``on_events`` with whatever the referee
reported for a frame (an empty list is fine and cheap), and ``end`` with the final state. Each
event is committed to the history database at once (see :class:`HistoryStore.record_event`), so
reps already counted survive a crash of the engine or the web.

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
from hiitpi.store import DEFAULT_STATION, HistoryStore

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


class SessionRecorder:
    """Writes the engine's sets to ``history`` as they happen. Thread-safe."""

    def __init__(
        self,
        history: HistoryStore,
        *,
        station: str = DEFAULT_STATION,
        retry_s: float = RETRY_S,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.history = history
        self.station = station
        self.retry_s = retry_s
        self._clock = clock
        self._lock = threading.Lock()
        self._sets: list[_Set] = []  # oldest first; the last one may be the open set
        self._failed_at: float | None = None
        self.last_error: str | None = None

    # --- what the engine calls -----------------------------------------------------------------
    def begin(
        self,
        player: str,
        workout: str,
        backend: str = "",
        source: str = "",
        *,
        resume: bool = False,
    ) -> int | None:
        """Start recording a set; returns its session id (None while the database is away).

        An empty ``player`` records as :data:`GUEST_PLAYER`; a set still open is ended first
        (without a pace: call :meth:`end` with the final state to keep it). ``resume=True``
        continues this station's active session of the same player and workout, as when an
        engine restarts in the middle of a set; otherwise sessions this station left active
        are marked interrupted (their reps kept).
        """
        player = validate_player(player) if player.strip() else GUEST_PLAYER
        with self._lock:
            if self._open is not None:
                self._finish(self._open, None)
            self._sets.append(_Set(player, workout, backend, source, self._clock(), resume))
            self._flush(force=True)
            return self._sets[-1].session_id if self._sets else None

    def on_events(self, events: Sequence[RepEvent]) -> None:
        """Queue ``events`` of the open set and commit them now (each one its own transaction)."""
        with self._lock:
            if events:
                if self._open is None:
                    log.warning("%d event(s) outside a recorded set dropped", len(events))
                    return
                self._open.events.extend(events)
            if self._pending():
                self._flush()

    def end(self, state: WorkoutState | None = None) -> int | None:
        """Close the open set as done with ``state.pace``; returns its session id if stored."""
        with self._lock:
            current = self._open
            if current is None:
                return None
            self._finish(current, None if state is None else state.pace)
            self._flush(force=True)
            return None if any(x is current for x in self._sets) else current.session_id

    def flush(self) -> bool:
        """Retry whatever waits for the database now; True when nothing is left waiting."""
        with self._lock:
            self._flush(force=True)
            return not self._pending()

    # --- state ---------------------------------------------------------------------------------
    @property
    def session_id(self) -> int | None:
        """The open set's session id (None when no set is open or it is not stored yet)."""
        with self._lock:
            return None if self._open is None else self._open.session_id

    @property
    def backlog(self) -> int:
        """Events not yet committed (non-zero only while the database is away)."""
        with self._lock:
            return self._backlog()

    def _backlog(self) -> int:
        return sum(len(s.events) for s in self._sets)

    @property
    def _open(self) -> _Set | None:
        if self._sets and not self._sets[-1].finished:
            return self._sets[-1]
        return None

    def _pending(self) -> bool:
        return any(s.session_id is None or s.events or s.finished for s in self._sets)

    def _finish(self, s: _Set, pace: float | None) -> None:
        s.finished = True
        s.pace = pace
        s.ended_at = self._clock()

    # --- writing -------------------------------------------------------------------------------
    def _flush(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and self._failed_at is not None and now - self._failed_at < self.retry_s:
            return
        try:
            while self._sets:
                s = self._sets[0]
                try:
                    self._write(s)
                except KeyError as exc:  # its session was deleted meanwhile: nothing to add to
                    log.error("set of %r at %s dropped: %s", s.player, s.workout, exc)
                    s.finished = True
                if not s.finished:
                    break
                self._sets.pop(0)
        except StoreError as exc:
            if self._failed_at is None or now - self._failed_at >= self.retry_s:
                log.warning("history not saved yet (%d event(s) waiting): %s", self._backlog(), exc)
            self._failed_at = now
            self.last_error = str(exc)
            return
        self._failed_at = None
        self.last_error = None

    def _write(self, s: _Set) -> None:
        """Bring one set up to date in the database; StoreError leaves the rest queued."""
        h = self.history
        sid = s.session_id
        if sid is None and s.resume:
            sid = h.find_active_session(self.station, s.player, s.workout)
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
        s.session_id = sid
        while s.events:
            h.record_event(sid, s.events[0])
            s.events.pop(0)
        if s.finished:
            h.finish_session(sid, s.pace, ended_at=s.ended_at)
