"""The recorder writes a plan session and its blocks, fixes beside the count, and drops empty
sets, in background mode (its writer thread) on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hiitpi.core.events import WorkoutState
from hiitpi.engine.recorder import SessionRecorder
from hiitpi.store import HistoryStore

from .conftest import no_rep, rep


@pytest.mark.parametrize("background", [True, False])
def test_plan_blocks_fixes_and_empty_sets(history: HistoryStore, background: bool) -> None:
    r = SessionRecorder(history, station="gym", background=background)
    r.begin_plan("ana", "tabata-push_up", "Tabata push-ups", 'id = "tabata-push_up"\n')
    r.begin("ana", "push_up", block=0, round=1)
    r.on_events([rep(1, 2.0)])
    r.on_events([rep(2, 4.0), no_rep(1, 5.0)])
    assert r.correct(1)  # the referee missed one
    r.end(WorkoutState("push_up", 20.0, reps=2, no_reps=1, pace=6.0))
    r.begin("ana", "push_up", block=0, round=2)  # an empty block: kept (the interval ran)
    r.end_plan()
    r.begin("ana", "squat")  # an empty set on its own: not saved
    r.end()
    assert r.flush(), r.last_error
    (ps,) = history.player_plan_sessions("ana")
    assert ps.status == "done" and ps.plan_name == "Tabata push-ups"
    assert [(b.set.round, b.set.reps, b.set.no_reps, b.set.correction) for b in ps.blocks] == [
        (1, 2, 1, 1),
        (2, 0, 0, 0),
    ]
    assert [s.workout for s in history.player_history("ana")] == ["push_up", "push_up"]
    assert r.plan_session_id == ps.id
    assert r.correct(-1, last=True) is False  # the last set (the squat) is gone
    r.close()


def test_a_new_plan_session_closes_what_a_crash_left_active(history: HistoryStore) -> None:
    old = history.start_plan_session("ana", "x", "X", "", station="gym")
    sid = history.start_session("ana", "squat", station="gym", plan_session_id=old, block=0)
    history.record_event(sid, rep(1, 2.0))
    r = SessionRecorder(history, station="gym", background=False)
    r.begin_plan("ana", "y", "Y", "")
    r.begin("ana", "squat", block=0, round=1)
    r.on_events([rep(1, 1.0)])
    assert r.flush()
    got = history.plan_session(old)
    assert got is not None and got.status == "interrupted" and got.reps == 1
    new = history.plan_session(r.plan_session_id or -1)
    assert new is not None and new.status == "active"  # the running one stays open
    r.begin("ana", "squat", block=0, round=2)  # its next block does not close it either
    assert r.flush()
    assert history.plan_session(new.id).status == "active"  # type: ignore[union-attr]
    r.close()


@pytest.mark.parametrize("background", [True, False])
def test_a_plank_is_history_with_its_time_held(history: HistoryStore, background: bool) -> None:
    """A timed hold counts no reps: it is kept (not discarded as empty) with the time held,
    its board ranks by the longest hold."""
    r = SessionRecorder(history, station="gym", background=background)
    for player, held in (("ana", 42.5), ("bo", 61.0), ("cy", 0.0)):
        r.begin(player, "plank")
        r.on_events([], WorkoutState("plank", held, hold_s=held))
        r.end(WorkoutState("plank", held + 5.0, hold_s=held))
    assert r.flush(), r.last_error
    r.close()
    (ana,) = history.player_history("ana")
    assert (ana.workout, ana.reps, ana.hold_s, ana.status) == ("plank", 0, 42.5, "done")
    assert history.player_history("cy") == []  # held nothing: an empty set, not history
    assert [x.id for x in history.recent_sets("ana")] == [ana.id]  # what the history page lists
    board = history.workout_boards("plank", ana.started_at + timedelta(minutes=1))
    assert [(b.player, b.best_hold_s, b.best_reps) for b in board] == [
        ("bo", 61.0, 0),
        ("ana", 42.5, 0),
    ]
