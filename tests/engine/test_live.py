"""The live engine on real clips, a real Redis and (mostly) the real pose model."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from hiitpi.config import PoseConfig, Settings, SourceConfig
from hiitpi.core.events import EventKind, RepEvent, WorkoutState
from hiitpi.engine.journal import Journal, journal_path
from hiitpi.engine.live import LiveEngine
from hiitpi.engine.poses import track_for
from hiitpi.engine.recorder import GUEST_PLAYER, SessionRecorder
from hiitpi.live import Command, CommandKind, EngineStatus, RedisLiveStore
from hiitpi.pose import build_estimator
from hiitpi.referee import Referee, load_exercise
from hiitpi.sources import open_source
from hiitpi.store import HistoryStore

from .conftest import ReplayEstimator, wait_for

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.model
def test_standby_commands_and_render_only_when_watched(
    store: RedisLiveStore, small_clip: Path
) -> None:
    settings = Settings(source=SourceConfig(uri=str(small_clip), loop=True))
    source = open_source(settings.source, paced=True)
    estimator = build_estimator(settings.pose)  # the real MediaPipe model
    engine = LiveEngine(source, estimator, store, settings)
    engine.start()
    try:
        snap = wait_for(store, lambda s: s.status.running and s.status.frames >= 5)
        assert snap.state is None and not snap.status.active
        assert snap.status.backend == estimator.name and snap.status.source == str(small_clip)
        # nobody watches: nothing is drawn or encoded
        assert engine.frames_rendered == 0
        assert store.wait_frame("0-0", timeout=0.1) is None

        store.touch_viewer("viewer-1", ttl=10)
        got = store.wait_frame(None, timeout=3)
        assert got is not None and got[1][:2] == b"\xff\xd8"  # a JPEG (the standby picture)

        wait_for(store, lambda s: s.status.frames >= 45)  # the camera's clock is >= 1.5 s
        store.send_command(Command(CommandKind.SET_PLAYER, player="Ann"))
        store.send_command(Command(CommandKind.START, exercise="squat"))
        snap = wait_for(store, lambda s: s.status.active and s.status.inference_ms > 0)
        assert snap.state is not None and snap.state.exercise == "squat"
        assert snap.status.player == "Ann"
        metrics = [m for _, m in store.metrics()]  # on the camera's clock
        assert metrics, "metrics are appended while an exercise runs"
        # the set's clock starts at its first frame (camera time t0 >= 1.5 s), so the state's
        # time is its frame's camera time minus t0, whatever the machine's speed
        t0 = metrics[0].t
        assert t0 >= 1.4
        assert any(abs(m.t - t0 - snap.state.t) < 0.01 for m in metrics), (t0, snap.state.t)

        store.send_command(Command(CommandKind.START, exercise="no_such_exercise"))
        snap = wait_for(store, lambda s: s.status.error is not None)
        assert "no_such_exercise" in (snap.status.error or "")
        assert snap.state is not None and snap.state.exercise == "squat"  # still refereeing

        store.send_command(Command(CommandKind.STOP))
        snap = wait_for(store, lambda s: not s.status.active)
        assert snap.state is not None and snap.state.exercise == "squat"  # last result kept

        store.drop_viewer("viewer-1")
        time.sleep(0.4)  # > VIEWER_CHECK_S: the engine notices nobody watches any more
        rendered = engine.frames_rendered
        time.sleep(0.3)
        assert engine.frames_rendered == rendered
    finally:
        engine.stop()
        source.close()
        estimator.close()
    snap = store.get_state()
    assert snap is not None and not snap.status.running


@pytest.mark.shared
@pytest.mark.slow
def test_counts_push_ups_live_and_records_every_rep(
    store: RedisLiveStore, clips_dir: Path, tmp_path: Path
) -> None:
    clip = clips_dir / "push_up__venkat__1.mp4"
    cache = REPO / Settings().cache_dir
    track = track_for(clip, PoseConfig(), cache)  # the real model, run once and cached
    poses = {tf.frame: tf.pose for tf in track}
    offline = Referee(load_exercise("push_up"))
    for tf in track:
        offline.update(tf.pose, tf.t)

    history = HistoryStore(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    recorder = SessionRecorder(history, station=store.station)
    settings = Settings(source=SourceConfig(uri=str(clip)))
    source = open_source(settings.source, paced=True)  # the file as a camera: native speed
    engine = LiveEngine(
        source, ReplayEstimator(poses), store, settings, exercise="push_up", recorder=recorder
    )
    engine.start()
    try:
        snap = wait_for(store, lambda s: s.status.error is not None, timeout=30)  # clip ended
    finally:
        engine.stop()
        source.close()
    assert "ended" in (snap.status.error or "")
    assert snap.state is not None
    assert 6 <= snap.state.reps <= 7
    if snap.status.dropped == 0:  # the engine kept up with every frame (a loaded CI may not)
        assert snap.state.reps == offline.state.reps
    reps = [e for _, e in store.events() if e.kind is EventKind.REP]
    assert [e.index for e in reps] == list(range(1, snap.state.reps + 1))

    # the history got every rep as it happened; "Done" (stop) closes the set with its pace
    engine.stop_exercise()
    assert recorder.flush(), recorder.last_error  # whatever waits is written now
    try:
        (session,) = history.player_history(GUEST_PLAYER)
        timeline = history.session_timeline(session.id)
    finally:
        history.close()
    assert (session.workout, session.reps, session.no_reps) == (
        "push_up",
        snap.state.reps,
        snap.state.no_reps,
    )
    assert session.ended_at is not None and session.station == store.station
    assert len(timeline) == snap.state.reps + snap.state.no_reps


def test_resumes_counts_after_an_engine_crash(
    store: RedisLiveStore, small_clip: Path, tmp_path: Path
) -> None:
    # What a crashed engine left in its journal: a squat set in progress with 5 reps, 1 no-rep.
    before = WorkoutState("squat", 40.0, reps=5, no_reps=1, rep_times=(1.0, 2.0, 3.0, 4.0, 5.0))
    history = HistoryStore(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    path = journal_path(tmp_path, store.station)
    crashed = SessionRecorder(history, station=store.station, journal=Journal(path))
    crashed.begin("Bo", "squat", owner="ana-browser")
    events = [RepEvent(EventKind.REP, i, float(i), i - 0.5, 0.5, 0.9, 1.0) for i in range(1, 6)]
    crashed.on_events(events, replace(before, reps=4, no_reps=0))
    crashed.on_events([RepEvent(EventKind.NO_REP, 1, 6.0, 5.5, 0.5, 0.2, 0.5, "x", "y")], before)
    assert crashed.journal is not None
    crashed.journal.close()  # SIGKILL: no end
    # ... while Redis's snapshot, saved earlier, still says 3 reps: it must not decide
    older = replace(before, t=20.0, reps=3, no_reps=0, rep_times=(1.0, 2.0, 3.0))
    store.publish_state(older, EngineStatus(player="Bo", active=True, running=True))
    recorder = SessionRecorder(history, station=store.station, journal=Journal(path))

    settings = Settings(source=SourceConfig(uri=str(small_clip)))
    source = open_source(settings.source, paced=True)
    # No person in this clip, so the replay estimator finds nobody; the model is not under test.
    engine = LiveEngine(source, ReplayEstimator({}), store, settings, recorder=recorder)
    engine.start()
    try:
        snap = wait_for(store, lambda s: s.status.frames >= 3)
        assert snap.status.active and snap.status.player == "Bo"
        assert snap.status.owner == "ana-browser"  # the browser that started it still owns it
        assert snap.state is not None and snap.state.exercise == "squat"
        assert (snap.state.reps, snap.state.no_reps) == (5, 1)
        assert snap.state.rep_times == before.rep_times
        assert snap.state.t >= 40.0  # the set's clock goes on from where it stopped
        # the short clip ends: the engine says so in the published state and keeps running
        snap = wait_for(store, lambda s: s.status.error is not None, timeout=10)
        assert "ended" in (snap.status.error or "") and snap.status.running
        assert snap.status.source_ended  # so /healthz turns 503
        assert engine.alive
        # one set in history, the journal's: the next rep would be 6 (indices never collide)
        assert recorder.flush()
        (stored,) = history.player_history("Bo")
        assert (stored.reps, stored.no_reps, stored.status) == (5, 1, "done")
    finally:
        engine.stop()
        source.close()
        recorder.close()
        history.close()
