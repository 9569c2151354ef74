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

from sqlalchemy import ColumnElement, Select, and_, func, not_, select
from sqlalchemy.orm import Session

from hiitpi.core.events import EventKind
from hiitpi.plans.drift import block_drift, pace_drift
from hiitpi.store.models import PlanSession, Player, Rep, WorkoutSession
from hiitpi.store.records import (
    BlockSummary,
    BoardRow,
    PlanSessionSummary,
    PlayerInfo,
    RepRecord,
    SessionSummary,
    WeeklyTotal,
)

WEEK = timedelta(days=7)
# best pace only from sets long enough to mean something (a 12 s set must not win)
MIN_PACE_SET_S = 30.0
MIN_PACE_SET_REPS = 5
CSV_COLUMNS = (
    "session_id",
    "workout",
    "started_at",
    "ended_at",
    "status",
    "session_reps",
    "session_no_reps",
    "correction",
    "corrected_reps",
    "pace",
    "hold_s",
    "plan_session_id",
    "block",
    "round",
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
        correction=row.correction,
        plan_session_id=row.plan_session_id,
        block=row.block,
        round=row.round,
        target=row.target,
        hold_s=row.hold_s or 0.0,
    )


def empty_set() -> ColumnElement[bool]:
    """A set with nothing to show: no rep, no no-rep, no fix and nothing held (as
    :attr:`SessionSummary.empty`). Not history: it would rank on the boards and open the
    timeline."""
    return and_(
        WorkoutSession.reps == 0,
        WorkoutSession.no_reps == 0,
        WorkoutSession.correction == 0,
        WorkoutSession.hold_s == 0,
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

    Reps are the corrected counts (the referee's plus a person's fixes); ``hold_s`` the seconds
    a timed hold (plank) was held with good form.

    Ordered for stacked bars: the player with most good reps first, then workouts by name (the
    chart ranks a timed hold's panel by its own time held).
    """
    rows = s.execute(
        select(
            Player.name,
            WorkoutSession.workout,
            func.sum(WorkoutSession.reps + WorkoutSession.correction),
            func.sum(WorkoutSession.no_reps),
            func.count(WorkoutSession.id),
            func.sum(WorkoutSession.hold_s),
        )
        .join(Player)
        .where(WorkoutSession.started_at >= now - WEEK, WorkoutSession.started_at <= now)
        .group_by(Player.name, WorkoutSession.workout)
    ).all()
    totals = [
        WeeklyTotal(p, w, int(r), int(nr), int(n), hold_s=float(h or 0.0))
        for p, w, r, nr, n, h in rows
    ]
    per_player: dict[str, int] = defaultdict(int)
    for t in totals:
        per_player[t.player] += t.reps
    totals.sort(key=lambda t: (-per_player[t.player], t.player, t.workout))
    return totals


def workout_boards(s: Session, workout: str, now: datetime, days: int | None = 7) -> list[BoardRow]:
    """One row per player at ``workout`` (sessions started in the last ``days``; None = ever).

    Counts are corrected (``corrected`` marks a row where a fix changed one). Best session =
    most good reps (the earliest on a tie), for a timed hold (plank: no reps) the longest hold;
    best pace = highest pace of a finished set of at least :data:`MIN_PACE_SET_S` and
    :data:`MIN_PACE_SET_REPS`. Empty sets are left out. Ranked by best session (reps, then
    hold), then best pace, then name.
    """
    stmt = _sessions().where(WorkoutSession.workout == workout, WorkoutSession.started_at <= now)
    if days is not None:
        stmt = stmt.where(WorkoutSession.started_at >= now - timedelta(days=days))
    stmt = stmt.order_by(WorkoutSession.started_at, WorkoutSession.id)
    acc: dict[str, dict[str, Any]] = {}
    for row, player in s.execute(stmt):
        set_ = summary(row, player)
        if set_.empty:
            continue
        a = acc.setdefault(
            player,
            {"sessions": 0, "reps": 0, "no_reps": 0, "best": set_, "pace": None, "fixed": False},
        )
        a["sessions"] += 1
        a["reps"] += set_.corrected_reps
        a["no_reps"] += row.no_reps
        a["fixed"] = a["fixed"] or row.correction != 0
        best = a["best"]
        if (set_.corrected_reps, set_.hold_s) > (best.corrected_reps, best.hold_s):
            a["best"] = set_
        if pace_counts(set_) and (a["pace"] is None or (row.pace or 0.0) > a["pace"]):
            a["pace"] = row.pace
    board = [
        BoardRow(
            player=player,
            sessions=a["sessions"],
            reps=a["reps"],
            no_reps=a["no_reps"],
            best_reps=a["best"].corrected_reps,
            best_session_id=a["best"].id,
            best_session_at=a["best"].started_at,
            best_pace=a["pace"],
            corrected=a["fixed"],
            best_hold_s=a["best"].hold_s,
        )
        for player, a in acc.items()
    ]
    board.sort(
        key=lambda b: (
            -b.best_reps,
            -b.best_hold_s,
            -(b.best_pace if b.best_pace is not None else -1.0),
            b.player,
        )
    )
    return board


def pace_counts(set_: SessionSummary) -> bool:
    """A finished set long enough, with enough reps, for its pace to rank."""
    d = set_.duration_s
    return (
        set_.pace is not None
        and d is not None
        and d >= MIN_PACE_SET_S
        and set_.corrected_reps >= MIN_PACE_SET_REPS
    )


def recent_sets(s: Session, name: str, limit: int = 50) -> list[SessionSummary]:
    """The player's non-empty sets, newest first (what a history page opens on)."""
    rows = s.execute(
        _sessions()
        .where(Player.name == name, not_(empty_set()))
        .order_by(WorkoutSession.started_at.desc(), WorkoutSession.id.desc())
        .limit(limit)
    )
    return [summary(row, player) for row, player in rows]


def _plan_summary(s: Session, ps: PlanSession, player: str) -> PlanSessionSummary:
    sets = [
        summary(row, player)
        for row in s.scalars(
            select(WorkoutSession)
            .where(WorkoutSession.plan_session_id == ps.id)
            .order_by(WorkoutSession.started_at, WorkoutSession.id)
        )
    ]
    paces = [x.work_pace for x in sets]
    drifts = block_drift(paces)
    blocks = tuple(
        BlockSummary(x, p, None if d is None else d.pct, None if d is None else d.cue.value)
        for x, p, d in zip(sets, paces, drifts, strict=True)
    )
    rep_times: dict[int, list[float]] = defaultdict(list)
    if sets:
        for sid, t in s.execute(
            select(Rep.session_id, Rep.t)
            .where(Rep.session_id.in_([x.id for x in sets]), Rep.kind == EventKind.REP.value)
            .order_by(Rep.t)
        ):
            rep_times[sid].append(t)
    drift = pace_drift([rep_times[x.id] for x in sets])
    return PlanSessionSummary(
        id=ps.id,
        player=player,
        plan_id=ps.plan_id,
        plan_name=ps.plan_name,
        started_at=ps.started_at,
        ended_at=ps.ended_at,
        status=ps.status,
        station=ps.station,
        blocks=blocks,
        drift_pct=None if drift is None else drift.pct,
        drift=None if drift is None else drift.cue.value,
    )


def plan_session(s: Session, plan_session_id: int) -> PlanSessionSummary | None:
    row = s.execute(
        select(PlanSession, Player.name).join(Player).where(PlanSession.id == plan_session_id)
    ).first()
    return None if row is None else _plan_summary(s, row[0], row[1])


def player_plan_sessions(s: Session, name: str) -> list[PlanSessionSummary]:
    """The player's plan sessions, newest first."""
    rows = s.execute(
        select(PlanSession, Player.name)
        .join(Player)
        .where(Player.name == name)
        .order_by(PlanSession.started_at.desc(), PlanSession.id.desc())
    ).all()
    return [_plan_summary(s, ps, player) for ps, player in rows]


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:.3f}"


def _when(x: datetime | None) -> str:
    return "" if x is None else x.isoformat(timespec="seconds")


def export_csv(s: Session, player: str) -> str:
    """One line per rep or no-rep, oldest session first; a session without any has one line.

    ``session_reps`` is the referee's count, ``correction`` the sum of a person's fixes and
    ``corrected_reps`` the two together (the count the leaderboard uses); ``hold_s`` a timed
    hold's (plank's) seconds held with good form.

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
            ses.correction,
            max(0, ses.reps + ses.correction),
            _num(ses.pace),
            f"{ses.hold_s:.2f}" if ses.hold_s else "",
            "" if ses.plan_session_id is None else ses.plan_session_id,
            "" if ses.block is None else ses.block,
            "" if ses.round is None else ses.round,
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
