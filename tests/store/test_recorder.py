"""SessionRecorder: what the live engine calls; it never lets a database outage stop a set."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from hiitpi.core.events import WorkoutState
from hiitpi.engine.recorder import GUEST_PLAYER, SessionRecorder
from hiitpi.errors import StoreError
from hiitpi.store import HistoryStore, SessionSummary

from .conftest import NOW, no_rep, rep


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class Flaky:
    """A HistoryStore whose database can be switched off, or made slow."""

    def __init__(self, real: HistoryStore) -> None:
        self.real = real
        self.down = False
        self.delay = 0.0
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.real, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            time.sleep(self.delay)
            if self.down:
                raise StoreError("database test://flaky failed while testing: down")
            return attr(*args, **kwargs)

        return call


@pytest.fixture(params=[True, False], ids=["background", "inline"])
def background(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def recorders() -> Iterator[list[SessionRecorder]]:
    """Recorders a test made; their writer threads are stopped afterwards."""
    made: list[SessionRecorder] = []
    yield made
    for r in made:
        r.close(timeout=5)


def _state(pace: float) -> WorkoutState:
    return WorkoutState(exercise="push_up", t=30.0, reps=2, no_reps=1, pace=pace)


def _only_session(history: HistoryStore, player: str) -> SessionSummary:
    (s,) = history.player_history(player)
    return s


def test_begin_events_end(
    history: HistoryStore, background: bool, recorders: list[SessionRecorder]
) -> None:
    clock = Clock()
    r = SessionRecorder(history, station="kitchen", background=background, clock=clock)
    recorders.append(r)
    r.begin("ann", "push_up", "movenet", "0")
    r.on_events([])  # most frames report nothing
    r.on_events([rep(1, 2.0)])
    r.on_events([no_rep(1, 3.0), rep(2, 4.0)])
    assert r.flush()
    sid = r.session_id
    assert sid is not None
    s = history.get_session(sid)  # committed already, before the set ends
    assert s is not None and (s.status, s.reps, s.no_reps) == ("active", 2, 1)
    clock.now = NOW + timedelta(seconds=45)
    r.end(_state(pace=12.0))
    assert r.session_id is None
    assert r.flush()
    s = history.get_session(sid)
    assert s is not None
    assert (s.status, s.reps, s.no_reps, s.pace) == ("done", 2, 1, 12.0)
    assert (s.backend, s.source, s.station) == ("movenet", "0", "kitchen")
    assert (s.started_at, s.ended_at) == (NOW, NOW + timedelta(seconds=45))
    r.end(_state(pace=1.0))  # nothing open: a no-op
    assert r.close() and r.backlog == 0


def test_inline_mode_has_stored_the_event_when_the_call_returns(history: HistoryStore) -> None:
    r = SessionRecorder(history, background=False)
    r.begin("ann", "squat")
    r.on_events([rep(1, 1.0)])
    assert _only_session(history, "ann").reps == 1


def test_background_mode_never_makes_the_engine_wait(
    history: HistoryStore, recorders: list[SessionRecorder]
) -> None:
    slow = Flaky(history)
    slow.delay = 0.1  # a database on a slow network, or an SD card flushing
    r = SessionRecorder(slow, background=True)  # type: ignore[arg-type]
    recorders.append(r)
    t0 = time.perf_counter()
    r.begin("ann", "squat")
    for i in range(1, 6):
        r.on_events([rep(i, float(i))])
    assert time.perf_counter() - t0 < 0.1  # five frames, no waiting
    t0 = time.perf_counter()
    r.end(_state(pace=10.0))  # Done! waits for the database, a bounded moment
    assert time.perf_counter() - t0 < r.end_wait_s + 0.3
    assert r.flush(timeout=30)
    s = _only_session(history, "ann")
    assert (s.status, s.reps, s.pace) == ("done", 5, 10.0)


def test_empty_player_is_the_guest_and_bad_names_raise(history: HistoryStore) -> None:
    r = SessionRecorder(history, background=False)
    r.begin("  ", "squat")
    assert _only_session(history, GUEST_PLAYER).workout == "squat"
    with pytest.raises(ValueError):
        r.begin("x" * 21, "squat")


def test_a_new_set_ends_the_open_one(history: HistoryStore, background: bool) -> None:
    r = SessionRecorder(history, background=background)
    r.begin("ann", "squat")
    r.on_events([rep(1, 1.0)])
    r.begin("ann", "lunge")
    assert r.close()
    squat, lunge = history.player_history("ann")
    assert (squat.workout, squat.status, squat.reps, squat.pace) == ("squat", "done", 1, None)
    assert (lunge.workout, lunge.status) == ("lunge", "active")


def test_end_interrupted(history: HistoryStore) -> None:
    r = SessionRecorder(history, background=False)
    r.begin("ann", "squat")
    r.on_events([rep(1, 1.0)])
    r.end(_state(pace=3.0), interrupted=True)  # e.g. the station shuts down mid-set
    s = _only_session(history, "ann")
    assert (s.status, s.reps, s.pace) == ("interrupted", 1, 3.0)


def test_begin_closes_sets_the_station_left_active(history: HistoryStore) -> None:
    orphan = history.start_session("ann", "squat", station="kitchen")
    elsewhere = history.start_session("bea", "squat", station="garage")
    SessionRecorder(history, station="kitchen", background=False).begin("ann", "squat")
    assert history.get_session(orphan).status == "interrupted"  # type: ignore[union-attr]
    assert history.get_session(elsewhere).status == "active"  # type: ignore[union-attr]


def test_events_outside_a_set_are_dropped(history: HistoryStore) -> None:
    r = SessionRecorder(history, background=False)
    r.on_events([rep(1, 1.0)])
    assert r.backlog == 0 and history.list_players() == []


def test_database_outage_buffers_then_catches_up(
    history: HistoryStore, background: bool, recorders: list[SessionRecorder]
) -> None:
    flaky = Flaky(history)
    r = SessionRecorder(flaky, background=background, retry_s=3600)  # type: ignore[arg-type]
    recorders.append(r)
    flaky.down = True
    r.begin("ann", "push_up")  # the set is kept, not lost
    r.on_events([rep(1, 2.0)])
    r.on_events([rep(2, 4.0)])
    assert not r.flush(timeout=5)
    assert r.backlog == 2 and r.last_error is not None and r.session_id is None
    calls = flaky.calls
    r.on_events([no_rep(1, 5.0)])  # within retry_s: no new attempt, the frame is cheap
    time.sleep(0.05)
    assert flaky.calls == calls
    flaky.down = False
    assert r.flush(timeout=10)
    assert r.backlog == 0 and r.last_error is None
    s = _only_session(history, "ann")
    assert (s.reps, s.no_reps) == (2, 1)
    assert s.id == r.session_id


def test_outage_across_the_end_of_a_set(
    history: HistoryStore, background: bool, recorders: list[SessionRecorder]
) -> None:
    flaky = Flaky(history)
    r = SessionRecorder(flaky, background=background, retry_s=0.01)  # type: ignore[arg-type]
    recorders.append(r)
    r.begin("ann", "push_up")
    r.on_events([rep(1, 2.0)])
    assert r.flush()
    flaky.down = True
    r.on_events([rep(2, 4.0)])
    r.end(_state(pace=9.0))
    r.begin("ann", "squat")  # the next set queues behind it
    r.on_events([rep(1, 1.0)])
    assert r.backlog == 2
    flaky.down = False
    time.sleep(0.05)
    r.on_events([])  # inline mode retries on the next frame; the writer thread by itself
    deadline = time.monotonic() + 10
    while r.backlog and time.monotonic() < deadline:
        time.sleep(0.01)
    assert r.flush()
    push_up, squat = history.player_history("ann")
    assert (push_up.status, push_up.reps, push_up.pace) == ("done", 2, 9.0)
    assert (squat.workout, squat.status, squat.reps) == ("squat", "active", 1)


def test_engine_and_owner_threads_together(history: HistoryStore, background: bool) -> None:
    """Events from the engine thread while another thread flushes: each stored exactly once."""
    r = SessionRecorder(history, background=background)
    r.begin("ann", "push_up")
    stop = threading.Event()

    def flush_often() -> None:
        while not stop.is_set():
            r.flush(1)
            time.sleep(0.001)

    flusher = threading.Thread(target=flush_often)
    flusher.start()
    for i in range(1, 21):
        r.on_events([rep(i, float(i))])
    stop.set()
    flusher.join(30)
    assert r.close()
    assert [e.index for e in history.session_timeline(_only_session(history, "ann").id)] == list(
        range(1, 21)
    )
