"""The live engine on a real clip and the real Redis: a slow backend is reported as falling
behind in the published status; a camera that encodes its own view gets the overlay instead
of the engine encoding. The backend and the camera view are test doubles (no model: its speed
is what is simulated; no Pi camera)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from hiitpi.config import Settings, SourceConfig
from hiitpi.core.frame import Frame
from hiitpi.core.pose import Pose
from hiitpi.engine.live import LiveEngine
from hiitpi.engine.pace import PaceWatch
from hiitpi.live import RedisLiveStore
from hiitpi.render import encode_jpeg
from hiitpi.sources import open_source
from hiitpi.web.stream import FrameHub

from .conftest import wait_for


class SlowBackend:
    """Takes ``ms`` per frame and finds nobody: a model too heavy for the camera's rate."""

    def __init__(self, ms: float, name: str = "slow-full") -> None:
        self.ms, self.name = ms, name

    def estimate(self, frame: Frame) -> Pose | None:
        time.sleep(self.ms / 1000.0)
        return None

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


class RecordingView:
    """Stands in for ``CameraView``: keeps the drawer and hands out JPEGs on request."""

    def __init__(self) -> None:
        self.put: Callable[[bytes], None] | None = None
        self.draw: Callable[[NDArray[np.uint8]], NDArray[np.uint8]] | None = None
        self.stopped = False

    def start(self, put: Callable[[bytes], None], quality: int = 80) -> None:
        self.put = put

    def show(self, draw: Callable[[NDArray[np.uint8]], NDArray[np.uint8]] | None) -> None:
        self.draw = draw

    def stop(self) -> None:
        self.stopped = True

    def camera_frame(self) -> None:
        assert self.put is not None
        image = np.full((48, 64, 3), 90, np.uint8)
        self.put(encode_jpeg(self.draw(image) if self.draw else image))


def test_a_backend_slower_than_the_camera_is_reported_with_advice(
    store: RedisLiveStore, small_clip: Path
) -> None:
    settings = Settings(source=SourceConfig(uri=str(small_clip), loop=True))
    source = open_source(settings.source, paced=True)  # 30 fps
    engine = LiveEngine(source, SlowBackend(80.0), store, settings, exercise="squat",
                        backend_reason="slow-full: configured")  # fmt: skip
    engine.pace = PaceWatch(source.fps, "slow-full", hold_s=1.0, window_s=0.5)
    engine.start()
    try:
        snap = wait_for(store, lambda s: s.status.falling_behind, timeout=15)
        assert snap.status.warning is not None
        assert snap.status.warning.startswith("The pose engine is falling behind (")
        assert "of 30 fps): choose a lighter model with --backend movenet" in snap.status.warning
        assert snap.status.backend_reason == "slow-full: configured"
    finally:
        engine.stop()
        source.close()


def test_a_fast_backend_keeps_up_and_a_camera_view_gets_the_overlay(
    store: RedisLiveStore, small_clip: Path
) -> None:
    settings = Settings(source=SourceConfig(uri=str(small_clip), loop=True))
    source = open_source(settings.source, paced=True)
    engine = LiveEngine(source, SlowBackend(1.0, "fast"), store, settings)
    engine.pace = PaceWatch(source.fps, "fast", hold_s=1.0, window_s=0.5)
    view = RecordingView()
    engine.view = view
    engine.start()
    try:
        view.camera_frame()  # nobody watches: not stored
        assert store.wait_frame(None, timeout=0.2) is None
        store.touch_viewer("viewer-1", ttl=10)
        deadline = time.monotonic() + 5
        while view.draw is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert view.draw is not None  # the standby drawer: no exercise runs
        view.camera_frame()
        got = store.wait_frame(None, timeout=2)
        assert got is not None and got[1][:2] == b"\xff\xd8"
        assert engine.frames_rendered == 1  # the engine drew and encoded nothing itself
        snap = wait_for(store, lambda s: s.status.frames >= 60, timeout=15)
        assert not snap.status.falling_behind and snap.status.warning is None
    finally:
        engine.stop()
        source.close()
    assert view.stopped


def test_local_viewers_get_frames_in_memory_and_remote_ones_through_redis(
    store: RedisLiveStore, small_clip: Path
) -> None:
    """``hiitpi serve``'s own web is a local hub: its viewers are counted in memory and fed
    without Redis; a viewer registered in Redis (a web in another process) makes the engine
    write the frames there as well, and only then."""
    settings = Settings(source=SourceConfig(uri=str(small_clip), loop=True))
    source = open_source(settings.source, paced=True)
    engine = LiveEngine(source, SlowBackend(1.0, "fast"), store, settings)
    hub = FrameHub(store, local=True)
    engine.live_view.local = hub
    engine.start()
    try:
        time.sleep(0.3)
        assert hub.offers == 0 and engine.frames_rendered == 0  # nobody watches
        hub.subscribe()  # a stream opened on this process's web
        got = hub.wait(None, timeout=2)
        assert got is not None and got[1][:2] == b"\xff\xd8"
        wait_for(store, lambda s: s.status.viewers == 1)
        assert store.wait_frame(None, timeout=0.3) is None  # nothing went through Redis
        store.touch_viewer("remote-1", ttl=10)
        remote = store.wait_frame(None, timeout=2)
        assert remote is not None and remote[1][:2] == b"\xff\xd8"
        wait_for(store, lambda s: s.status.viewers == 2)
        hub.unsubscribe()
        wait_for(store, lambda s: s.status.viewers == 1)
        offers = hub.offers
        later = store.wait_frame(remote[0], timeout=2)
        assert later is not None and hub.offers == offers  # Redis only, now
    finally:
        engine.stop()
        source.close()
        hub.close()
