"""Writes of the history store: players, sessions, events, totals, timestamps, threads."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from hiitpi.core.events import RepEvent
from hiitpi.store import HistoryStore, SessionStatus

from .conftest import NOW, no_rep, rep


@pytest.mark.parametrize(
    "name",
    ["<script>alert(1)", "<svg onload=alert()>", "O'Brien; DROP--", "Zoë 🏋", "a" * 20, "x"],
)
def test_names_are_stored_verbatim(history: HistoryStore, name: str) -> None:
    assert history.get_or_create_player(name).name == name
    assert history.get_or_create_player(f"  {name} ").name == name  # stripped, same player
    assert [p.name for p in history.list_players()] == [name]
    sid = history.start_session(name, "push_up")
    assert history.get_session(sid).player == name  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "name", ["", "   ", "a" * 21, "<script>alert(1)</script>", "tab\there", "new\nline", "\x00"]
)
def test_invalid_names_are_refused(history: HistoryStore, name: str) -> None:
    with pytest.raises(ValueError, match="1-20 printable"):
        history.get_or_create_player(name)
    with pytest.raises(ValueError):
        history.start_session(name, "push_up")
    assert history.list_players() == []


def test_list_players_most_recent_first(history: HistoryStore) -> None:
    history.get_or_create_player("newbie")  # no session yet: ranked by creation time
    history.start_session("old", "squat", started_at=NOW - timedelta(days=30))
    history.start_session("recent", "squat", started_at=datetime.now(UTC) + timedelta(hours=1))
    players = history.list_players()
    assert [(p.name, p.sessions) for p in players] == [("recent", 1), ("newbie", 0), ("old", 1)]
    assert players[1].last_session_at is None


def test_session_lifecycle_and_running_totals(history: HistoryStore) -> None:
    sid = history.start_session("ann", "push_up", "movenet", "rtsp://cam", started_at=NOW)
    s = history.get_session(sid)
    assert s is not None
    assert (s.status, s.reps, s.no_reps, s.pace, s.ended_at) == ("active", 0, 0, None, None)
    assert (s.backend, s.source, s.station) == ("movenet", "rtsp://cam", "default")
    assert history.record_event(sid, rep(1, 2.0)) is True
    assert history.record_event(sid, no_rep(1, 3.0)) is True
    assert history.record_event(sid, rep(2, 4.0)) is True
    s = history.get_session(sid)
    assert s is not None and (s.reps, s.no_reps, s.status) == (2, 1, "active")
    done = history.finish_session(sid, 15.0, ended_at=NOW + timedelta(seconds=30))
    assert (done.status, done.reps, done.no_reps, done.pace) == ("done", 2, 1, 15.0)
    assert done.duration_s == 30.0 and done.good_share == pytest.approx(2 / 3)
    assert history.get_session(sid) == done


def test_record_event_is_idempotent(history: HistoryStore) -> None:
    sid = history.start_session("ann", "push_up")
    assert history.record_event(sid, rep(1, 2.0))
    assert not history.record_event(sid, rep(1, 2.0))  # a retry of the same rep
    assert history.record_event(sid, no_rep(1, 2.5))  # no-rep 1 is another event
    s = history.get_session(sid)
    assert s is not None and (s.reps, s.no_reps) == (1, 1)
    assert len(history.session_timeline(sid)) == 2


def test_unknown_session(history: HistoryStore) -> None:
    with pytest.raises(KeyError):
        history.record_event(12345, rep(1, 1.0))
    with pytest.raises(KeyError):
        history.finish_session(12345, 1.0)
    assert history.get_session(12345) is None


def test_timestamps_are_aware_utc(history: HistoryStore) -> None:
    tokyo = timezone(timedelta(hours=9))
    sid = history.start_session("ann", "squat", started_at=NOW.astimezone(tokyo))
    history.record_event(sid, rep(1, 1.0), recorded_at=NOW.astimezone(tokyo))
    history.finish_session(sid, None)
    s = history.get_session(sid)
    assert s is not None and s.ended_at is not None
    assert s.started_at == NOW and s.started_at.tzinfo is UTC
    assert s.ended_at.tzinfo is UTC
    assert abs(s.ended_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert history.session_timeline(sid)[0].recorded_at.tzinfo is UTC
    assert history.list_players()[0].created_at.tzinfo is UTC
    with pytest.raises(ValueError, match="naive"):
        history.start_session("ann", "squat", started_at=datetime(2026, 1, 1))


def test_mark_interrupted_sessions_by_station(history: HistoryStore) -> None:
    a = history.start_session("ann", "squat", station="kitchen", started_at=NOW)
    b = history.start_session("bea", "squat", station="garage", started_at=NOW)
    done = history.start_session("cy", "squat", station="kitchen", started_at=NOW)
    history.finish_session(done, 9.0)
    history.record_event(a, rep(1, 2.0), recorded_at=NOW + timedelta(seconds=2))
    assert history.find_active_session("kitchen", "ann", "squat") == a
    assert history.find_active_session("kitchen", "ann", "lunge") is None
    assert history.mark_interrupted_sessions("kitchen") == 1
    assert history.find_active_session("kitchen", "ann", "squat") is None
    sa, sb = history.get_session(a), history.get_session(b)
    assert sa is not None and sb is not None
    assert (sa.status, sa.reps, sa.ended_at) == ("interrupted", 1, NOW + timedelta(seconds=2))
    assert sb.status == SessionStatus.ACTIVE
    assert history.mark_interrupted_sessions() == 1  # the garage's
    sb = history.get_session(b)
    assert sb is not None and (sb.status, sb.ended_at) == ("interrupted", NOW)  # no rep: start
    assert history.get_session(done).status == "done"  # type: ignore[union-attr]


def test_one_store_shared_by_threads(history: HistoryStore) -> None:
    """The engine writes while web threads read: no lost update, no error."""
    sessions = [history.start_session(f"p{i}", "push_up") for i in range(4)]
    errors: list[BaseException] = []

    def write(sid: int) -> None:
        try:
            for i in range(1, 11):
                history.record_event(sid, rep(i, float(i)))
        except BaseException as exc:
            errors.append(exc)

    def read() -> None:
        try:
            for _ in range(10):
                history.leaderboard_week()
                history.list_players()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(sid,)) for sid in sessions]
    threads += [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert [history.get_session(sid).reps for sid in sessions] == [10] * 4  # type: ignore[union-attr]
    assert sum(t.reps for t in history.leaderboard_week()) == 40


def test_concurrent_creation_of_one_player(history: HistoryStore) -> None:
    barrier = threading.Barrier(4)
    got: list[str] = []

    def create() -> None:
        barrier.wait(5)
        got.append(history.get_or_create_player("same").name)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert got == ["same"] * 4
    assert [p.name for p in history.list_players()] == ["same"]


def test_healthy(history: HistoryStore) -> None:
    assert history.healthy()


def test_events_round_trip_every_field(history: HistoryStore) -> None:
    sid = history.start_session("ann", "push_up")
    event = RepEvent.from_dict(
        {
            "kind": "no_rep",
            "index": 7,
            "t": 123.456789,
            "t_start": 121.0,
            "duration": 2.456789,
            "quality": 0.123456,
            "rom": 1.25,
            "reason_code": "elbows_flare",
            "reason": "keep your elbows in — « tucked »",
        }
    )
    history.record_event(sid, event)
    assert history.session_timeline(sid)[0].to_event() == event
