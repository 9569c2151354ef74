"""What the history store returns: frozen value objects, safe to hand to any thread or page.

ORM objects never leave the store; the web gets these instead (strings stored verbatim: escaping
a player name is the web's job).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hiitpi.core.events import EventKind, RepEvent


def good_share(reps: int, no_reps: int) -> float | None:
    """Share of attempts that counted, or None before the first attempt."""
    attempts = reps + no_reps
    return reps / attempts if attempts else None


@dataclass(frozen=True, slots=True)
class PlayerInfo:
    name: str
    created_at: datetime
    sessions: int = 0
    last_session_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One set: who, what, when, the running totals and how it ended (``status``)."""

    id: int
    player: str
    workout: str
    started_at: datetime
    ended_at: datetime | None
    reps: int
    no_reps: int
    pace: float | None
    backend: str
    source: str
    status: str
    station: str

    @property
    def duration_s(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()

    @property
    def good_share(self) -> float | None:
        return good_share(self.reps, self.no_reps)


@dataclass(frozen=True, slots=True)
class RepRecord:
    """One stored rep or no-rep of a session's timeline."""

    session_id: int
    kind: EventKind
    index: int
    t: float
    t_start: float
    duration: float
    quality: float
    rom: float
    reason_code: str | None
    reason: str | None
    recorded_at: datetime

    def to_event(self) -> RepEvent:
        return RepEvent(
            kind=self.kind,
            index=self.index,
            t=self.t,
            t_start=self.t_start,
            duration=self.duration,
            quality=self.quality,
            rom=self.rom,
            reason_code=self.reason_code,
            reason=self.reason,
        )


@dataclass(frozen=True, slots=True)
class WeeklyTotal:
    """One bar segment of the 7-day leaderboard: a player's good reps at one workout."""

    player: str
    workout: str
    reps: int
    no_reps: int
    sessions: int


@dataclass(frozen=True, slots=True)
class BoardRow:
    """A player's line on one workout's board."""

    player: str
    sessions: int
    reps: int  # total good reps
    no_reps: int
    best_reps: int  # most good reps in one session
    best_session_id: int
    best_session_at: datetime
    best_pace: float | None  # highest pace of a finished session (reps per 30 s)

    @property
    def good_share(self) -> float | None:
        return good_share(self.reps, self.no_reps)
