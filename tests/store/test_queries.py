"""Leaderboard and history queries against hand-computed fixtures (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from hiitpi.core.events import EventKind
from hiitpi.store import BoardRow, HistoryStore, WeeklyTotal

from .conftest import BACKENDS, NOW, add_session, new_database_url, no_rep, rep

SCRIPT = "<svg onload=alert()>"  # 20 characters: the longest name allowed
DAY = timedelta(days=1)
WEEK = timedelta(days=7)


@pytest.fixture(scope="module", params=BACKENDS)
def gym_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HistoryStore]:
    """A database of its own for the read-only gym tests (built once per backend)."""
    store = HistoryStore(new_database_url(request, tmp_path_factory, "gym"))
    yield store
    store.close()


@pytest.fixture(scope="module")
def gym(gym_store: HistoryStore) -> dict[str, int]:
    """A week of sessions around NOW; the comments give what each query must see.

    name    workout  started            reps no-reps pace  status
    alice   push_up  NOW-3d             15   0       10.0  done
    alice   squat    NOW-2d             20   5       14.0  done
    alice   push_up  NOW-1d             10   2       12.0  done
    bob     push_up  NOW-7d-1s (out)    30   0       20.0  done       only "ever" boards
    bob     squat    NOW-7d (edge, in)   5   0       -     interrupted
    bob     push_up  NOW-6d23h59m        8   4       16.0  done
    carol   push_up  NOW+1h (future)    50   0       30.0  done       never (after NOW)
    carol   squat    NOW-10m             3   1       -     active
    SCRIPT  lunge    NOW-1d              7   0        9.0  done
    """
    h = gym_store
    ids = {
        "alice_pu_3d": add_session(h, "alice", "push_up", NOW - 3 * DAY, 15, pace=10.0),
        "alice_sq_2d": add_session(h, "alice", "squat", NOW - 2 * DAY, 20, 5, pace=14.0),
        "alice_pu_1d": add_session(h, "alice", "push_up", NOW - DAY, 10, 2, pace=12.0),
        "bob_pu_old": add_session(
            h, "bob", "push_up", NOW - WEEK - timedelta(seconds=1), 30, pace=20.0
        ),
        "bob_sq_edge": add_session(h, "bob", "squat", NOW - WEEK, 5, finish=False),
    }
    assert h.mark_interrupted_sessions() == 1  # bob's squat
    ids["bob_pu_6d"] = add_session(
        h, "bob", "push_up", NOW - WEEK + timedelta(minutes=1), 8, 4, pace=16.0
    )
    ids["carol_pu_future"] = add_session(
        h, "carol", "push_up", NOW + timedelta(hours=1), 50, pace=30.0
    )
    ids["carol_sq_now"] = add_session(
        h, "carol", "squat", NOW - timedelta(minutes=10), 3, 1, finish=False
    )
    ids["script_lunge"] = add_session(h, SCRIPT, "lunge", NOW - DAY, 7, pace=9.0)
    return ids


def test_leaderboard_week_totals_per_player_and_workout(
    gym_store: HistoryStore, gym: dict[str, int]
) -> None:
    # alice 15+10+20 = 45, bob 8+5 = 13 (his 30 is 1 s too old), SCRIPT 7, carol 3 (the 50
    # lie in the future); biggest total first, workouts by name within a player
    assert gym_store.leaderboard_week(NOW) == [
        WeeklyTotal("alice", "push_up", reps=25, no_reps=2, sessions=2),
        WeeklyTotal("alice", "squat", reps=20, no_reps=5, sessions=1),
        WeeklyTotal("bob", "push_up", reps=8, no_reps=4, sessions=1),
        WeeklyTotal("bob", "squat", reps=5, no_reps=0, sessions=1),
        WeeklyTotal(SCRIPT, "lunge", reps=7, no_reps=0, sessions=1),
        WeeklyTotal("carol", "squat", reps=3, no_reps=1, sessions=1),
    ]


def test_leaderboard_week_sums_a_planks_time_held(history: HistoryStore) -> None:
    """A plank has no reps: its week is the time held. A player who only held is on the board
    (after every player with reps), not a row of zero reps; the chart ranks the holds."""
    add_session(history, "carl", "push_up", NOW - DAY, 4)
    for player, held in (("dora", 20.0), ("dora", 25.5), ("erin", 90.0)):
        sid = history.start_session(player, "plank", started_at=NOW - DAY)
        history.finish_session(sid, None, ended_at=NOW - DAY + timedelta(minutes=2), hold_s=held)
    assert history.leaderboard_week(NOW) == [
        WeeklyTotal("carl", "push_up", 4, 0, 1),  # a set of reps holds nothing
        WeeklyTotal("dora", "plank", 0, 0, 2, hold_s=45.5),
        WeeklyTotal("erin", "plank", 0, 0, 1, hold_s=90.0),
    ]


def test_leaderboard_week_window_moves_with_now(
    gym_store: HistoryStore, gym: dict[str, int]
) -> None:
    # one second earlier, bob's old session (NOW-7d-1s) sits exactly on the edge: counted
    earlier = gym_store.leaderboard_week(NOW - timedelta(seconds=1))
    assert ("bob", "push_up", 38) in [(t.player, t.workout, t.reps) for t in earlier]
    # carol's future session counts once "now" has passed its start
    later = gym_store.leaderboard_week(NOW + timedelta(hours=2))
    assert ("carol", "push_up", 50) in [(t.player, t.workout, t.reps) for t in later]
    # 8 days on, nothing is left
    assert gym_store.leaderboard_week(NOW + 9 * DAY) == []


def test_leaderboard_week_accepts_any_timezone(
    gym_store: HistoryStore, gym: dict[str, int]
) -> None:
    for hours in (-8, 5.5):
        local = NOW.astimezone(timezone(timedelta(hours=hours)))
        assert gym_store.leaderboard_week(local) == gym_store.leaderboard_week(NOW)
    with pytest.raises(ValueError, match="naive"):
        gym_store.leaderboard_week(NOW.replace(tzinfo=None))


def test_workout_board_last_7_days(gym_store: HistoryStore, gym: dict[str, int]) -> None:
    board = gym_store.workout_boards("push_up", NOW)
    assert board == [
        BoardRow(
            "alice",
            sessions=2,
            reps=25,
            no_reps=2,
            best_reps=15,
            best_session_id=gym["alice_pu_3d"],
            best_session_at=NOW - 3 * DAY,
            best_pace=12.0,
        ),
        BoardRow(
            "bob",
            sessions=1,
            reps=8,
            no_reps=4,
            best_reps=8,
            best_session_id=gym["bob_pu_6d"],
            best_session_at=NOW - WEEK + timedelta(minutes=1),
            best_pace=16.0,
        ),
    ]
    assert board[0].good_share == pytest.approx(25 / 27)
    assert board[1].good_share == pytest.approx(8 / 12)


def test_workout_board_all_time(gym_store: HistoryStore, gym: dict[str, int]) -> None:
    board = gym_store.workout_boards("push_up", NOW, days=None)
    assert [(b.player, b.sessions, b.reps, b.best_reps, b.best_pace) for b in board] == [
        ("bob", 2, 38, 30, 20.0),
        ("alice", 2, 25, 15, 12.0),
    ]
    assert board[0].best_session_id == gym["bob_pu_old"]


def test_workout_board_unfinished_sessions_have_no_pace(
    gym_store: HistoryStore, gym: dict[str, int]
) -> None:
    board = gym_store.workout_boards("squat", NOW)
    assert [(b.player, b.best_reps, b.best_pace, b.good_share) for b in board] == [
        ("alice", 20, 14.0, 0.8),
        ("bob", 5, None, 1.0),
        ("carol", 3, None, 0.75),
    ]
    assert gym_store.workout_boards("plank", NOW) == []
    assert gym_store.workouts() == ["lunge", "push_up", "squat"]


def test_workout_board_ties(history: HistoryStore) -> None:
    # same best session: the faster pace ranks first; same pace too: by name
    # (5 reps in 60 s: long enough for the pace to rank)
    add_session(history, "zed", "burpee", NOW - DAY, 5, pace=8.0)
    add_session(history, "amy", "burpee", NOW - DAY, 5, pace=8.0)
    add_session(history, "kim", "burpee", NOW - DAY, 5, pace=9.0)
    add_session(history, "kim", "burpee", NOW - 2 * DAY, 5, pace=7.0)
    board = history.workout_boards("burpee", NOW)
    assert [b.player for b in board] == ["kim", "amy", "zed"]
    # kim's two sessions tie at 5 reps: the earlier one is the best session
    assert board[0].best_session_at == NOW - 2 * DAY


def test_player_history_over_time(gym_store: HistoryStore, gym: dict[str, int]) -> None:
    got = [
        (s.workout, s.started_at, s.reps, s.no_reps, s.pace, s.status)
        for s in gym_store.player_history("alice")
    ]
    assert got == [
        ("push_up", NOW - 3 * DAY, 15, 0, 10.0, "done"),
        ("squat", NOW - 2 * DAY, 20, 5, 14.0, "done"),
        ("push_up", NOW - DAY, 10, 2, 12.0, "done"),
    ]
    bob = gym_store.player_history("bob")
    assert [(s.workout, s.status, s.ended_at) for s in bob] == [
        ("push_up", "done", NOW - WEEK - timedelta(seconds=1) + timedelta(seconds=60)),
        # interrupted: ended at its last stored rep (rep 5 at t = 10 s)
        ("squat", "interrupted", NOW - WEEK + timedelta(seconds=10)),
        ("push_up", "done", NOW - WEEK + timedelta(minutes=2)),
    ]
    assert bob[0].duration_s == 60.0
    assert gym_store.player_history("nobody") == []
    assert [s.reps for s in gym_store.player_history(SCRIPT)] == [7]


def test_timeline_in_order_of_time(history: HistoryStore) -> None:
    sid = history.start_session("dora", "push_up", started_at=NOW)
    # stored out of order (as after a retry): the timeline still follows the clip time
    for e in (rep(2, 6.0), rep(1, 2.0), no_rep(1, 4.0), rep(3, 9.5, quality=0.5)):
        history.record_event(sid, e)
    timeline = history.session_timeline(sid)
    assert [(r.kind, r.index, r.t) for r in timeline] == [
        (EventKind.REP, 1, 2.0),
        (EventKind.NO_REP, 1, 4.0),
        (EventKind.REP, 2, 6.0),
        (EventKind.REP, 3, 9.5),
    ]
    assert timeline[1].to_event() == no_rep(1, 4.0)
    assert timeline[3].quality == 0.5 and timeline[3].duration == 1.5
    assert timeline[1].reason == "not deep enough" and timeline[1].reason_code == "shallow"
    assert history.session_timeline(sid + 1000) == []


def test_export_csv(history: HistoryStore) -> None:
    t0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    sid = history.start_session("dora", "push_up", "movenet", "0", started_at=t0)
    history.record_event(sid, rep(1, 2.0))
    history.record_event(sid, no_rep(1, 3.25, "hips", 'hips "sagging", keep a line'))
    history.record_event(sid, rep(2, 5.0, quality=0.75))
    history.finish_session(sid, 12.5, ended_at=t0 + timedelta(seconds=61))
    history.add_correction(sid, 1)  # a person's +1, beside the referee's 2
    empty = history.start_session("dora", "squat", started_at=t0 + timedelta(hours=1))
    history.start_session("eve", "squat", started_at=t0)  # another player: not exported
    plank = history.start_session("dora", "plank", started_at=t0 + timedelta(hours=2))
    history.finish_session(plank, None, ended_at=t0 + timedelta(hours=2, seconds=50), hold_s=42.5)
    head = (
        f"{sid},push_up,2026-11-20T10:00:00+00:00,2026-11-20T10:01:01+00:00,done,2,1,1,3,12.500,"
        ",,,,"
    )
    expected = (
        "session_id,workout,started_at,ended_at,status,session_reps,session_no_reps,"
        "correction,corrected_reps,pace,hold_s,plan_session_id,block,round,"
        "kind,index,t,t_start,duration,quality,rom,reason_code,reason\r\n"
        f"{head}rep,1,2.000,0.500,1.500,0.900,1.000,,\r\n"
        f'{head}no_rep,1,3.250,2.250,1.000,0.300,0.600,hips,"hips ""sagging"", keep a line"\r\n'
        f"{head}rep,2,5.000,3.500,1.500,0.750,1.000,,\r\n"
        f"{empty},squat,2026-11-20T11:00:00+00:00,,active,0,0,0,0,,,,,,,,,,,,,,\r\n"
        f"{plank},plank,2026-11-20T12:00:00+00:00,2026-11-20T12:00:50+00:00,done,0,0,0,0,,42.50,"
        ",,,,,,,,,,,\r\n"
    )
    assert history.export_csv("nobody") == expected.split("\r\n")[0] + "\r\n"
