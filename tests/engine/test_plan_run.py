"""The engine runs a plan on its own clock over a real clip's recorded poses and a real Redis.

The poses are the real MediaPipe track of the clip (cached); ReplayEstimator hands them out by
frame index so the count is the referee's on real poses (the model is not under test here).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from hiitpi.config import PoseConfig, Settings, SourceConfig
from hiitpi.core.events import EventKind, RepEvent, WorkoutState
from hiitpi.engine.journal import Journal, journal_path
from hiitpi.engine.live import LiveEngine
from hiitpi.engine.plan_run import SessionClock
from hiitpi.engine.poses import track_for
from hiitpi.engine.recorder import GUEST_PLAYER, SessionRecorder
from hiitpi.live import Command, CommandKind, EngineStatus, RedisLiveStore
from hiitpi.plans import Plan, save_user_plan
from hiitpi.sources import open_source
from hiitpi.store import HistoryStore

from .conftest import ReplayEstimator, wait_for


def rep(index: int, t: float) -> RepEvent:
    return RepEvent(EventKind.REP, index, t, t - 1.0, 1.0, 0.9, 1.0)


def test_session_clock_stops_while_paused() -> None:
    now = [100.0]
    clock = SessionClock(lambda: now[0])
    now[0] = 103.0
    clock.pause()
    now[0] = 110.0
    assert clock.t() == 3.0 and clock.paused
    clock.resume()
    now[0] = 111.5
    assert clock.t() == 4.5 and not clock.paused


@pytest.mark.shared
def test_a_plan_runs_countdown_work_rest_and_ends_a_block_on_its_target(
    store: RedisLiveStore, clips_dir: Path, tmp_path: Path
) -> None:
    clip = clips_dir / "push_up__venkat__1.mp4"
    track = track_for(clip, PoseConfig(), Settings().cache_dir)
    poses = {tf.frame: tf.pose for tf in track}
    plan = Plan.model_validate(
        {"id": "short", "name": "Short", "countdown_s": 1.0,
         "blocks": [{"exercise": "push_up", "target": 2, "rest_s": 1.5},
                    {"exercise": "push_up", "work_s": 2.0}]}
    )  # fmt: skip
    save_user_plan(plan, tmp_path)
    settings = Settings(source=SourceConfig(uri=str(clip)), data_dir=tmp_path)
    history = HistoryStore(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    recorder = SessionRecorder(history, station=store.station)
    source = open_source(settings.source, paced=True)
    engine = LiveEngine(source, ReplayEstimator(poses), store, settings, recorder=recorder)
    engine.start()
    seen: list[tuple[str | None, int | None]] = []
    try:
        store.send_command(Command(CommandKind.START, plan="short"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            snap = store.get_state()
            if snap is None:  # the link writes the first state from its own thread
                time.sleep(0.02)
                continue
            key = (snap.status.interval, snap.status.block)
            if not seen or seen[-1] != key:
                seen.append(key)
            if snap.status.interval == "done" or snap.status.source_ended:
                break
            time.sleep(0.02)
    finally:
        engine.stop()
        source.close()
    assert recorder.flush(), recorder.last_error
    try:
        (ps,) = history.player_plan_sessions(GUEST_PLAYER)
    finally:
        history.close()
    seen = [k for k in seen if k[0] is not None]  # before the engine read the command
    assert seen == [("countdown", 0), ("work", 0), ("rest", 0), ("countdown", 1), ("work", 1),
                    ("done", 1)]  # fmt: skip
    first, second = ps.blocks
    assert first.set.reps == 2  # the block ended on the counted target
    assert (first.set.block, second.set.block) == (0, 1)
    assert second.set.duration_s == pytest.approx(2.0, abs=0.5)  # a timed block ends on time
    assert ps.status == "done"


def test_a_plan_interrupted_by_a_crash_ends_cleanly_with_its_sets_saved(
    store: RedisLiveStore, small_clip: Path, tmp_path: Path
) -> None:
    # what a crashed engine left in its journal: a plan in its first block, one rep counted
    history = HistoryStore(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    path = journal_path(tmp_path, store.station)
    crashed = SessionRecorder(history, station=store.station, journal=Journal(path))
    crashed.begin_plan("Bo", "tabata-push_up", "Tabata", "")
    crashed.begin("Bo", "push_up", block=0, round=1)
    crashed.on_events([rep(1, 2.0)], WorkoutState("push_up", 2.0, reps=1, rep_times=(2.0,)))
    assert crashed.flush()
    ps = crashed.plan_session_id
    assert crashed.journal is not None
    crashed.journal.close()  # the process dies: no end, no end_plan
    # the live store's snapshot says the plan runs: it is not what decides
    status = EngineStatus(player="Bo", active=True, running=True, plan="tabata-push_up",
                          interval="work", block=0)  # fmt: skip
    store.publish_state(WorkoutState("push_up", 5.0, reps=1, rep_times=(2.0,)), status)

    settings = Settings(source=SourceConfig(uri=str(small_clip), loop=True), data_dir=tmp_path)
    recorder = SessionRecorder(history, station=store.station, journal=Journal(path))
    source = open_source(settings.source, paced=True)
    engine = LiveEngine(source, ReplayEstimator({}), store, settings, recorder=recorder)
    engine.start()
    try:
        snap = wait_for(store, lambda s: s.status.frames >= 3)
        assert not snap.status.busy and snap.status.plan is None
        assert "interrupted" in (snap.status.message or "")
        assert recorder.flush(), recorder.last_error
        assert ps is not None
        got = history.plan_session(ps)
        assert got is not None and got.status == "interrupted" and got.reps == 1
        assert got.blocks[0].set.status == "interrupted"
    finally:
        engine.stop()
        source.close()
        recorder.close()
        history.close()
    assert path.stat().st_size == 0  # all stored and closed: the journal is compacted


class WatchedStore(RedisLiveStore):
    """The real Redis store, noting for each rep event it is given whether the journal (on
    disk, read by another file handle) has it already."""

    journal: Path
    durable: list[bool]

    def append_event(self, event: RepEvent) -> str:
        with open(self.journal, encoding="utf-8") as f:
            records = [json.loads(line) for line in f]
        stored = any(
            e["index"] == event.index and e["kind"] == event.kind.value
            for r in records
            if r["type"] == "events"
            for e in r["events"]
        )
        self.durable.append(stored)
        return super().append_event(event)


@pytest.mark.shared
def test_a_counted_rep_is_journaled_before_screens_hear_of_it(
    external_store: RedisLiveStore, clips_dir: Path, tmp_path: Path
) -> None:
    clip = clips_dir / "push_up__venkat__1.mp4"
    track = track_for(clip, PoseConfig(), Settings().cache_dir)
    poses = {tf.frame: tf.pose for tf in track}
    store = WatchedStore(external_store.client, external_store.station)
    history = HistoryStore(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    store.journal, store.durable = journal_path(tmp_path, store.station), []
    recorder = SessionRecorder(history, station=store.station, journal=Journal(store.journal))
    settings = Settings(source=SourceConfig(uri=str(clip)))
    source = open_source(settings.source, paced=True)
    engine = LiveEngine(
        source, ReplayEstimator(poses), store, settings, exercise="push_up", recorder=recorder
    )
    engine.start()
    try:
        wait_for(store, lambda s: s.status.source_ended, timeout=30)
    finally:
        engine.stop()
        source.close()
        recorder.close()
        history.close()
    assert len(store.durable) >= 5 and all(store.durable), store.durable


@pytest.mark.parametrize(
    ("source_id", "failed", "words"),
    [
        ("CLIP", False, "the video ended"),
        ("CLIP", True, "the video could not be read"),
        ("0", True, "camera disconnected"),
        ("picamera", False, "camera disconnected"),
        ("rtsp://10.0.0.2/live", False, "the video stream stopped"),
    ],
)
def test_a_source_that_stops_is_said_in_words(
    source_id: str, failed: bool, words: str, small_clip: Path
) -> None:
    from hiitpi.engine.session import ended_message

    assert ended_message(str(small_clip) if source_id == "CLIP" else source_id, failed) == words
