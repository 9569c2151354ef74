"""SessionRecorder: what the live engine calls; it never lets a database outage stop a set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hiitpi.core.events import WorkoutState
from hiitpi.engine.recorder import GUEST_PLAYER, SessionRecorder
from hiitpi.errors import StoreError
from hiitpi.store import HistoryStore

from .conftest import NOW, no_rep, rep


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class Flaky:
    """A HistoryStore whose database can be switched off (every call raises StoreError)."""

    def __init__(self, real: HistoryStore) -> None:
        self.real = real
        self.down = False
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.real, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.down:
                raise StoreError("database test://flaky failed while testing: down")
            return attr(*args, **kwargs)

        return call


def _state(pace: float) -> WorkoutState:
    return WorkoutState(exercise="push_up", t=30.0, reps=2, no_reps=1, pace=pace)


def test_begin_events_end(history: HistoryStore) -> None:
    clock = Clock()
    recorder = SessionRecorder(history, station="kitchen", clock=clock)
    sid = recorder.begin("ann", "push_up", "movenet", "0")
    assert sid is not None and recorder.session_id == sid
    recorder.on_events([])  # most frames report nothing
    recorder.on_events([rep(1, 2.0)])
    recorder.on_events([no_rep(1, 3.0), rep(2, 4.0)])
    s = history.get_session(sid)  # committed already, before the set ends
    assert s is not None and (s.status, s.reps, s.no_reps) == ("active", 2, 1)
    clock.now = NOW + timedelta(seconds=45)
    assert recorder.end(_state(pace=12.0)) == sid
    assert recorder.session_id is None
    s = history.get_session(sid)
    assert s is not None
    assert (s.status, s.reps, s.no_reps, s.pace, s.backend, s.source, s.station) == (
        "done",
        2,
        1,
        12.0,
        "movenet",
        "0",
        "kitchen",
    )
    assert (s.started_at, s.ended_at) == (NOW, NOW + timedelta(seconds=45))
    assert recorder.end(_state(pace=1.0)) is None  # nothing open: a no-op


def test_empty_player_is_the_guest_and_bad_names_raise(history: HistoryStore) -> None:
    recorder = SessionRecorder(history)
    sid = recorder.begin("  ", "squat")
    assert history.get_session(sid).player == GUEST_PLAYER  # type: ignore[arg-type,union-attr]
    with pytest.raises(ValueError):
        recorder.begin("x" * 21, "squat")


def test_a_new_set_ends_the_open_one(history: HistoryStore) -> None:
    recorder = SessionRecorder(history)
    first = recorder.begin("ann", "squat")
    recorder.on_events([rep(1, 1.0)])
    second = recorder.begin("ann", "lunge")
    assert first != second
    a, b = history.get_session(first), history.get_session(second)  # type: ignore[arg-type]
    assert a is not None and (a.status, a.reps, a.pace) == ("done", 1, None)
    assert b is not None and b.status == "active"


def test_begin_closes_sets_the_station_left_active(history: HistoryStore) -> None:
    orphan = history.start_session("ann", "squat", station="kitchen")
    elsewhere = history.start_session("bea", "squat", station="garage")
    SessionRecorder(history, station="kitchen").begin("ann", "squat")
    assert history.get_session(orphan).status == "interrupted"  # type: ignore[union-attr]
    assert history.get_session(elsewhere).status == "active"  # type: ignore[union-attr]


def test_events_outside_a_set_are_dropped(history: HistoryStore) -> None:
    recorder = SessionRecorder(history)
    recorder.on_events([rep(1, 1.0)])
    assert recorder.backlog == 0 and history.list_players() == []


def test_database_outage_buffers_then_catches_up(history: HistoryStore) -> None:
    flaky = Flaky(history)
    recorder = SessionRecorder(flaky, retry_s=3600)  # type: ignore[arg-type]
    flaky.down = True
    assert recorder.begin("ann", "push_up") is None  # the set is kept, not lost
    recorder.on_events([rep(1, 2.0)])
    recorder.on_events([rep(2, 4.0)])
    assert recorder.backlog == 2 and recorder.last_error is not None
    calls = flaky.calls
    recorder.on_events([no_rep(1, 5.0)])  # within retry_s: no new attempt, the frame is cheap
    assert flaky.calls == calls
    flaky.down = False
    assert recorder.flush() is True
    assert recorder.backlog == 0 and recorder.last_error is None
    sid = recorder.session_id
    assert sid is not None
    s = history.get_session(sid)
    assert s is not None and (s.player, s.reps, s.no_reps) == ("ann", 2, 1)
    assert s.started_at.tzinfo is UTC


def test_outage_across_the_end_of_a_set(history: HistoryStore) -> None:
    flaky = Flaky(history)
    recorder = SessionRecorder(flaky, retry_s=0)  # type: ignore[arg-type]
    sid = recorder.begin("ann", "push_up")
    recorder.on_events([rep(1, 2.0)])
    flaky.down = True
    recorder.on_events([rep(2, 4.0)])
    assert recorder.end(_state(pace=9.0)) is None  # not stored yet
    recorder.begin("ann", "squat")  # the next set queues behind it
    recorder.on_events([rep(1, 1.0)])
    flaky.down = False
    recorder.on_events([])  # the next frame retries (retry_s=0): everything lands, in order
    assert recorder.backlog == 0
    first = history.get_session(sid)  # type: ignore[arg-type]
    assert first is not None and (first.status, first.reps, first.pace) == ("done", 2, 9.0)
    squat = history.player_history("ann")[-1]
    assert (squat.workout, squat.status, squat.reps) == ("squat", "active", 1)
