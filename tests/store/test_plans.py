"""Plan sessions, corrections and the rules that make boards mean something (both backends)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hiitpi.store import HistoryStore
from hiitpi.store.queries import MIN_PACE_SET_REPS, MIN_PACE_SET_S

from .conftest import NOW, add_session, rep

DAY = timedelta(days=1)


def _block(history: HistoryStore, ps: int, block: int, at: float, gaps: list[float]) -> int:
    """A 20 s block of the plan session with reps ``gaps`` apart (each block's own clock)."""
    start = NOW + timedelta(seconds=at)
    sid = history.start_session("ana", "push_up", plan_session_id=ps, block=block, round=block + 1,
                                started_at=start)  # fmt: skip
    t = 1.0
    for i, gap in enumerate(gaps, 1):
        t += gap
        history.record_event(sid, rep(i, t))
    history.finish_session(sid, 0.0, ended_at=start + timedelta(seconds=20))
    return sid


def test_plan_session_blocks_side_by_side_with_drift(history: HistoryStore) -> None:
    ps = history.start_plan_session("ana", "tabata-push_up", "Tabata push-ups", "id = 'x'",
                                    started_at=NOW)  # fmt: skip
    _block(history, ps, 0, 3, [2.0] * 10)  # 10 reps in 20 s: 15 per 30 s
    _block(history, ps, 1, 33, [2.5] * 8)  # 8 reps: 12 per 30 s, slower
    history.finish_plan_session(ps, ended_at=NOW + timedelta(seconds=60))
    got = history.plan_session(ps)
    assert got is not None and got.status == "done" and got.plan_name == "Tabata push-ups"
    assert [(b.set.block, b.set.reps, b.pace, b.drift_pct, b.drift) for b in got.blocks] == [
        (0, 10, 15.0, 0.0, "steady"),
        (1, 8, 12.0, -20.0, "slowing"),
    ]
    assert (got.reps, got.drift, got.drift_pct) == (18, "slowing", -20.0)
    assert [p.id for p in history.player_plan_sessions("ana")] == [ps]


def test_a_plan_session_without_sets_is_not_kept(history: HistoryStore) -> None:
    ps = history.start_plan_session("ana", "tabata-push_up", "T", "", started_at=NOW)
    history.finish_plan_session(ps)
    assert history.plan_session(ps) is None


def test_an_interrupted_plan_session_keeps_its_sets(history: HistoryStore) -> None:
    ps = history.start_plan_session("ana", "tabata-push_up", "T", "", started_at=NOW)
    sid = history.start_session("ana", "push_up", plan_session_id=ps, block=0, started_at=NOW)
    history.record_event(sid, rep(1, 2.0))
    assert history.mark_interrupted_sessions() == 1
    got = history.plan_session(ps)
    assert got is not None and got.status == "interrupted" and got.reps == 1


def test_corrections_sit_beside_the_referee_count(history: HistoryStore) -> None:
    sid = add_session(history, "ana", "squat", NOW - DAY, 2, pace=10.0)
    assert history.add_correction(sid, 1).corrected_reps == 3
    got = history.get_session(sid)
    assert got is not None and (got.reps, got.correction, got.corrected_reps) == (2, 1, 3)
    history.add_correction(sid, -1)
    history.add_correction(sid, -1)
    history.add_correction(sid, -1)
    with pytest.raises(ValueError, match="below 0"):
        history.add_correction(sid, -1)
    with pytest.raises(ValueError, match=r"\+1 or -1"):
        history.add_correction(sid, 2)
    with pytest.raises(KeyError):
        history.add_correction(sid + 999, 1)


def test_boards_use_the_corrected_count_and_mark_it(history: HistoryStore) -> None:
    a = add_session(history, "ana", "squat", NOW - DAY, 6, pace=10.0)
    add_session(history, "bob", "squat", NOW - DAY, 6, pace=10.0)
    history.add_correction(a, 1)
    board = history.workout_boards("squat", NOW)
    assert [(b.player, b.best_reps, b.corrected) for b in board] == [
        ("ana", 7, True),
        ("bob", 6, False),
    ]
    week = {t.player: t.reps for t in history.leaderboard_week(NOW)}
    assert week == {"ana": 7, "bob": 6}


def test_best_pace_only_from_sets_of_30_s_and_5_reps(history: HistoryStore) -> None:
    assert (MIN_PACE_SET_S, MIN_PACE_SET_REPS) == (30.0, 5)
    short = history.start_session("ana", "squat", started_at=NOW - DAY)
    for i in range(1, 7):
        history.record_event(short, rep(i, 2.0 * i))
    history.finish_session(short, 30.0, ended_at=NOW - DAY + timedelta(seconds=12))  # 12 s
    add_session(history, "ana", "squat", NOW - 2 * DAY, 4, pace=25.0)  # 60 s, 4 reps
    add_session(history, "ana", "squat", NOW - 3 * DAY, 5, pace=9.0)  # counts
    (row,) = history.workout_boards("squat", NOW)
    assert row.best_pace == 9.0


def test_empty_sets_are_discarded_and_history_opens_on_the_newest_real_set(
    history: HistoryStore,
) -> None:
    old = add_session(history, "ana", "squat", NOW - 2 * DAY, 3, pace=5.0)
    new = add_session(history, "ana", "push_up", NOW - DAY, 0, 1)
    empty = add_session(history, "ana", "squat", NOW, 0)
    assert [s.id for s in history.recent_sets("ana")] == [new, old]
    assert not history.discard_session(old)  # has reps: kept
    assert history.discard_session(empty)
    assert [s.id for s in history.player_history("ana")] == [old, new]
    assert history.workout_boards("squat", NOW)[0].best_session_id == old
