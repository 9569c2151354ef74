"""The whole station wired for a Raspberry Pi 4 with a Hailo: the real App (embedded Redis,
history, engine, web server) over TEST DOUBLES of picamera2 (camera, encoders) and of
``picamera2.devices.Hailo``. What is tested is the wiring (lores stream sized for the model,
the model fed from lores, the hardware MJPEG view), not any hardware."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hiitpi.app import App
from hiitpi.config import PoseConfig, Settings, SourceConfig, WebConfig
from hiitpi.pose.lores import LoresEstimator
from hiitpi.sources.picamera_view import CameraView
from pose import fake_hailo
from pose.fake_hailo import FakeHailo, person
from sources import fake_picamera2
from sources.fake_picamera2 import FakePicamera2, HardwareMJPEGEncoder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def pi(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    fake_picamera2.reset(cameras=1)
    fake_hailo.reset()
    modules = fake_picamera2.make_modules()
    _, devices = fake_hailo.make_modules()
    modules["picamera2"].devices = devices  # type: ignore[attr-defined]
    modules["picamera2.devices"] = devices
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    yield
    fake_picamera2.reset(cameras=0)
    fake_hailo.reset()


def test_pi4_with_a_hailo_feeds_the_model_from_lores_and_views_through_mjpeg(
    pi: None, tmp_path: Path
) -> None:
    hef = tmp_path / "yolov8s_pose_h8l_pi.hef"
    hef.write_bytes(b"fake")
    FakeHailo.people = [person(240.0, 100.0, 400.0, 600.0)]
    settings = Settings(
        source=SourceConfig(uri="picamera", width=1024, height=768, fps=30),
        pose=PoseConfig(backend="hailo", model_path=hef),
        web=WebConfig(host="127.0.0.1", port=_free_port(), threads=4),
        data_dir=tmp_path / "data",
    )
    app = App(settings, station=f"pi-{time.time_ns()}", exercise="squat")
    app.start()
    try:
        assert isinstance(app.estimator, LoresEstimator)
        assert app.engine is not None and app.engine.view is not None
        # (the camera's view follows the camera when it is reopened: ``current`` is today's)
        assert isinstance(getattr(app.engine.view, "current", app.engine.view), CameraView)
        (cam,) = FakePicamera2.instances
        assert cam.config is not None
        assert cam.config["lores"] == {"format": "YUV420", "size": (640, 640)}
        assert cam.config["main"]["size"] == (1024, 768)
        assert isinstance(cam.encoder, HardwareMJPEGEncoder) and cam.encoder_name == "main"
        deadline = time.monotonic() + 10
        while app.engine.status.frames < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        status = app.engine.status
        assert status.backend == "hailo-yolov8s_pose_h8l_pi" and status.frames >= 5
        assert status.pose_score > 0.5  # the model found the placed person
        (device,) = FakeHailo.instances
        assert {im.shape for im in device.inputs} == {(640, 640, 3)}  # lores, no letterbox pad
    finally:
        app.stop()
    assert cam.encoder is None and device.closed
