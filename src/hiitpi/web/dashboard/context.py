"""What every page and callback needs: the stores, the settings and the exercise list."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from hiitpi.live.base import LiveStore
from hiitpi.referee import ExerciseDefinition, list_exercises

if TYPE_CHECKING:
    from hiitpi.config import Settings
    from hiitpi.store import HistoryStore

GUEST_PLAYER = "guest"  # the recorder's name for a set nobody logged in for
_START_TTL_S = 3.0  # how long a set's start time is cached
_NO_START_TTL_S = 1.0  # ... and "no set recorded yet" (the recorder may be a moment behind)


@dataclass
class Dashboard:
    """Shared, read-mostly state of one mounted dashboard (safe across web threads)."""

    store: LiveStore
    history: HistoryStore | None
    settings: Settings
    exercises: list[ExerciseDefinition] = field(default_factory=list_exercises)
    _starts: dict[tuple[str, str], tuple[float, datetime | None]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def labels(self) -> dict[str, str]:
        return {ex.id: ex.label for ex in self.exercises}

    def known(self, workout: str | None) -> bool:
        return workout is not None and any(ex.id == workout for ex in self.exercises)

    def player_names(self) -> list[str]:
        if self.history is None:
            return []
        return [p.name for p in self.history.list_players()]

    def set_started_at(self, player: str, workout: str) -> datetime | None:
        """Start of the set being recorded for ``player`` at ``workout`` (cached a few seconds).

        The elapsed-time indicator reads it, so every viewer and every web process shows the
        same clock without the engine publishing one.
        """
        if self.history is None:
            return None
        key = (player or GUEST_PLAYER, workout)
        now = time.monotonic()
        with self._lock:
            hit = self._starts.get(key)
            ttl = _START_TTL_S if hit is not None and hit[1] is not None else _NO_START_TTL_S
            if hit is not None and now - hit[0] < ttl:
                return hit[1]
        started: datetime | None = None
        session_id = self.history.find_active_session(self.store.station, key[0], workout)
        if session_id is not None:
            summary = self.history.get_session(session_id)
            started = None if summary is None else summary.started_at
        with self._lock:
            self._starts[key] = (now, started)
        return started

    def elapsed_s(self, player: str, workout: str) -> float | None:
        started = self.set_started_at(player, workout)
        if started is None:
            return None
        if started.tzinfo is None:  # SQLite hands back naive UTC
            started = started.replace(tzinfo=UTC)
        return (datetime.now(UTC) - started).total_seconds()
