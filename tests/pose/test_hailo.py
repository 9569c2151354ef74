"""The ``hailo`` backend against a TEST DOUBLE of ``picamera2.devices.Hailo`` (fake_hailo.py):
outputs constructed from placed people, decoded back; no Hailo chip or HEF is involved."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from hiitpi.config import PoseConfig
from hiitpi.core.frame import Frame
from hiitpi.core.keypoints import Keypoint
from hiitpi.errors import ModelError
from hiitpi.pose.backends import hailo
from hiitpi.pose.backends.hailo import HailoEstimator, decode, letterbox, main_person
from hiitpi.pose.registry import build_estimator

from . import fake_hailo
from .fake_hailo import FakeHailo, encode, person


@pytest.fixture
def hef(tmp_path: Path) -> Path:
    path = tmp_path / "yolov8s_pose_h8l_pi.hef"
    path.write_bytes(b"not a real HEF: the fake device never reads it")
    return path


@pytest.fixture
def device(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeHailo]]:
    fake_hailo.reset()
    root, devices = fake_hailo.make_modules()
    monkeypatch.setitem(sys.modules, "picamera2", root)
    monkeypatch.setitem(sys.modules, "picamera2.devices", devices)
    yield FakeHailo
    fake_hailo.reset()


def frame(width: int = 640, height: int = 640, i: int = 0) -> Frame:
    return Frame(np.zeros((height, width, 3), np.uint8), i, i / 30)


def test_decode_recovers_box_keypoints_and_confidences_exactly() -> None:
    placed = person(200.0, 100.0, 420.0, 560.0, score=0.87)  # stride 32: 16 bins reach 480 px
    (det,) = decode(encode([placed]), (640, 640))
    np.testing.assert_allclose(det.box, placed.box, atol=1e-4)
    np.testing.assert_allclose(det.xy, placed.keypoints, atol=1e-4)
    np.testing.assert_allclose(det.conf, placed.conf, atol=1e-6)
    assert det.score == pytest.approx(0.87, abs=1e-6)
    small = person(300.0, 300.0, 340.0, 380.0)  # lands on stride 8
    (got,) = decode(encode([small]), (640, 640))
    np.testing.assert_allclose(got.box, small.box, atol=1e-4)


def test_below_the_score_threshold_nobody_is_found_and_duplicates_merge() -> None:
    assert decode(encode([person(100, 100, 300, 500, score=0.3)]), (640, 640)) == []
    a = encode([person(100.0, 100.0, 300.0, 500.0, 0.9)])
    b = encode([person(104.0, 96.0, 304.0, 504.0, 0.8)])  # the same person, next cell over
    merged = {k: np.maximum(a[k], b[k]) if k.endswith(("2", "5", "8")) else a[k] + b[k]
              for k in a}  # fmt: skip
    assert len(decode(merged, (640, 640))) == 1


def test_keypoints_come_back_in_frame_pixels_through_the_letterbox(
    device: type[FakeHailo], hef: Path
) -> None:
    est = HailoEstimator(PoseConfig(backend="hailo", model_path=hef))
    # a 1280x720 frame is scaled by 0.5 into 640x360, padded 140 px at the top and bottom
    device.people = [person(200.0, 150.0, 400.0, 480.0)]
    pose = est.estimate(frame(1280, 720))
    assert pose is not None and (pose.width, pose.height) == (1280, 720)
    assert pose.num_model_keypoints == 17
    expected = (device.people[0].keypoints - [0.0, 140.0]) / 0.5
    np.testing.assert_allclose(pose.xy[:17], expected, atol=1e-3)
    assert np.isnan(pose.point(Keypoint.LEFT_HEEL)).all() and pose.conf[17:].max() == 0
    (sent,) = device.instances[0].inputs
    assert sent.shape == (640, 640, 3)
    assert (sent[:140] == hailo.PAD_VALUE).all() and (sent[500:] == hailo.PAD_VALUE).all()


def test_the_model_gets_rgb() -> None:
    image = np.zeros((10, 20, 3), np.uint8)
    image[..., 0] = 255  # blue in OpenCV's BGR
    boxed, scale, pad_x, pad_y = letterbox(image, (40, 40))
    assert (scale, pad_x, pad_y) == (2.0, 0.0, 10.0)
    assert tuple(boxed[20, 20]) == (0, 0, 255)


def test_main_person_is_largest_and_central_then_followed(
    device: type[FakeHailo], hef: Path
) -> None:
    est = HailoEstimator(PoseConfig(backend="hailo", model_path=hef))
    centre = person(240.0, 120.0, 400.0, 520.0)
    edge = person(0.0, 200.0, 100.0, 440.0)
    device.people = [edge, centre]
    pose = est.estimate(frame())
    assert pose is not None and pose.xy[0][0] == pytest.approx(centre.keypoints[0][0], abs=1e-3)
    # the other person walks closer and is now bigger: the referee keeps its person
    device.people = [person(10.0, 20.0, 330.0, 620.0), person(250.0, 130.0, 410.0, 530.0)]
    pose = est.estimate(frame(i=1))
    assert pose is not None and pose.xy[0][0] == pytest.approx(device.people[1].keypoints[0][0],
                                                               abs=1e-3)  # fmt: skip
    device.people = []
    assert est.estimate(frame(i=2)) is None
    device.people = [person(10.0, 20.0, 330.0, 620.0), person(250.0, 130.0, 410.0, 530.0)]
    pose = est.estimate(frame(i=3))  # nobody to follow: the largest-and-central rule again
    assert pose is not None and pose.xy[0][0] == pytest.approx(device.people[0].keypoints[0][0],
                                                               abs=1e-3)  # fmt: skip


def test_main_person_weighs_centrality_against_size() -> None:
    big_edge = person(0.0, 0.0, 200.0, 600.0)  # 120000 px^2, its centre 220 px off
    central = person(230.0, 60.0, 410.0, 600.0)  # 97200 px^2 (0.81 of it), 30 px off
    dets = decode(encode([big_edge, central]), (640, 640))
    chosen = main_person(dets, 640, 640)
    assert chosen is not None
    np.testing.assert_allclose(chosen.box, central.box, atol=1e-3)
    assert main_person([], 640, 640) is None


def test_missing_picamera2_or_hailo_runtime_is_one_line_naming_what_to_install(
    monkeypatch: pytest.MonkeyPatch, hef: Path
) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", None)  # import fails as if not installed
    with pytest.raises(ModelError) as err:
        build_estimator(PoseConfig(backend="hailo", model_path=hef))
    text = str(err.value)
    assert "\n" not in text and "sudo apt install hailo-all" in text
    assert "pciex1_gen=3" in text and "--system-site-packages" in text


def test_no_device_no_model_or_a_wrong_hef_are_clear_errors(
    device: type[FakeHailo], hef: Path, tmp_path: Path
) -> None:
    with pytest.raises(ModelError, match=r"model .*missing\.hef not found.*hailo-all"):
        HailoEstimator(PoseConfig(backend="hailo", model_path=tmp_path / "missing.hef"))
    device.open_error = RuntimeError("HAILO_OUT_OF_PHYSICAL_DEVICES")
    with pytest.raises(ModelError, match=r"cannot open the device.*OUT_OF_PHYSICAL.*hailo-all"):
        HailoEstimator(PoseConfig(backend="hailo", model_path=hef))
    device.open_error = None
    est = build_estimator(PoseConfig(backend="hailo", model_path=hef))
    assert est.name == "hailo-yolov8s_pose_h8l_pi"
    device.outputs = {"detections": np.zeros((20, 20, 85), np.float32)}  # a detector's HEF
    with pytest.raises(ModelError, match="not a YOLOv8-pose HEF"):
        est.estimate(frame())
    est.close()
    assert device.instances[-1].closed


@pytest.mark.hardware
@pytest.mark.shared
def test_real_hailo_finds_the_person_in_squat_bmp(shared_dir: Path) -> None:
    """On a Pi 5 with the AI Kit / AI HAT+ and hailo-all: the real chip and HEF."""
    import cv2

    if not hailo.DEFAULT_HEF.is_file():
        pytest.skip(f"{hailo.DEFAULT_HEF} not installed (sudo apt install hailo-all)")
    image = cv2.imread(str(shared_dir / "models" / "squat.bmp"))
    est = HailoEstimator(PoseConfig(backend="hailo"))
    try:
        pose = est.estimate(Frame(image, 0, 0.0))
    finally:
        est.close()
    assert pose is not None and pose.score > 0.5
    h, w = image.shape[:2]
    hips = pose.point(Keypoint.LEFT_HIP)
    assert 0 <= hips[0] < w and 0 <= hips[1] < h
