"""The history store: players, sessions and reps, written as they happen.

Every method is one short transaction on its own connection (a ``sessionmaker``), so one
:class:`HistoryStore` can be shared by the engine thread and every web thread. Each rep or no-rep
is committed the moment the referee reports it, together with the session's running totals, so a
crash of the engine or the web loses nothing already counted; a set left ``active`` by a crash is
closed later by :meth:`HistoryStore.mark_interrupted_sessions`, keeping its reps.

Sets, plan sessions and fixes may carry the uuid the station's journal gave them: writing one
again (a journal replayed after an outage or a crash) finds the row already there instead of
adding a second. A rep replayed twice is ignored; a *different* rep under an index already
stored is a :class:`RepConflict` (two writers numbering one set: a bug, never silent).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hiitpi.core.events import EventKind, RepEvent
from hiitpi.core.names import DEFAULT_STATION, history_player, normalize_player
from hiitpi.store import db, queries
from hiitpi.store.models import (
    Correction,
    PlanSession,
    Player,
    Rep,
    SessionStatus,
    WorkoutSession,
    utcnow,
)
from hiitpi.store.records import (
    BoardRow,
    PlanSessionSummary,
    PlayerInfo,
    RepRecord,
    SessionSummary,
    WeeklyTotal,
)

log = logging.getLogger(__name__)


class RepConflict(ValueError):
    """A rep or no-rep whose index the set already holds with different values: two counts of
    one set disagree, which means a bug (replays of the same event are not conflicts)."""


def _aware(when: datetime | None) -> datetime:
    if when is None:
        return utcnow()
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when!r}: pass a timezone-aware time")
    return when


class HistoryStore:
    """The history database at ``url``, migrated to the newest schema on open.

    Raises :class:`~hiitpi.errors.StoreError` (URL named, password hidden) when the URL is bad
    or the database unreachable, and from any method when the database fails.
    """

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.engine: Engine = db.make_engine(url)
        self.url = db.redact(self.engine.url)
        try:
            if migrate:
                db.upgrade(self.engine)
        except BaseException:
            self.engine.dispose()
            raise
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"HistoryStore({self.url!r})"

    @contextmanager
    def _tx(self, what: str, *, conflicts: bool = False) -> Iterator[Session]:
        """One transaction; ``conflicts=True`` lets IntegrityError through to the caller."""
        passthrough: tuple[type[Exception], ...] = (IntegrityError,) if conflicts else ()
        with db.translate(self.engine.url, what, passthrough), self._sessions.begin() as session:
            yield session

    def healthy(self) -> bool:
        """True when the database answers (for the status page)."""
        try:
            with self._tx("health check") as s:
                s.execute(select(1))
        except Exception as exc:  # a health probe reports, never raises
            log.debug("history database unhealthy: %s", exc)
            return False
        return True

    # --- players -------------------------------------------------------------------------------
    def get_or_create_player(self, name: str) -> PlayerInfo:
        """The player called ``name`` (stripped), created on first use.

        ValueError unless 1-20 printable characters (or the guest). Stored NFC-normalised
        (:mod:`hiitpi.core.names`), so a name typed in either Unicode form is one player.
        """
        name = history_player(name)
        for _ in range(3):  # two web workers may create the same new name at once
            try:
                with self._tx("saving a player", conflicts=True) as s:
                    player = s.scalar(select(Player).where(Player.name == name))
                    if player is None:
                        player = Player(name=name, created_at=utcnow())
                        s.add(player)
                        s.flush()
                    return PlayerInfo(player.name, player.created_at)
            except IntegrityError:
                continue
        raise AssertionError("unreachable: the player exists after a unique violation")

    def list_players(self) -> list[PlayerInfo]:
        """Every player with their session count and last session, most recently active first."""
        with self._tx("listing players") as s:
            return queries.list_players(s)

    # --- sessions ------------------------------------------------------------------------------
    def start_session(
        self,
        player: str,
        workout: str,
        backend: str = "",
        source: str = "",
        *,
        station: str = DEFAULT_STATION,
        started_at: datetime | None = None,
        plan_session_id: int | None = None,
        block: int | None = None,
        round: int | None = None,
        target: int | None = None,
        uuid: str | None = None,
    ) -> int:
        """Open an ``active`` session for ``player`` (created if new); returns its id.

        ``plan_session_id``, ``block``, ``round``, ``target``: the set is that block of a plan.
        ``uuid``: the journal's name for the set; a session with it already is returned as is.
        """
        if uuid is not None and (known := self.session_by_uuid(uuid)) is not None:
            return known
        name = self.get_or_create_player(player).name
        with self._tx("starting a session") as s:
            player_id = s.scalar(select(Player.id).where(Player.name == name))
            row = WorkoutSession(
                plan_session_id=plan_session_id,
                block=block,
                round=round,
                target=target,
                uuid=uuid,
                correction=0,
                player_id=player_id,
                workout=workout,
                station=station,
                started_at=_aware(started_at),
                reps=0,
                no_reps=0,
                backend=backend,
                source=source,
                status=SessionStatus.ACTIVE.value,
            )
            s.add(row)
            s.flush()
            return row.id

    def record_event(
        self, session_id: int, event: RepEvent, *, recorded_at: datetime | None = None
    ) -> bool:
        """Commit one rep or no-rep and bump the session's totals, in one short transaction.

        Idempotent: an event already stored (same session, kind, index and times) is ignored and
        False returned, so a retry or a journal replay never counts twice. Another event under
        a stored index raises :class:`RepConflict`. KeyError for an unknown session.
        """
        kind = EventKind(event.kind)
        column = WorkoutSession.reps if kind is EventKind.REP else WorkoutSession.no_reps
        try:
            with self._tx("recording a rep", conflicts=True) as s:
                bumped = s.execute(
                    update(WorkoutSession)
                    .where(WorkoutSession.id == session_id)
                    .values({column: column + 1})
                )
                if getattr(bumped, "rowcount", 1) != 1:
                    raise KeyError(f"no session {session_id}")
                s.add(_rep_row(session_id, event, _aware(recorded_at)))
                s.flush()
        except IntegrityError:
            self._check_duplicate(session_id, event)
            return False
        return True

    def _check_duplicate(self, session_id: int, event: RepEvent) -> None:
        """The stored event under ``event``'s index is ``event`` itself, else RepConflict."""
        with self._tx("checking a stored rep") as s:
            row = s.scalar(
                select(Rep).where(
                    Rep.session_id == session_id,
                    Rep.kind == EventKind(event.kind).value,
                    Rep.index == event.index,
                )
            )
            if row is None:  # not a unique violation on the rep: the session went away
                raise KeyError(f"no session {session_id}")
            same = abs(row.t - event.t) < 1e-6 and abs(row.t_start - event.t_start) < 1e-6
        if not same:
            raise RepConflict(
                f"session {session_id} already has {event.kind} {event.index} at t={row.t:.3f}, "
                f"another one at t={event.t:.3f} was refused"
            )
        log.debug("session %d already has %s %d", session_id, event.kind, event.index)

    def finish_session(
        self,
        session_id: int,
        pace: float | None,
        *,
        ended_at: datetime | None = None,
        status: SessionStatus = SessionStatus.DONE,
        hold_s: float = 0.0,
    ) -> SessionSummary:
        """Close the session as ``done`` (or ``interrupted``) with its final pace (reps per 30 s)
        and, for a timed hold, the seconds held with good form.

        KeyError if unknown.
        """
        if status is SessionStatus.ACTIVE:
            raise ValueError("a finished session is done or interrupted, not active")
        with self._tx("finishing a session") as s:
            row = s.get(WorkoutSession, session_id)
            if row is None:
                raise KeyError(f"no session {session_id}")
            row.status = SessionStatus(status).value
            row.ended_at = _aware(ended_at)
            row.pace = pace
            row.hold_s = round(float(hold_s), 2)
            s.flush()
            return queries.summary(row, row.player.name)

    def discard_session(self, session_id: int) -> bool:
        """Delete the session if it is empty (:func:`queries.empty_set`); True if deleted."""
        with self._tx("discarding an empty session") as s:
            result = s.execute(
                delete(WorkoutSession).where(WorkoutSession.id == session_id, queries.empty_set())
            )
            return int(getattr(result, "rowcount", 0)) == 1

    def add_correction(
        self,
        session_id: int,
        delta: int,
        *,
        at: datetime | None = None,
        uuid: str | None = None,
    ) -> SessionSummary:
        """Record a person's +1 or -1 on the session's count, beside the referee's.

        ValueError for another delta or one that would take the count below 0; KeyError for an
        unknown session. ``uuid``: the journal's name for the fix (stored once however often
        it is replayed).
        """
        if delta not in (1, -1):
            raise ValueError(f"a correction is +1 or -1, got {delta!r}")
        with self._tx("correcting a count") as s:
            row = s.get(WorkoutSession, session_id, with_for_update=True)
            if row is None:
                raise KeyError(f"no session {session_id}")
            if uuid is not None and s.scalar(select(Correction.id).where(Correction.uuid == uuid)):
                return queries.summary(row, row.player.name)
            if row.reps + row.correction + delta < 0:
                raise ValueError("the corrected count cannot go below 0")
            row.correction += delta
            s.add(Correction(session_id=session_id, delta=delta, created_at=_aware(at), uuid=uuid))
            s.flush()
            return queries.summary(row, row.player.name)

    # --- plan sessions -------------------------------------------------------------------------
    def start_plan_session(
        self,
        player: str,
        plan_id: str,
        plan_name: str,
        plan_toml: str,
        *,
        station: str = DEFAULT_STATION,
        started_at: datetime | None = None,
        uuid: str | None = None,
    ) -> int:
        """Open an ``active`` plan session; its blocks are sets started with its id.

        ``uuid``: the journal's name for the run; a plan session with it already is returned.
        """
        if uuid is not None and (known := self.plan_session_by_uuid(uuid)) is not None:
            return known
        name = self.get_or_create_player(player).name
        with self._tx("starting a plan session") as s:
            player_id = s.scalar(select(Player.id).where(Player.name == name))
            row = PlanSession(
                player_id=player_id,
                plan_id=plan_id,
                plan_name=plan_name[:64],
                plan_toml=plan_toml,
                station=station,
                started_at=_aware(started_at),
                status=SessionStatus.ACTIVE.value,
                uuid=uuid,
            )
            s.add(row)
            s.flush()
            return row.id

    def finish_plan_session(
        self,
        plan_session_id: int,
        *,
        ended_at: datetime | None = None,
        status: SessionStatus = SessionStatus.DONE,
    ) -> None:
        """Close the plan session; one without any set left is deleted (nothing to show)."""
        if status is SessionStatus.ACTIVE:
            raise ValueError("a finished plan session is done or interrupted, not active")
        with self._tx("finishing a plan session") as s:
            row = s.get(PlanSession, plan_session_id)
            if row is None:
                raise KeyError(f"no plan session {plan_session_id}")
            sets = s.scalar(
                select(func.count(WorkoutSession.id)).where(
                    WorkoutSession.plan_session_id == plan_session_id
                )
            )
            if not sets:
                s.delete(row)
                return
            row.status = SessionStatus(status).value
            row.ended_at = _aware(ended_at)

    def plan_session(self, plan_session_id: int) -> PlanSessionSummary | None:
        """A plan run with its blocks side by side (reps, no-reps, pace, drift)."""
        with self._tx("reading a plan session") as s:
            return queries.plan_session(s, plan_session_id)

    def player_plan_sessions(self, name: str) -> list[PlanSessionSummary]:
        """The player's plan sessions, newest first."""
        with self._tx("reading a player's plan sessions") as s:
            return queries.player_plan_sessions(s, normalize_player(name))

    def recent_sets(self, name: str, limit: int = 50) -> list[SessionSummary]:
        """The player's non-empty sets, newest first."""
        with self._tx("reading a player's recent sets") as s:
            return queries.recent_sets(s, normalize_player(name), limit)

    def mark_interrupted_sessions(
        self, station: str | None = None, *, keep_plan: int | None = None
    ) -> int:
        """Close sessions a crash left ``active`` (of one station, or all): ``interrupted``.

        Their reps stay; ``ended_at`` becomes the time of their last stored event (or their
        start when they have none). Active plan sessions are closed too, except ``keep_plan``
        (the one running now). Returns how many sets were closed.
        """
        last_event = (
            select(func.max(Rep.recorded_at))
            .where(Rep.session_id == WorkoutSession.id)
            .scalar_subquery()
        )
        stmt = (
            update(WorkoutSession)
            .where(WorkoutSession.status == SessionStatus.ACTIVE.value)
            .values(
                status=SessionStatus.INTERRUPTED.value,
                ended_at=func.coalesce(last_event, WorkoutSession.started_at),
            )
            .execution_options(synchronize_session=False)
        )
        if station is not None:
            stmt = stmt.where(WorkoutSession.station == station)
        plans = (
            update(PlanSession)
            .where(PlanSession.status == SessionStatus.ACTIVE.value)
            .values(status=SessionStatus.INTERRUPTED.value, ended_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if station is not None:
            plans = plans.where(PlanSession.station == station)
        if keep_plan is not None:
            plans = plans.where(PlanSession.id != keep_plan)
        with self._tx("closing interrupted sessions") as s:
            count = int(getattr(s.execute(stmt), "rowcount", 0))
            s.execute(plans)
        if count:
            log.info("%d interrupted session(s) closed, reps kept", count)
        return count

    def find_active_session(self, station: str, player: str, workout: str) -> int | None:
        """The newest ``active`` session of ``player`` at ``workout`` on ``station``, if any."""
        player = normalize_player(player)
        with self._tx("finding an active session") as s:
            return s.scalar(
                select(WorkoutSession.id)
                .join(Player)
                .where(
                    WorkoutSession.status == SessionStatus.ACTIVE.value,
                    WorkoutSession.station == station,
                    WorkoutSession.workout == workout,
                    Player.name == player,
                )
                .order_by(WorkoutSession.started_at.desc(), WorkoutSession.id.desc())
                .limit(1)
            )

    def session_by_uuid(self, uuid: str) -> int | None:
        """The id of the set the journal named ``uuid``, if it is stored."""
        with self._tx("finding a set by its uuid") as s:
            found = s.scalar(select(WorkoutSession.id).where(WorkoutSession.uuid == uuid))
            return None if found is None else int(found)

    def plan_session_by_uuid(self, uuid: str) -> int | None:
        """The id of the plan session the journal named ``uuid``, if it is stored."""
        with self._tx("finding a plan session by its uuid") as s:
            found = s.scalar(select(PlanSession.id).where(PlanSession.uuid == uuid))
            return None if found is None else int(found)

    def last_indices(self, session_id: int) -> tuple[int, int]:
        """The highest stored rep and no-rep index of the set (0, 0 when it has none)."""
        with self._tx("reading a set's last indices") as s:
            rows = s.execute(
                select(Rep.kind, func.max(Rep.index))
                .where(Rep.session_id == session_id)
                .group_by(Rep.kind)
            ).all()
        last = {str(kind): int(index) for kind, index in rows}
        return last.get(EventKind.REP.value, 0), last.get(EventKind.NO_REP.value, 0)

    # --- reads for the pages -------------------------------------------------------------------
    def get_session(self, session_id: int) -> SessionSummary | None:
        with self._tx("reading a session") as s:
            return queries.get_session(s, session_id)

    def session_timeline(self, session_id: int) -> list[RepRecord]:
        """Every rep and no-rep of the session in the order they happened ([] if unknown)."""
        with self._tx("reading a timeline") as s:
            return queries.session_timeline(s, session_id)

    def player_history(self, name: str) -> list[SessionSummary]:
        """The player's sessions, oldest first ([] for an unknown player)."""
        with self._tx("reading a player's history") as s:
            return queries.player_history(s, normalize_player(name))

    def leaderboard_week(self, now: datetime | None = None) -> list[WeeklyTotal]:
        """Good reps per player and workout over the 7 days up to ``now``."""
        with self._tx("reading the leaderboard") as s:
            return queries.leaderboard_week(s, _aware(now))

    def workouts(self) -> list[str]:
        """Ids of the workouts anyone has a session of, by name (the boards to show)."""
        with self._tx("listing workouts") as s:
            return queries.workouts(s)

    def workout_boards(
        self, workout: str, now: datetime | None = None, *, days: int | None = 7
    ) -> list[BoardRow]:
        """Per player at ``workout``: best session, best pace, share of good reps."""
        with self._tx("reading a workout board") as s:
            return queries.workout_boards(s, workout, _aware(now), days)

    def export_csv(self, player: str) -> str:
        """The player's sessions and every rep and no-rep, as CSV text."""
        with self._tx("exporting a player's history") as s:
            return queries.export_csv(s, normalize_player(player))


def _rep_row(session_id: int, event: RepEvent, recorded_at: datetime) -> Rep:
    # Only the event fields the table has columns for (form_judged/form_reason are live-only).
    columns = Rep.__table__.columns
    fields: dict[str, Any] = {k: v for k, v in event.to_dict().items() if k in columns}
    return Rep(session_id=session_id, recorded_at=recorded_at, **fields)
