"""History tables as SQLAlchemy 2.0 typed ORM models: players, sets and their reps, plan
sessions (a plan run: its blocks are sets) and count corrections.

Every timestamp is timezone-aware UTC, on every database: :class:`UTCDateTime` refuses naive
datetimes on write and gives SQLite's naive values back their UTC zone on read.
The schema itself is created and changed only by the Alembic migrations in ``migrations/``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

PLAYER_NAME_LEN = 20
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A ``TIMESTAMP WITH TIME ZONE`` that always holds and returns aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: history timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        # SQLite stores text: keep it naive UTC so that string comparisons order correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SessionStatus(StrEnum):
    ACTIVE = "active"
    DONE = "done"
    INTERRUPTED = "interrupted"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Player(Base):
    __tablename__ = "players"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(PLAYER_NAME_LEN), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    sessions: Mapped[list[WorkoutSession]] = relationship(back_populates="player")


class PlanSession(Base):
    """One run of a workout plan; each of its blocks is a set in ``sessions``."""

    __tablename__ = "plan_sessions"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'done', 'interrupted')", name="status"),
        Index("ix_plan_sessions_player_id_started_at", "player_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    player_id: Mapped[int] = mapped_column(ForeignKey("players.id", ondelete="CASCADE"))
    plan_id: Mapped[str] = mapped_column(String(64))
    plan_name: Mapped[str] = mapped_column(String(64))
    plan_toml: Mapped[str] = mapped_column(Text)  # the plan as it ran (a file may change later)
    station: Mapped[str] = mapped_column(String(64), default="default")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.ACTIVE.value)
    uuid: Mapped[str | None] = mapped_column(String(36), unique=True, index=True)  # journal key


class WorkoutSession(Base):
    """One set of one exercise by one player at one station (table ``sessions``)."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'done', 'interrupted')", name="status"),
        Index("ix_sessions_started_at", "started_at"),
        Index("ix_sessions_player_id_started_at", "player_id", "started_at"),
        Index("ix_sessions_status_station", "status", "station"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    player_id: Mapped[int] = mapped_column(ForeignKey("players.id", ondelete="CASCADE"))
    workout: Mapped[str] = mapped_column(String(64))
    station: Mapped[str] = mapped_column(String(64), default="default")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reps: Mapped[int] = mapped_column(Integer, default=0)
    no_reps: Mapped[int] = mapped_column(Integer, default=0)
    pace: Mapped[float | None] = mapped_column(Float)  # reps per 30 s, set when done
    backend: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.ACTIVE.value)
    # a block of a plan session (all None for a set on its own)
    plan_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_sessions.id", ondelete="CASCADE"), index=True
    )
    block: Mapped[int | None] = mapped_column(Integer)  # 0-based
    round: Mapped[int | None] = mapped_column(Integer)  # 1-based
    target: Mapped[int | None] = mapped_column(Integer)
    # the sum of the +1/-1 fixes in ``corrections``; ``reps`` stays the referee's own count
    correction: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    uuid: Mapped[str | None] = mapped_column(String(36), unique=True, index=True)  # journal key
    # a timed hold's (plank's) seconds held with good form, set when it ends; 0 for rep sets
    hold_s: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")

    player: Mapped[Player] = relationship(back_populates="sessions")
    events: Mapped[list[Rep]] = relationship(back_populates="session")


class Correction(Base):
    """A +1 or -1 a person gave a set's count (table ``corrections``), beside the referee's."""

    __tablename__ = "corrections"
    __table_args__ = (CheckConstraint("delta IN (-1, 1)", name="delta"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    delta: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    uuid: Mapped[str | None] = mapped_column(String(36), unique=True, index=True)  # journal key


class Rep(Base):
    """One rep or no-rep, written the moment the referee judged it (table ``reps``)."""

    __tablename__ = "reps"
    __table_args__ = (
        UniqueConstraint("session_id", "kind", "index", name="uq_reps_session_kind_index"),
        CheckConstraint("kind IN ('rep', 'no_rep')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    t: Mapped[float] = mapped_column(Float)
    t_start: Mapped[float] = mapped_column(Float)
    duration: Mapped[float] = mapped_column(Float)
    quality: Mapped[float] = mapped_column(Float)
    rom: Mapped[float] = mapped_column(Float)
    reason_code: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    session: Mapped[WorkoutSession] = relationship(back_populates="events")
