"""Fault: the pose model or the referee raises on the frames of a running set.

The real engine on a real Redis and a real (synthetic) video file looped as a camera. The
estimator and the referee's ``update`` are test doubles that raise while a switch is on: what is
under test is the engine around them. A failing frame is skipped, never the set: the count so
far stays, the live view goes on, the status says what fails (for a person and in the error),
and all of that clears when frames work again.
"""

from __future__ import annotations

import errno
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from tests.store.test_recorder import Flaky

from hiitpi.config import Settings, SourceConfig
from hiitpi.core.events import EventKind, RepEvent, WorkoutState
from hiitpi.core.frame import Frame
from hiitpi.core.pose import Pose
from hiitpi.engine.failures import HUD
from hiitpi.engine.journal import Journal
from hiitpi.engine.live import LiveEngine
from hiitpi.engine.recorder import SessionRecorder
from hiitpi.live import Command, CommandKind, LiveSnapshot, RedisLiveStore
from hiitpi.referee import RefereePipeline
from hiitpi.sources import open_source
from hiitpi.store import HistoryStore

from .conftest import ReplayEstimator, wait_for


class FlakyEstimator(ReplayEstimator):
    """Finds nobody; raises while ``failing`` is set (a model that broke on some frames)."""

    name = "flaky"

    def __init__(self) -> None:
        super().__init__({})
        self.failing = threading.Event()

    def estimate(self, frame: Frame) -> Pose | None:
        if self.failing.is_set():
            raise RuntimeError("model exploded")
        return super().estimate(frame)


def _refereeing(engine: LiveEngine, store: RedisLiveStore) -> RefereePipeline:
    """The started engine's referee, once it referees frames."""
    wait_for(store, lambda s: s.status.active and s.status.frames >= 3)
    assert engine.referee is not None
    return engine.referee


def _failing(snap: LiveSnapshot, what: str) -> bool:
    return snap.status.error is not None and what in snap.status.error


@pytest.mark.parametrize("part", ["pose", "referee"])
def test_a_failing_frame_is_skipped_and_the_count_kept(
    store: RedisLiveStore, small_clip: Path, part: str
) -> None:
    settings = Settings(source=SourceConfig(uri=str(small_clip), loop=True))
    source = open_source(settings.source, paced=True)
    estimator = FlakyEstimator()
    engine = LiveEngine(source, estimator, store, settings, exercise="squat")
    referee_fails = threading.Event()
    engine.start()
    try:
        pipeline = _refereeing(engine, store)
        real_update = pipeline.update

        def update(pose: Pose | None, t: float) -> tuple[WorkoutState, list[RepEvent]]:
            if referee_fails.is_set():
                raise ZeroDivisionError("division by zero")
            state, events = real_update(pose, t)
            return replace(state, reps=3), events  # as if three reps were counted

        pipeline.update = update  # type: ignore[method-assign]
        hud: list[str] = []  # what the live video's HUD says, frame by frame
        real_render = engine.live_view.render

        def render(image, refereeing, pose, state):  # type: ignore[no-untyped-def]
            hud.append(state.message if state is not None else "")
            return real_render(image, refereeing, pose, state)

        engine.live_view.render = render  # type: ignore[method-assign]
        wait_for(store, lambda s: s.state is not None and s.state.reps == 3)

        (estimator.failing if part == "pose" else referee_fails).set()
        what = "the pose model (flaky) failed: RuntimeError('model exploded')"
        if part == "referee":
            what = "the referee failed: ZeroDivisionError('division by zero')"
        snap = wait_for(store, lambda s: _failing(s, what))
        word = "pose model" if part == "pose" else "referee"
        assert snap.status.message == (
            f"Something went wrong in the {word}: frames are skipped until it works again; "
            "your 3 reps are saved"
        )
        assert snap.state is not None and snap.state.reps == 3  # nothing counted is lost
        referee = snap.status.health["referee"]  # /healthz answers 503 on it
        assert (referee["ok"], referee["state"], referee["error"]) == (False, "failing", what)
        assert snap.status.active and snap.status.running
        # the engine goes on with the video: frames are still delivered, and shown
        frames = snap.status.frames
        store.touch_viewer("viewer-1", ttl=10)
        first = store.wait_frame(None, timeout=3)
        assert first is not None and first[1][:2] == b"\xff\xd8"
        later = wait_for(store, lambda s: s.status.frames >= frames + 10)
        assert _failing(later, what)
        assert store.wait_frame(first[0], timeout=3) is not None  # a newer JPEG
        assert hud and hud[-1] == HUD

        estimator.failing.clear()
        referee_fails.clear()
        snap = wait_for(store, lambda s: s.status.error is None)
        assert snap.status.message is None and snap.status.active
        assert snap.status.health["referee"]["ok"] is True
        assert snap.state is not None and snap.state.reps == 3
        wait_for(store, lambda s: bool(hud) and hud[-1] != HUD)
    finally:
        engine.stop()
        source.close()


