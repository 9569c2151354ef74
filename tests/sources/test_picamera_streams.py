"""The Pi camera's two streams and the view encoder, against the picamera2 TEST DOUBLE
(tests/sources/fake_picamera2.py): lores sized for the model for inference, main for the view,
picamera2's hardware MJPEG encoder where the device has one. No Pi camera or encoder here."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hiitpi.core.frame import Frame
from hiitpi.core.pose import Pose
from hiitpi.errors import SourceError
from hiitpi.pose.lores import LoresEstimator
from hiitpi.sources.picamera import PiCameraSource, PiFrame, lores_size_for
from hiitpi.sources.picamera_view import CameraView, hardware_mjpeg_available

from .conftest import install
from .fake_picamera2 import FakePicamera2, HardwareMJPEGEncoder, Platform, Quality

Fake = type[FakePicamera2]


@pytest.mark.parametrize(
    ("model", "main", "lores"),
    [
        ((640, 640), (1024, 768), (640, 640)),  # the Hailo example's sizes
        ((640, 640), (640, 480), (448, 448)),  # shrunk to fit main, width a multiple of 64
        ((192, 192), (640, 480), (192, 192)),
        ((257, 257), (640, 480), (256, 256)),
        ((320, 240), (1280, 720), (320, 240)),
    ],
)
def test_lores_is_sized_for_the_model_and_fits_main(
    model: tuple[int, int], main: tuple[int, int], lores: tuple[int, int]
) -> None:
    got = lores_size_for(model, main)
    assert got == lores
    assert got[0] <= main[0] and got[1] <= main[1] and got[0] % 64 == 0 and got[1] % 2 == 0
    with pytest.raises(ValueError, match="positive"):
        lores_size_for((0, 640), main)


def test_pi4_lores_is_yuv420_converted_to_bgr_from_the_same_request(fake_picamera2: Fake) -> None:
    source = PiCameraSource(width=1024, height=768)
    source.open()
    try:
        assert source.use_lores((640, 640)) == (640, 640)
        (cam,) = fake_picamera2.instances
        assert cam.calls[-4:] == ["stop", "create_video_configuration", "configure", "start"]
        assert cam.config is not None
        assert cam.config["main"] == {"format": "RGB888", "size": (1024, 768)}
        assert cam.config["lores"] == {"format": "YUV420", "size": (640, 640)}
        frames = [source.read() for _ in range(3)]
    finally:
        source.close()
    for f in frames:
        assert isinstance(f, PiFrame) and f.lores is not None
        assert f.image.shape == (768, 1024, 3) and f.lores.shape == (640, 640, 3)
        # one request: main and lores carry the same frame number (the green byte)
        assert abs(int(f.lores[10, 10, 1]) - int(f.image[10, 10, 1])) <= 3
        assert abs(int(f.lores[10, 10, 0]) - 200) <= 3 and abs(int(f.lores[10, 10, 2]) - 50) <= 3
    assert [int(f.image[0, 0, 1]) for f in frames if f] == [1, 2, 3]


def test_pi5_lores_is_rgb888(fake_picamera2: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_picamera2.platform = Platform.PISP
    install(monkeypatch)
    source = PiCameraSource(width=1024, height=768, lores_size=(640, 640))
    source.open()
    try:
        frame = source.read()
    finally:
        source.close()
    (cam,) = fake_picamera2.instances
    assert cam.config is not None and cam.config["lores"]["format"] == "RGB888"
    assert isinstance(frame, PiFrame) and frame.lores is not None
    assert frame.lores[0, 0].tolist() == [200, 1, 50]  # [B, G, R] as main


def test_without_a_model_input_there_is_no_lores(fake_picamera2: Fake) -> None:
    source = PiCameraSource(width=320, height=240)
    source.open()
    try:
        assert source.use_lores(None) is None
        frame = source.read()
    finally:
        source.close()
    assert isinstance(frame, PiFrame) and frame.lores is None
    (cam,) = fake_picamera2.instances
    assert cam.config is not None and cam.config["lores"] is None


def test_a_lores_stream_the_camera_refuses_is_a_source_error(fake_picamera2: Fake) -> None:
    source = PiCameraSource(width=320, height=240, lores_size=(640, 640))  # larger than main
    with pytest.raises(SourceError, match="may not exceed main"):
        source.open()


class Doubler:
    """A backend that returns the centre of whatever image it is given."""

    name = "doubler"

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []

    def estimate(self, frame: Frame) -> Pose | None:
        self.sizes.append((frame.width, frame.height))
        xy = np.full((33, 2), np.nan)
        xy[0] = (frame.width / 2, frame.height / 4)
        conf = np.zeros(33)
        conf[0] = 1.0
        return Pose(xy, conf, 0.9, frame.width, frame.height, 17)

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_inference_reads_lores_and_the_pose_lands_in_main_pixels() -> None:
    inner = Doubler()
    est = LoresEstimator(inner)
    main = np.zeros((768, 1024, 3), np.uint8)
    frame = PiFrame(main, 0, 0.0, "picamera", lores=np.zeros((640, 640, 3), np.uint8))
    pose = est.estimate(frame)
    assert inner.sizes == [(640, 640)] and est.name == "doubler"
    assert pose is not None and (pose.width, pose.height) == (1024, 768)
    assert pose.xy[0].tolist() == [512.0, 192.0]
    assert est.estimate(Frame(main, 1, 0.03)) is not None and inner.sizes[-1] == (1024, 768)


def test_pi4_views_through_the_hardware_mjpeg_encoder_with_the_overlay(
    fake_picamera2: Fake,
) -> None:
    assert hardware_mjpeg_available()
    source = PiCameraSource(width=320, height=240)
    source.open()
    try:
        view = source.hardware_view()
        assert isinstance(view, CameraView)
        got: list[bytes] = []
        view.start(got.append, quality=80)
        (cam,) = fake_picamera2.instances
        assert isinstance(cam.encoder, HardwareMJPEGEncoder) and cam.encoder_name == "main"
        assert cam.encoder_quality is Quality.HIGH
        cam.encode_one()  # nothing to draw yet: the camera picture as it is

        def white_box(image: np.ndarray) -> np.ndarray:
            out = image.copy()
            out[:40, :40] = 255
            return out

        view.show(white_box)
        cam.encode_one()
        view.stop()
        assert cam.encoder is None and cam.pre_callback is None
    finally:
        source.close()
    first, second = (cv2.imdecode(np.frombuffer(j, np.uint8), cv2.IMREAD_COLOR) for j in got)
    assert first.shape == (240, 320, 3) and int(first[10, 10, 0]) < 230
    assert second[10, 10].min() > 240 and abs(int(second[200, 200, 0]) - 200) < 8


def test_pi5_has_no_hardware_jpeg_so_the_engine_encodes(
    fake_picamera2: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_picamera2.hardware_jpeg = False  # picamera2 aliases MJPEGEncoder to libav's
    install(monkeypatch)
    assert not hardware_mjpeg_available()
    source = PiCameraSource()
    source.open()
    try:
        assert source.hardware_view() is None
    finally:
        source.close()
    monkeypatch.setitem(__import__("sys").modules, "picamera2.encoders", None)
    assert not hardware_mjpeg_available()  # picamera2 without its encoders: software too


@pytest.mark.hardware
def test_real_pi_camera_two_streams() -> None:
    pytest.importorskip("picamera2", reason="picamera2 is not installed (not a Raspberry Pi)")
    source = PiCameraSource(width=1024, height=768, lores_size=(640, 640))
    source.open()
    try:
        frames = [source.read() for _ in range(10)]
    finally:
        source.close()
    assert all(isinstance(f, PiFrame) and f.lores is not None for f in frames)
    assert all(f is not None and f.lores.shape == (640, 640, 3) for f in frames)  # type: ignore[union-attr]
