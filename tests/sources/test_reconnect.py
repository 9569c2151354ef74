"""Live sources that come back (issue 13 finding 6): a real MJPEG-over-HTTP stream is cut and
served again; the reconnecting wrapper around the real OpenCV source picks it up."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.clips import write_clip
from hiitpi.config import SourceConfig
from hiitpi.errors import SourceError
from hiitpi.sources import open_source
from hiitpi.sources.reconnect import ReconnectingSource

from .fake_picamera2 import FakePicamera2, HardwareMJPEGEncoder
from .mjpeg_server import MjpegServer, clip_jpegs, free_port

FAST = {"open_timeout_s": 2.0, "reconnect_backoff_s": 0.3}


@pytest.fixture(scope="module")
def jpegs(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    return clip_jpegs(write_clip(tmp_path_factory.mktemp("mjpeg") / "clip.mp4", frames=30))


@pytest.fixture
def camera(jpegs: list[bytes]) -> Iterator[MjpegServer]:
    server = MjpegServer(jpegs, fps=20)
    yield server
    server.stop()


def _wait(pred: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_a_stream_that_drops_comes_back_on_one_clock(camera: MjpegServer) -> None:
    camera.start()
    source = open_source(SourceConfig(uri=camera.url, **FAST), live=True)
    assert isinstance(source, ReconnectingSource)
    frames = []
    stop = threading.Event()

    def capture() -> None:
        while not stop.is_set():
            frame = source.read()
            if frame is None:
                return
            frames.append(frame)

    reader = threading.Thread(target=capture, daemon=True)
    reader.start()
    try:
        _wait(lambda: len(frames) >= 5, 5, "first frames")
        assert source.health()["state"] == "ok" and source.down_s == 0.0
        camera.stop()
        _wait(lambda: source.health()["state"] == "waiting", 5, "waiting")
        assert source.health()["ok"] is False and source.health()["error"]
        time.sleep(1.0)  # down for a while: several attempts fail (connection refused)
        assert source.down_s >= 1.0
        count = len(frames)
        camera.start()
        _wait(lambda: len(frames) > count + 5, 10, "frames after the stream came back")
        assert source.health()["state"] == "ok" and source.reconnects == 1
    finally:
        stop.set()
        source.cancel()
        reader.join(5)
        source.close()
    assert not reader.is_alive()
    indices = [f.index for f in frames]
    assert indices == list(range(len(frames)))  # one numbering across the reconnect
    times = [f.t for f in frames]
    assert all(b > a for a, b in itertools.pairwise(times))  # one clock
    assert max(b - a for a, b in itertools.pairwise(times)) >= 1.0  # the gap shows


def test_a_stream_down_at_start_is_waited_for(jpegs: list[bytes]) -> None:
    camera = MjpegServer(jpegs, fps=20, port=free_port())  # not started
    source = open_source(SourceConfig(uri=camera.url, **FAST), live=True)  # does not raise
    try:
        assert not source.connected and source.health()["state"] == "waiting"
        got: list[object] = []
        reader = threading.Thread(target=lambda: got.append(source.read()), daemon=True)
        reader.start()
        time.sleep(0.8)
        assert not got
        camera.start()
        reader.join(10)
        assert got and got[0] is not None and source.health()["state"] == "ok"
    finally:
        camera.stop()
        source.close()


def test_cancel_ends_a_read_that_waits_for_the_camera(jpegs: list[bytes]) -> None:
    camera = MjpegServer(jpegs, port=free_port())  # never started
    source = open_source(SourceConfig(uri=camera.url, **FAST), live=True)
    got: list[object] = []
    reader = threading.Thread(target=lambda: got.append(source.read()), daemon=True)
    reader.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    source.cancel()
    reader.join(3)
    assert got == [None] and time.monotonic() - t0 < 1.0
    source.close()


def test_an_unreadable_file_is_still_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not found"):
        open_source(SourceConfig(uri=str(tmp_path / "missing.mp4")), live=True)
    clip = write_clip(tmp_path / "clip.mp4", frames=5)
    source = open_source(SourceConfig(uri=str(clip)), live=True)
    try:
        assert not isinstance(source, ReconnectingSource)  # a file ends; it is not waited for
    finally:
        source.close()


def test_a_pi_camera_that_fails_is_reopened_with_its_lores_stream(
    fake_picamera2: type[FakePicamera2],
) -> None:
    """Against the picamera2 TEST DOUBLE: a capture that fails (a loose ribbon cable) and a
    camera missing at start are waited for; the lores stream asked for stays configured."""
    fake_picamera2.cameras, cameras = [], fake_picamera2.cameras
    source = open_source(SourceConfig(uri="picamera", **FAST), live=True)  # no camera yet
    try:
        assert isinstance(source, ReconnectingSource) and not source.connected
        assert source.use_lores((256, 192)) is not None  # the wrapped source's, kept for open
        fake_picamera2.cameras = cameras
        first = source.read()
        assert first is not None and first.lores is not None  # type: ignore[attr-defined]
        fake_picamera2.capture_error = RuntimeError("Camera frontend has timed out!")
        got: list[object] = []
        reader = threading.Thread(target=lambda: got.append(source.read()), daemon=True)
        reader.start()
        _wait(lambda: source.health()["state"] == "waiting", 3, "waiting")
        assert "timed out" in source.health()["error"]
        fake_picamera2.capture_error = None
        reader.join(5)
        frame = got[0]
        assert frame is not None and frame.index == 1  # type: ignore[attr-defined]
        assert frame.lores is not None  # type: ignore[attr-defined]
        assert source.reconnects == 1 and len(fake_picamera2.instances) == 2
        assert fake_picamera2.instances[0].closed  # the failed camera was released
    finally:
        source.close()


def test_a_pi_cameras_hardware_view_follows_it_when_it_is_reopened(
    fake_picamera2: type[FakePicamera2],
) -> None:
    """Against the picamera2 TEST DOUBLE (a Pi 4: hardware JPEG): the view's encoder is
    started again on the new camera object."""
    source = open_source(SourceConfig(uri="picamera", **FAST), live=True)
    try:
        view = source.hardware_view()
        assert view is not None
        jpegs: list[bytes] = []
        view.start(jpegs.append, 80)
        assert source.read() is not None
        first = fake_picamera2.instances[0]
        assert isinstance(first.encoder, HardwareMJPEGEncoder)
        fake_picamera2.capture_error = RuntimeError("Camera frontend has timed out!")
        got: list[object] = []
        reader = threading.Thread(target=lambda: got.append(source.read()), daemon=True)
        reader.start()
        _wait(lambda: source.health()["state"] == "waiting", 3, "waiting")
        fake_picamera2.capture_error = None
        reader.join(5)
        assert got and got[0] is not None
        second = fake_picamera2.instances[1]
        assert isinstance(second.encoder, HardwareMJPEGEncoder) and first.encoder is None
        view.stop()
        assert second.encoder is None
    finally:
        source.close()
