"""The station's journal: what a crash leaves, replayed into history exactly once.

Each test records through a SessionRecorder with a real journal file, "crashes" (closes the
journal without ending anything, or keeps the database away), then opens a second recorder on
the same file, as the next start of the app does.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hiitpi.core.events import WorkoutState
from hiitpi.engine.journal import Journal, journal_path
from hiitpi.engine.recorder import SessionRecorder
from hiitpi.errors import ConfigError
from hiitpi.store import HistoryStore, RepConflict

from .conftest import no_rep, rep
from .test_recorder import Flaky


def _state(reps: int, no_reps: int = 0) -> WorkoutState:
    return WorkoutState("push_up", float(reps), reps=reps, no_reps=no_reps)


def _crash(r: SessionRecorder) -> None:
    """What SIGKILL leaves: the journal as written, nothing ended, nothing flushed."""
    assert r.journal is not None
    r.journal.close()


def _indices(history: HistoryStore, sid: int) -> list[tuple[str, int]]:
    return [(x.kind.value, x.index) for x in history.session_timeline(sid)]


def test_reps_queued_while_the_database_is_down_survive_a_crash(
    history: HistoryStore, tmp_path: Path
) -> None:
    path = journal_path(tmp_path, "kitchen")
    flaky = Flaky(history)
    first = SessionRecorder(flaky, station="kitchen", journal=Journal(path), retry_s=60)  # type: ignore[arg-type]
    first.begin("ann", "push_up")
    first.on_events([rep(1, 1.0), rep(2, 2.0)], _state(2))
    assert first.flush()
    flaky.down = True  # the database goes away; two more reps, a no-rep and a fix
    first.on_events([rep(3, 3.0)], _state(3))
    first.on_events([no_rep(1, 3.5), rep(4, 4.0)], _state(4, 1))
    assert first.correct(1)
    assert not first.flush(timeout=1)
    assert first.health()["ok"] is False and first.health()["backlog"] >= 3
    _crash(first)  # SIGKILL while the database is down: the memory queue is gone

    second = SessionRecorder(history, station="kitchen", journal=Journal(path))
    try:
        assert second.flush()
        open_set = second.open_set()
        assert open_set is not None and open_set.state == _state(4, 1)
        (s,) = history.player_history("ann")
        assert (s.reps, s.no_reps, s.correction, s.status) == (4, 1, 1, "active")
        assert _indices(history, s.id) == [
            ("rep", 1), ("rep", 2), ("rep", 3), ("no_rep", 1), ("rep", 4)
        ]  # fmt: skip
        # the engine resumes it: the same set, the next rep is 5
        second.begin("ann", "push_up", resume=True)
        second.on_events([rep(5, 5.0)], _state(5, 1))
        second.end(_state(5, 1))
        assert second.flush()
        (s,) = history.player_history("ann")
        assert (s.reps, s.correction, s.status) == (5, 1, "done")
        assert second.health() == {
            "ok": True, "state": "ok", "error": None, "since": second.health()["since"],
            "backlog": 0,
        }  # fmt: skip
    finally:
        second.close()
    assert path.stat().st_size == 0  # everything stored and closed: compacted


def test_a_replay_stores_nothing_twice(history: HistoryStore, tmp_path: Path) -> None:
    path = journal_path(tmp_path, "kitchen")
    first = SessionRecorder(history, station="kitchen", journal=Journal(path))
    first.begin_plan("ann", "p", "Plan", "")
    first.begin("ann", "push_up", block=0, round=1)
    first.on_events([rep(1, 1.0), rep(2, 2.0)], _state(2))
    first.correct(-1)
    first.end(_state(2))
    first.end_plan()
    first.begin("ann", "squat")
    first.on_events([rep(1, 1.0)], WorkoutState("squat", 1.0, reps=1))
    assert first.flush()
    _crash(first)  # stored, but the squat set is open: nothing was compacted
    assert path.stat().st_size > 0
    for _ in range(2):  # two restarts, each replaying the whole journal
        again = SessionRecorder(history, station="kitchen", journal=Journal(path))
        assert again.flush()
        _crash(again)
    sets = sorted(history.player_history("ann"), key=lambda s: s.workout)
    assert [(s.workout, s.reps, s.correction) for s in sets] == [
        ("push_up", 2, -1),
        ("squat", 1, 0),
    ]
    assert len(history.player_plan_sessions("ann")) == 1


def test_done_is_durable_before_it_returns(history: HistoryStore, tmp_path: Path) -> None:
    """A crash right after Done! never reopens the set, database up or down."""
    path = journal_path(tmp_path, "kitchen")
    flaky = Flaky(history)
    first = SessionRecorder(
        flaky,  # type: ignore[arg-type]
        station="kitchen",
        journal=Journal(path),
        retry_s=60,
        end_wait_s=30,  # however slow the database: end() returns once it has the set
    )
    first.begin("ann", "push_up")
    first.on_events([rep(1, 1.0)], _state(1))
    first.end(_state(1))
    (s,) = history.player_history("ann")
    assert s.status == "done"  # the database was up: stored when end() returned
    first.begin("ann", "push_up")
    first.on_events([rep(1, 1.0)], _state(1))
    flaky.down = True
    first.end(_state(1))
    _crash(first)
    second = SessionRecorder(history, station="kitchen", journal=Journal(path))
    try:
        assert second.open_set() is None  # not reopened
        assert second.flush()
        assert [x.status for x in history.player_history("ann")] == ["done", "done"]
    finally:
        second.close()


def test_a_torn_last_line_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    j = Journal(path)
    j.append({"type": "plan_end", "plan": "x"}, {"type": "plan_end", "plan": "y"})
    j.close()
    with open(path, "ab") as f:
        f.write(b'{"type": "events", "se')  # the power went mid-write
    j = Journal(path)
    try:
        assert [r["plan"] for r in j.records()] == ["x", "y"]
        j.append({"type": "plan_end", "plan": "z"})
        assert [r["plan"] for r in j.records()] == ["x", "y", "z"]
    finally:
        j.close()


def test_one_process_per_journal(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    try:
        with pytest.raises(ConfigError, match="another hiitpi"):
            Journal(tmp_path / "j.jsonl")
    finally:
        j.close()
    Journal(tmp_path / "j.jsonl").close()  # free again


def test_a_different_rep_under_a_stored_index_is_a_loud_conflict(
    history: HistoryStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sid = history.start_session("ann", "push_up", uuid="u-1")
    assert history.record_event(sid, rep(1, 1.0))
    assert not history.record_event(sid, rep(1, 1.0))  # the same rep again: a replay
    with pytest.raises(RepConflict):
        history.record_event(sid, rep(1, 9.0))
    assert history.start_session("ann", "push_up", uuid="u-1") == sid
    r = SessionRecorder(history, background=False, journal=Journal(tmp_path / "j.jsonl"))
    try:
        r.begin("ann", "squat")
        r.on_events([rep(1, 1.0)])
        assert r.session_id is not None
        r._sets[-1].events.append(rep(1, 7.0))  # a bug numbering one set twice
        with caplog.at_level(logging.ERROR):
            r.flush()
        assert "already has rep 1" in caplog.text
        assert "conflicted" in (r.health()["error"] or "")
    finally:
        r.close()


def test_a_plank_hold_survives_a_crash_to_within_a_second(
    history: HistoryStore, tmp_path: Path
) -> None:
    """A timed hold counts no events while it grows: its time is journaled as it grows."""
    path = journal_path(tmp_path, "kitchen")
    first = SessionRecorder(history, station="kitchen", journal=Journal(path))
    first.begin("ann", "plank")
    size = path.stat().st_size
    for i in range(1, 131):  # 13 s of frames at 10 fps, held from the first one
        first.on_events([], WorkoutState("plank", i / 10, hold_s=i / 10))
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + 13  # set_begin, then the hold once a second, not every frame
    assert path.stat().st_size > size
    _crash(first)  # SIGKILL at 13.0 s of hold

    second = SessionRecorder(history, station="kitchen", journal=Journal(path))
    try:
        open_set = second.open_set()
        assert open_set is not None and open_set.state is not None
        assert open_set.state.hold_s == pytest.approx(13.0)
        second.begin("ann", "plank", resume=True)  # the engine resumes it: on from 13 s
        second.on_events([], WorkoutState("plank", 13.5, hold_s=13.5))
        assert len(path.read_text().splitlines()) == 14  # under a second more: not yet
        second.on_events([], WorkoutState("plank", 14.0, hold_s=14.0))
        assert len(path.read_text().splitlines()) == 15
        second.end(WorkoutState("plank", 20.0, hold_s=20.0))
        second.on_events([], WorkoutState("plank", 21.0, hold_s=21.0))  # no set open: nothing
        assert second.flush()
    finally:
        second.close()


def test_a_set_a_crash_left_open_ends_at_its_last_state_not_when_it_is_closed(
    history: HistoryStore, tmp_path: Path
) -> None:
    """Closed at the next start, hours later: its duration is the set's, not the downtime's."""
    path = journal_path(tmp_path, "kitchen")
    t0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    first = SessionRecorder(history, station="kitchen", journal=Journal(path), clock=lambda: t0)
    first.begin("ann", "push_up")
    first.on_events([rep(1, 1.0), rep(2, 2.0)], WorkoutState("push_up", 42.5, reps=2))
    assert first.flush()
    _crash(first)

    later = t0 + timedelta(hours=3)
    second = SessionRecorder(history, station="kitchen", journal=Journal(path), clock=lambda: later)
    try:
        second.begin("ann", "squat")  # another set: the one left open is closed, interrupted
        assert second.flush()
        push = next(s for s in history.player_history("ann") if s.workout == "push_up")
        assert push.status == "interrupted" and push.reps == 2
        assert push.ended_at == t0 + timedelta(seconds=42.5)
    finally:
        second.close()
