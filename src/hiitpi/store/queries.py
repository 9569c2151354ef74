"""Read-side queries for the leaderboard and history pages; each takes an open ORM session.

Aggregates run in SQL where that is portable (SQLite and PostgreSQL alike); arg-max style picks
(a player's best session) run in Python over the few rows of one workout.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from hiitpi.core.events import EventKind
from hiitpi.store.models import Player, Rep, WorkoutSession
from hiitpi.store.records import BoardRow, PlayerInfo, RepRecord, SessionSummary, WeeklyTotal

WEEK = timedelta(days=7)
CSV_COLUMNS = (
    "session_id",
    "workout",
    "started_at",
    "ended_at",
    "status",
    "session_reps",
    "session_no_reps",
    "pace",
    "kind",
    "index",
    "t",
    "t_start",
    "duration",
    "quality",
    "rom",
    "reason_code",
    "reason",
)


def summary(row: WorkoutSession, player: str) -> SessionSummary:
    return SessionSummary(
        id=row.id,
        player=player,
        workout=row.workout,
        started_at=row.started_at,
        ended_at=row.ended_at,
        reps=row.reps,
        no_reps=row.no_reps,
        pace=row.pace,
        backend=row.backend,
        source=row.source,
        status=row.status,
        station=row.station,
    )


def _sessions() -> Select[WorkoutSession, str]:
    return select(WorkoutSession, Player.name).join(Player)


def _record(rep: Rep) -> RepRecord:
    return RepRecord(
        session_id=rep.session_id,
        kind=EventKind(rep.kind),
        index=rep.index,
        t=rep.t,
        t_start=rep.t_start,
        duration=rep.duration,
        quality=rep.quality,
        rom=rep.rom,
        reason_code=rep.reason_code,
        reason=rep.reason,
        recorded_at=rep.recorded_at,
    )


def list_players(s: Session) -> list[PlayerInfo]:
    rows = s.execute(
        select(Player, func.count(WorkoutSession.id), func.max(WorkoutSession.started_at))
        .outerjoin(WorkoutSession)
        .group_by(Player.id)
    ).all()
    players = [PlayerInfo(p.name, p.created_at, int(n), last) for p, n, last in rows]
    players.sort(key=lambda p: p.name.casefold())
    players.sort(key=lambda p: p.last_session_at or p.created_at, reverse=True)
    return players


def get_session(s: Session, session_id: int) -> SessionSummary | None:
    row = s.execute(_sessions().where(WorkoutSession.id == session_id)).first()
    return None if row is None else summary(row[0], row[1])


def session_timeline(s: Session, session_id: int) -> list[RepRecord]:
    reps = s.scalars(
        select(Rep).where(Rep.session_id == session_id).order_by(Rep.t, Rep.t_start, Rep.id)
    )
    return [_record(r) for r in reps]


def player_history(s: Session, name: str) -> list[SessionSummary]:
    rows = s.execute(
        _sessions()
        .where(Player.name == name)
        .order_by(WorkoutSession.started_at, WorkoutSession.id)
    )
    return [summary(row, player) for row, player in rows]


def workouts(s: Session) -> list[str]:
    return list(
        s.scalars(select(WorkoutSession.workout).distinct().order_by(WorkoutSession.workout))
    )


def leaderboard_week(s: Session, now: datetime) -> list[WeeklyTotal]:
    """Sessions started in [now - 7 days, now], every status (an interrupted set's reps count).

    Ordered for stacked bars: the player with most good reps first, then workouts by name.
    """
    rows = s.execute(
        select(
            Player.name,
            WorkoutSession.workout,
            func.sum(WorkoutSession.reps),
            func.sum(WorkoutSession.no_reps),
            func.count(WorkoutSession.id),
        )
        .join(Player)
        .where(WorkoutSession.started_at >= now - WEEK, WorkoutSession.started_at <= now)
        .group_by(Player.name, WorkoutSession.workout)
    ).all()
    totals = [WeeklyTotal(p, w, int(r), int(nr), int(n)) for p, w, r, nr, n in rows]
    per_player: dict[str, int] = defaultdict(int)
    for t in totals:
        per_player[t.player] += t.reps
    totals.sort(key=lambda t: (-per_player[t.player], t.player, t.workout))
    return totals


def workout_boards(s: Session, workout: str, now: datetime, days: int | None = 7) -> list[BoardRow]:
    """One row per player at ``workout`` (sessions started in the last ``days``; None = ever).

    Best session = most good reps (the earliest on a tie); best pace = highest pace of a finished
    session. Ranked by best session, then best pace, then name.
    """
    stmt = _sessions().where(WorkoutSession.workout == workout, WorkoutSession.started_at <= now)
    if days is not None:
        stmt = stmt.where(WorkoutSession.started_at >= now - timedelta(days=days))
    stmt = stmt.order_by(WorkoutSession.started_at, WorkoutSession.id)
    acc: dict[str, dict[str, Any]] = {}
    for row, player in s.execute(stmt):
        a = acc.setdefault(
            player, {"sessions": 0, "reps": 0, "no_reps": 0, "best": row, "pace": None}
        )
        a["sessions"] += 1
        a["reps"] += row.reps
        a["no_reps"] += row.no_reps
        if row.reps > a["best"].reps:
            a["best"] = row
        if row.pace is not None and (a["pace"] is None or row.pace > a["pace"]):
            a["pace"] = row.pace
    board = [
        BoardRow(
            player=player,
            sessions=a["sessions"],
            reps=a["reps"],
            no_reps=a["no_reps"],
            best_reps=a["best"].reps,
            best_session_id=a["best"].id,
            best_session_at=a["best"].started_at,
            best_pace=a["pace"],
        )
        for player, a in acc.items()
    ]
    board.sort(
        key=lambda b: (
            -b.best_reps,
            -(b.best_pace if b.best_pace is not None else -1.0),
            b.player,
        )
    )
    return board


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:.3f}"


def _when(x: datetime | None) -> str:
    return "" if x is None else x.isoformat(timespec="seconds")


def export_csv(s: Session, player: str) -> str:
    """One line per rep or no-rep, oldest session first; a session without any has one line.

    The player's name is not a column (it names the file): a user-typed text never reaches a
    spreadsheet cell where it could run as a formula.
    """
    rows = s.execute(
        select(WorkoutSession, Rep)
        .join(Player)
        .outerjoin(Rep)
        .where(Player.name == player)
        .order_by(WorkoutSession.started_at, WorkoutSession.id, Rep.t, Rep.t_start, Rep.id)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for ses, rep in rows:
        head = [
            ses.id,
            ses.workout,
            _when(ses.started_at),
            _when(ses.ended_at),
            ses.status,
            ses.reps,
            ses.no_reps,
            _num(ses.pace),
        ]
        if rep is None:
            writer.writerow(head + [""] * (len(CSV_COLUMNS) - len(head)))
            continue
        writer.writerow(
            [
                *head,
                rep.kind,
                rep.index,
                _num(rep.t),
                _num(rep.t_start),
                _num(rep.duration),
                _num(rep.quality),
                _num(rep.rom),
                rep.reason_code or "",
                rep.reason or "",
            ]
        )
    return out.getvalue()