def test_a_new_set_forgets_the_failure_of_the_last(store: RedisLiveStore, small_clip: Path) -> None:
    settings = Settings(source=SourceConfig(uri=str(small_clip), loop=True))
    source = open_source(settings.source, paced=True)
    estimator = FlakyEstimator()
    estimator.failing.set()  # from the first frame: 0 reps, the same message every time
    engine = LiveEngine(source, estimator, store, settings, exercise="squat")
    engine.start()
    try:
        snap = wait_for(store, lambda s: _failing(s, "model exploded"))
        assert snap.status.health["referee"]["state"] == "failing"
        store.send_command(Command(CommandKind.START, exercise="push_up"))  # Start again
        wait_for(store, lambda s: s.state is not None and s.state.exercise == "push_up")
        # still failing: said again for the new set, not left out as "already said"
        snap = wait_for(store, lambda s: _failing(s, "model exploded") and s.status.frames > 5)
        assert snap.status.message is not None and snap.status.message.startswith(
            "Something went wrong in the pose model"
        )
        store.send_command(Command(CommandKind.STOP))  # the end of the set ends the failure
        snap = wait_for(store, lambda s: not s.status.active)
        assert snap.status.error is None and snap.status.health["referee"]["ok"] is True
    finally:
        engine.stop()
        source.close()


def test_a_rep_the_recorder_could_not_take_is_given_again_before_screens_hear_of_it(
    store: RedisLiveStore, small_clip: Path, tmp_path: Path
) -> None:
    history = HistoryStore(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    recorder = SessionRecorder(history, station=store.station)
    settings = Settings(source=SourceConfig(uri=str(small_clip), loop=True))
    source = open_source(settings.source, paced=True)
    engine = LiveEngine(
        source, ReplayEstimator({}), store, settings, exercise="squat", recorder=recorder
    )
    rep_now, broken = threading.Event(), threading.Event()
    taken: list[list[RepEvent]] = []
    real_on_events = recorder.on_events

    def on_events(events: list[RepEvent], state: WorkoutState | None = None) -> None:
        if broken.is_set():
            raise OSError("journal: no space left on device")
        if events:
            taken.append(list(events))
        real_on_events(events, state)

    recorder.on_events = on_events  # type: ignore[method-assign]
    engine.start()
    try:
        pipeline = _refereeing(engine, store)
        real_update = pipeline.update
        counted = {"reps": 0}

        def update(pose: Pose | None, t: float) -> tuple[WorkoutState, list[RepEvent]]:
            state, _ = real_update(pose, t)
            if not rep_now.is_set():
                return replace(state, reps=counted["reps"]), []
            rep_now.clear()
            counted["reps"] += 1
            rep = RepEvent(EventKind.REP, counted["reps"], t, t - 1.0, 1.0, 1.0, 1.0)
            return replace(state, reps=counted["reps"]), [rep]

        pipeline.update = update  # type: ignore[method-assign]
        broken.set()
        rep_now.set()  # the referee counts rep 1 while the recorder fails
        snap = wait_for(store, lambda s: _failing(s, "the workout recorder failed: OSError"))
        assert snap.state is not None and snap.state.reps == 0  # not shown before it is saved
        assert snap.status.message is not None and "saved" not in snap.status.message
        assert not [e for _, e in store.events()]
        broken.clear()  # the next frame gives the recorder rep 1 again
        snap = wait_for(store, lambda s: s.state is not None and s.state.reps == 1)
        assert [[e.index for e in batch] for batch in taken] == [[1]]
        assert [e.index for _, e in store.events() if e.kind is EventKind.REP] == [1]
        open_set = recorder.open_set()  # the journal's: rep 1, once
        assert open_set is not None and open_set.state is not None and open_set.state.reps == 1
    finally:
        engine.stop()
        source.close()
        history.close()


def test_reps_the_disk_refused_are_not_called_saved(
    store: RedisLiveStore, small_clip: Path, tmp_path: Path
) -> None:
    """The journal's disk is full (``append`` raises ENOSPC: the real full tmpfs is in
    tests/store/test_journal_full_disk.py) and the database is down, so the two reps the
    referee counts are in memory only: a frame failure then says so instead of "saved"."""
    history = HistoryStore(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    flaky = Flaky(history)
    flaky.down = True
    journal = Journal(tmp_path / "journal.jsonl")
    recorder = SessionRecorder(flaky, station=store.station, journal=journal, retry_s=60)  # type: ignore[arg-type]
    settings = Settings(source=SourceConfig(uri=str(small_clip), loop=True))
    source = open_source(settings.source, paced=True)
    estimator = FlakyEstimator()
    engine = LiveEngine(source, estimator, store, settings, exercise="squat", recorder=recorder)
    engine.start()
    try:
        pipeline = _refereeing(engine, store)
        real_update = pipeline.update
        reps: list[RepEvent] = []

        def update(pose: Pose | None, t: float) -> tuple[WorkoutState, list[RepEvent]]:
            state, _ = real_update(pose, t)
            new = []
            if len(reps) < 2:  # two reps, on the next two frames
                reps.append(RepEvent(EventKind.REP, len(reps) + 1, t, t - 1.0, 1.0, 1.0, 1.0))
                new = reps[-1:]
            return replace(state, reps=len(reps)), new

        def full(*records: object) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        journal.append = full  # type: ignore[method-assign]
        pipeline.update = update  # type: ignore[method-assign]
        wait_for(store, lambda s: s.state is not None and s.state.reps == 2)
        estimator.failing.set()
        snap = wait_for(store, lambda s: _failing(s, "model exploded"))
        assert snap.status.message == (
            "Something went wrong in the pose model: frames are skipped until it works again; "
            "your 2 reps are counted but not saved yet "
            "(the disk refused them: [Errno 28] No space left on device)"
        )
    finally:
        engine.stop()
        source.close()
        history.close()
