"""PiCameraSource against the picamera2 TEST DOUBLE (tests/sources/fake_picamera2.py).

We have no Raspberry Pi camera: these tests pin how PiCameraSource drives picamera2's capture
API, not that a real camera works. The one real-hardware test is opt-in (``hardware`` marker).
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from hiitpi.config import SourceConfig
from hiitpi.errors import SourceError
from hiitpi.sources import open_source
from hiitpi.sources.live import CaptureThread, LatestFrameSlot
from hiitpi.sources.picamera import PiCameraSource

from .fake_picamera2 import FakePicamera2

Fake = type[FakePicamera2]


def test_configures_video_rgb888_at_size_and_frame_rate(fake_picamera2: Fake) -> None:
    source = PiCameraSource(width=320, height=240, fps=15)
    source.open()
    try:
        (cam,) = fake_picamera2.instances
        assert cam.config is not None
        assert cam.config["main"] == {"format": "RGB888", "size": (320, 240)}
        assert cam.config["controls"] == {"FrameRate": 15.0}
        assert cam.calls == ["create_video_configuration", "configure", "start"]
        assert source.fps == 15.0
    finally:
        source.close()


def test_frames_keep_picamera2_bgr_bytes_with_index_and_monotonic_time(
    fake_picamera2: Fake,
) -> None:
    source = PiCameraSource(width=64, height=48, fps=30)
    source.open()
    try:
        frames = [source.read() for _ in range(5)]
    finally:
        source.close()
    assert all(f is not None for f in frames)
    images = [f.image for f in frames if f is not None]
    assert {im.shape for im in images} == {(48, 64, 3)}
    # RGB888 arrives as [B, G, R]: passed through untouched, blue stays in channel 0.
    assert [int(im[0, 0, 0]) for im in images] == [200] * 5
    assert [int(im[0, 0, 1]) for im in images] == [1, 2, 3, 4, 5]
    assert [int(im[0, 0, 2]) for im in images] == [50] * 5
    assert [f.index for f in frames if f] == [0, 1, 2, 3, 4]
    ts = [f.t for f in frames if f]
    assert ts == sorted(ts) and ts[0] >= 0.0
    assert {f.source_id for f in frames if f} == {"picamera"}


def test_defaults_are_640x480_at_30_fps(fake_picamera2: Fake) -> None:
    source = PiCameraSource()
    source.open()
    source.close()
    (cam,) = fake_picamera2.instances
    assert cam.config is not None
    assert cam.config["main"]["size"] == (640, 480)
    assert cam.config["controls"] == {"FrameRate": 30.0}


def test_four_channel_arrays_lose_the_padding_byte(fake_picamera2: Fake) -> None:
    fake_picamera2.frame_format = "XRGB8888"
    source = PiCameraSource(width=32, height=24)
    source.open()
    try:
        frame = source.read()
    finally:
        source.close()
    assert frame is not None
    assert frame.image.shape == (24, 32, 3)
    assert frame.image.flags["C_CONTIGUOUS"]
    assert frame.image[0, 0].tolist() == [200, 1, 50]


def test_close_stops_and_releases_the_camera_once(fake_picamera2: Fake) -> None:
    source = PiCameraSource()
    source.open()
    source.close()
    source.close()
    (cam,) = fake_picamera2.instances
    assert cam.calls[-2:] == ["stop", "close"]
    assert cam.calls.count("close") == 1
    with pytest.raises(SourceError, match="not open"):
        source.read()


def test_missing_picamera2_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", None)  # makes `import picamera2` fail
    with pytest.raises(SourceError) as info:
        PiCameraSource().open()
    message = str(info.value)
    assert "pip install picamera2" in message
    assert "sudo apt install python3-picamera2" in message


def test_no_camera_attached_raises_source_error(fake_picamera2: Fake) -> None:
    fake_picamera2.cameras = []
    with pytest.raises(SourceError, match="no Raspberry Pi camera found"):
        PiCameraSource().open()
    assert fake_picamera2.instances == []


def test_camera_that_fails_to_start_is_released(fake_picamera2: Fake) -> None:
    fake_picamera2.start_error = RuntimeError("Failed to acquire camera: Device or resource busy")
    with pytest.raises(SourceError, match="resource busy"):
        PiCameraSource().open()
    (cam,) = fake_picamera2.instances
    assert cam.closed


def test_capture_failure_is_a_source_error(fake_picamera2: Fake) -> None:
    source = PiCameraSource()
    source.open()
    fake_picamera2.capture_error = RuntimeError("camera frontend has timed out")
    try:
        with pytest.raises(SourceError, match="timed out"):
            source.read()
    finally:
        source.close()


def test_open_source_picamera_uses_the_configured_size(fake_picamera2: Fake) -> None:
    source = open_source(SourceConfig(uri="picamera", width=320, height=240, fps=20))
    try:
        assert isinstance(source, PiCameraSource)
        frame = source.read()
    finally:
        source.close()
    assert frame is not None and frame.image.shape == (240, 320, 3)


def test_capture_thread_feeds_the_slot_from_the_camera(fake_picamera2: Fake) -> None:
    source = PiCameraSource(width=32, height=24)
    source.open()
    slot = LatestFrameSlot()
    capture = CaptureThread(source, slot)
    capture.start()
    try:
        got = [slot.get(timeout=2.0) for _ in range(3)]
    finally:
        capture.stop()
        source.close()
    assert all(f is not None for f in got)
    indices = [f.index for f in got if f is not None]
    assert indices == sorted(set(indices))
    assert capture.ended and capture.error is None


def test_capture_thread_surfaces_an_unexpected_error_as_source_error(
    fake_picamera2: Fake,
) -> None:
    fake_picamera2.frame_format = "GREY"  # a 2-D array: Frame rejects it with ValueError
    source = PiCameraSource(width=32, height=24)
    source.open()
    slot = LatestFrameSlot()
    capture = CaptureThread(source, slot)
    capture.start()
    try:
        assert slot.get(timeout=2.0) is None
        assert capture.wait_ended(2.0)
    finally:
        capture.stop()
        source.close()
    assert isinstance(capture.error, SourceError)
    assert isinstance(capture.error.__cause__, ValueError)
    assert "picamera" in str(capture.error)
    with pytest.raises(SourceError):
        capture.raise_if_failed()


@pytest.mark.hardware
def test_real_pi_camera_delivers_bgr_frames() -> None:
    pytest.importorskip("picamera2", reason="picamera2 is not installed (not a Raspberry Pi)")
    source = PiCameraSource(width=640, height=480, fps=30)
    source.open()
    try:
        frames = [source.read() for _ in range(10)]
    finally:
        source.close()
    assert all(f is not None and f.image.shape == (480, 640, 3) for f in frames)
    assert all(f is not None and f.image.dtype == np.uint8 for f in frames)
    ts = [f.t for f in frames if f is not None]
    assert ts == sorted(ts)
