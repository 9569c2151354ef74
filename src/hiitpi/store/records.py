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
    correction: int = 0  # the +1/-1 fixes; ``reps`` is the referee's own count
    plan_session_id: int | None = None
    block: int | None = None
    round: int | None = None
    target: int | None = None
    hold_s: float = 0.0  # a timed hold's (plank's) seconds held with good form

    @property
    def corrected_reps(self) -> int:
        """The count with the fixes (what the leaderboard uses)."""
        return max(0, self.reps + self.correction)

    @property
    def empty(self) -> bool:
        return self.reps == 0 and self.no_reps == 0 and self.correction == 0 and not self.hold_s

    @property
    def work_pace(self) -> float | None:
        """Corrected reps per 30 s over the set's whole duration (None when it has none)."""
        d = self.duration_s
        return None if not d or d <= 0 else round(self.corrected_reps / d * 30.0, 2)

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
    """One bar segment of the 7-day leaderboard: a player's good reps at one workout, and for
    a timed hold (plank: no reps) the seconds held with good form."""

    player: str
    workout: str
    reps: int
    no_reps: int
    sessions: int
    hold_s: float = 0.0  # a timed hold's (plank's) seconds held with good form


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
    best_pace: float | None  # highest pace of a finished set long enough to judge
    corrected: bool = False  # a count on this row includes a person's fix
    best_hold_s: float = 0.0  # a timed hold's board: the longest hold (its session is the best)

    @property
    def good_share(self) -> float | None:
        return good_share(self.reps, self.no_reps)


@dataclass(frozen=True, slots=True)
class BlockSummary:
    """One block (set) of a plan session, for the blocks-side-by-side view."""

    set: SessionSummary
    pace: float | None  # corrected reps per 30 s of the block
    drift_pct: float | None  # pace vs the first block, percent (+ faster)
    drift: str | None  # steady | slowing | faster


@dataclass(frozen=True, slots=True)
class PlanSessionSummary:
    """A plan run: its blocks side by side and the drift of its reps."""

    id: int
    player: str
    plan_id: str
    plan_name: str
    started_at: datetime
    ended_at: datetime | None
    status: str
    station: str
    blocks: tuple[BlockSummary, ...]
    drift_pct: float | None  # the latest reps vs the session's first reps
    drift: str | None

    @property
    def reps(self) -> int:
        return sum(b.set.reps for b in self.blocks)

    @property
    def corrected_reps(self) -> int:
        return sum(b.set.corrected_reps for b in self.blocks)

    @property
    def no_reps(self) -> int:
        return sum(b.set.no_reps for b in self.blocks)
