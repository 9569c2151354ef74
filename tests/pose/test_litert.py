"""The LiteRT backend: MoveNet with crop tracking, the Edge TPU delegate, PoseNet decoder models.

Tests marked ``shared`` run the real MoveNet Lightning model from ../shared/models; the others
use the TEST DOUBLES in ``fakes.py`` (no Coral, no PoseNet decoder library here).
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from hiitpi.config import PoseConfig
from hiitpi.core.frame import Frame
from hiitpi.core.keypoints import COCO_KEYPOINTS, NUM_KEYPOINTS
from hiitpi.errors import ModelError
from hiitpi.pose.backends import litert
from hiitpi.pose.backends.litert import LiteRTEstimator
from hiitpi.pose.registry import build_estimator

from .fakes import FakeDelegate, FakeInterpreter, fake_model

LIGHTNING = "movenet_single_pose_lightning_ptq.tflite"
LIGHTNING_TPU = "movenet_single_pose_lightning_ptq_edgetpu.tflite"
REFERENCE = "movenet_single_pose_lightning_ptq_reference.csv"
# Golden tolerance, in units of the image width (x) / height (y). The reference comes from
# Coral's test data (their pipeline, probably the Edge TPU); our CPU run with our padding and
# resampling differs by at most 0.034 (x) and 0.026 (y), mean distance 0.017.
GOLDEN_MAX_ERR = 0.05
GOLDEN_MEAN_ERR = 0.025


def frame(image: np.ndarray, index: int = 0) -> Frame:
    return Frame(image, index, index / 30.0)


def movenet_cfg(model: Path, **kw: Any) -> PoseConfig:
    return PoseConfig(backend="movenet", model_path=model, **kw)


@pytest.fixture
def models(shared_dir: Path) -> Path:
    return shared_dir / "models"


@pytest.fixture
def squat(models: Path) -> np.ndarray:
    image = cv2.imread(str(models / "squat.bmp"))
    assert image is not None
    return image


@pytest.fixture
def reference(models: Path) -> np.ndarray:
    """(17, 2) normalised (x, y) from the reference CSV, in COCO keypoint order."""
    rows = np.loadtxt(models / REFERENCE, delimiter=",", skiprows=1)
    assert rows[:, 2].tolist() == list(range(17))
    return rows[:, 4:6]


# -- configuration errors ---------------------------------------------------------------------


def test_no_model_path_says_which_file_to_pass(tmp_path: Path):
    with pytest.raises(
        ModelError, match=r"pose\.model_path.*fetch movenet-lightning.*--model movenet_"
    ):
        build_estimator(PoseConfig(backend="movenet", models_dir=tmp_path))


def test_the_model_is_found_in_the_models_folder(models: Path):
    est = build_estimator(PoseConfig(backend="movenet", models_dir=models))
    assert est.name == "movenet-lightning"
    est.close()


def test_missing_and_non_tflite_files(tmp_path: Path):
    with pytest.raises(ModelError, match="no such file"):
        LiteRTEstimator(movenet_cfg(tmp_path / "nope.tflite"))
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model at all")
    with pytest.raises(ModelError, match="not a TFLite model"):
        LiteRTEstimator(movenet_cfg(bad))


def test_without_litert_the_error_names_the_package(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "tflite_runtime", None)
    with pytest.raises(ModelError, match=r"hiitpi\[litert\].*ai-edge-litert"):
        litert._runtime()


def test_a_model_with_the_wrong_outputs_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    fake = FakeInterpreter(outputs=[np.zeros((1, 6, 56), np.float32)])
    monkeypatch.setattr(litert, "make_interpreter", lambda *a: fake)
    with pytest.raises(ModelError, match=r"single-pose MoveNet.*\(1, 6, 56\)"):
        LiteRTEstimator(movenet_cfg(fake_model(tmp_path / "multipose.tflite")))


# -- MoveNet decoding with a fake interpreter -------------------------------------------------


def _movenet_output(score: float = 0.8) -> np.ndarray:
    out = np.zeros((1, 1, 17, 3), np.float32)
    out[0, 0, :, 0] = np.linspace(0.2, 0.8, 17)  # y
    out[0, 0, :, 1] = 0.5  # x
    out[0, 0, :, 2] = score
    return out


def test_keypoints_come_back_in_frame_pixels_with_17_points(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    fake = FakeInterpreter(outputs=[_movenet_output()])
    monkeypatch.setattr(litert, "make_interpreter", lambda *a: fake)
    est = LiteRTEstimator(movenet_cfg(fake_model(tmp_path / "m.tflite")))
    assert est.name == "movenet-lightning"
    pose = est.estimate(frame(np.zeros((480, 640, 3), np.uint8)))
    assert pose is not None
    assert pose.num_model_keypoints == 17
    # First frame: the whole 640x480 frame padded to 640x640 (80 px above and below).
    np.testing.assert_allclose(pose.xy[:17, 0], 320.0)
    np.testing.assert_allclose(pose.xy[:17, 1], np.linspace(0.2, 0.8, 17) * 640 - 80, atol=1e-3)
    assert np.isnan(pose.xy[17:]).all() and (pose.conf[17:] == 0).all()
    assert pose.score == pytest.approx(0.5 + 0.5 * (0.8 - 0.3) / 0.7)  # calibrated
    assert pose.conf[:17] == pytest.approx([pose.score] * 17)
    assert list(pose.to_track()) == [kp.snake for kp in COCO_KEYPOINTS]
    assert fake.inputs[0].shape == (1, 192, 192, 3)


def test_a_low_score_is_no_pose(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    fake = FakeInterpreter(outputs=[_movenet_output(score=0.2)])  # calibrated: 0.33
    monkeypatch.setattr(litert, "make_interpreter", lambda *a: fake)
    est = LiteRTEstimator(movenet_cfg(fake_model(tmp_path / "m.tflite")))
    assert est.estimate(frame(np.zeros((480, 640, 3), np.uint8))) is None
    est2 = LiteRTEstimator(
        movenet_cfg(fake_model(tmp_path / "m.tflite"), min_detection_confidence=0.2)
    )
    assert est2.estimate(frame(np.zeros((480, 640, 3), np.uint8))) is not None


@pytest.mark.parametrize(
    ("dtype", "quant", "pixel", "expected"),
    [
        (np.uint8, (0.0, 0), 200, 200),
        (np.int8, (1.0, -128), 200, 72),
        (np.int8, (0.0, 0), 200, 72),
        (np.float32, (0.0, 0), 200, 200.0),
    ],
)
def test_input_dtypes(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    dtype: type,
    quant: Any,
    pixel: int,
    expected: Any,
):
    fake = FakeInterpreter(input_dtype=dtype, input_quantization=quant, outputs=[_movenet_output()])
    monkeypatch.setattr(litert, "make_interpreter", lambda *a: fake)
    est = LiteRTEstimator(movenet_cfg(fake_model(tmp_path / "m.tflite")))
    est.estimate(frame(np.full((192, 192, 3), pixel, np.uint8)))
    assert fake.inputs[0].dtype == dtype
    assert fake.inputs[0][0, 96, 96, 0] == expected


def test_calibration_maps_movenet_scores_onto_the_visibility_scale():
    got = litert.calibrate(np.array([0.0, 0.15, 0.3, 0.65, 1.0]))
    np.testing.assert_allclose(got, [0.0, 0.25, 0.5, 0.75, 1.0])


# -- Edge TPU delegate ------------------------------------------------------------------------


def _edgetpu_installed() -> bool:
    try:
        ctypes.CDLL(litert.EDGETPU_LIBRARY)
    except OSError:
        return False
    return True


def test_edgetpu_delegate_reaches_the_interpreter_with_a_test_double(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    """TEST DOUBLE for the library load: proves the wiring, not the hardware."""
    loaded: list[FakeDelegate] = []
    made: list[tuple[Path, list[Any], int]] = []
    fake = FakeInterpreter(outputs=[_movenet_output()])

    def fake_load_delegate(library: str, options: dict[str, Any] | None = None) -> FakeDelegate:
        loaded.append(FakeDelegate(library, options))
        return loaded[-1]

    def fake_make_interpreter(path: Path, delegates: list[Any], threads: int) -> FakeInterpreter:
        made.append((path, delegates, threads))
        return fake

    monkeypatch.setattr(litert, "load_delegate", fake_load_delegate)
    monkeypatch.setattr(litert, "make_interpreter", fake_make_interpreter)
    model = fake_model(tmp_path / "m_edgetpu.tflite", litert.EDGETPU_OP)
    est = build_estimator(movenet_cfg(model, delegate="edgetpu"))
    assert [d.library for d in loaded] == ["libedgetpu.so.1"]
    assert made == [(model, loaded, litert.NUM_THREADS)]
    assert est.name == "movenet-lightning-edgetpu"
    assert est.estimate(frame(np.zeros((480, 640, 3), np.uint8))) is not None


def test_num_threads_reaches_the_interpreter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    threads_seen: list[int] = []
    fake = FakeInterpreter(outputs=[_movenet_output()])

    def fake_make_interpreter(path: Path, delegates: list[Any], threads: int) -> FakeInterpreter:
        threads_seen.append(threads)
        return fake

    monkeypatch.setattr(litert, "make_interpreter", fake_make_interpreter)
    model = fake_model(tmp_path / "m.tflite")
    build_estimator(movenet_cfg(model, num_threads=3))
    build_estimator(movenet_cfg(model))
    assert threads_seen == [3, litert.NUM_THREADS]


@pytest.mark.parametrize(
    "failure",
    [
        OSError("libedgetpu.so.1: cannot open shared object file"),  # library not installed
        ValueError("Failed to load delegate from libedgetpu.so.1"),  # no device plugged in
    ],
)
def test_edgetpu_failures_say_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, failure: Exception
):
    """TEST DOUBLE for the library load, raising what LiteRT raises in each case."""

    def failing_load_delegate(library: str, options: Any = None) -> Any:
        raise failure

    monkeypatch.setattr(litert, "load_delegate", failing_load_delegate)
    model = fake_model(tmp_path / "m_edgetpu.tflite", litert.EDGETPU_OP)
    with pytest.raises(ModelError, match=r"libedgetpu1-std.*Coral USB accelerator") as info:
        LiteRTEstimator(movenet_cfg(model, delegate="edgetpu"))
    assert "pose.delegate" in str(info.value)


@pytest.mark.skipif(_edgetpu_installed(), reason="the Edge TPU runtime is installed here")
def test_edgetpu_without_the_runtime_real_loader(tmp_path: Path):
    """No double: the real loader on a machine without libedgetpu."""
    pytest.importorskip("ai_edge_litert")
    model = fake_model(tmp_path / "m_edgetpu.tflite", litert.EDGETPU_OP)
    with pytest.raises(ModelError, match="libedgetpu1-std"):
        LiteRTEstimator(movenet_cfg(model, delegate="edgetpu"))


def test_an_edgetpu_model_without_the_delegate_says_to_pass_it(tmp_path: Path):
    model = fake_model(tmp_path / "m_edgetpu.tflite", litert.EDGETPU_OP)
    with pytest.raises(ModelError, match="--delegate edgetpu"):
        LiteRTEstimator(movenet_cfg(model))


# -- PoseNet decoder models -------------------------------------------------------------------


def test_posenet_without_the_decoder_library(tmp_path: Path):
    pytest.importorskip("ai_edge_litert")
    model = fake_model(tmp_path / "posenet_decoder.tflite", litert.POSENET_OP)
    with pytest.raises(ModelError, match=r"PosenetDecoderOp.*posenet_decoder\.so"):
        build_estimator(PoseConfig(backend="posenet", model_path=model))


def test_posenet_outputs_with_test_doubles(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """TEST DOUBLES for the decoder library and interpreter: the best pose, scaled to frame."""
    loaded: list[str] = []

    def fake_load_delegate(library: str, options: Any = None) -> FakeDelegate:
        loaded.append(library)
        return FakeDelegate(library, options)

    keypoints = np.zeros((1, 10, 17, 2), np.float32)
    keypoints[0, 1, :, 0] = 240.5  # y in input px (input 481 high x 641 wide)
    keypoints[0, 1, :, 1] = 320.5  # x
    scores = np.zeros((1, 10, 17), np.float32)
    scores[0, 1] = 0.9
    pose_scores = np.array([[0.4, 0.7] + [0.0] * 8], np.float32)
    fake = FakeInterpreter(
        input_shape=(1, 481, 641, 3),
        outputs=[keypoints, scores, pose_scores, np.array([2.0], np.float32)],
    )
    monkeypatch.setattr(litert, "load_delegate", fake_load_delegate)
    monkeypatch.setattr(litert, "make_interpreter", lambda *a: fake)
    (tmp_path / "posenet_decoder.so").write_bytes(b"")
    model = fake_model(tmp_path / "posenet_mobilenet.tflite", litert.POSENET_OP)
    est = build_estimator(PoseConfig(backend="posenet", model_path=model))
    assert loaded == [str(tmp_path / "posenet_decoder.so")]
    assert est.name == "posenet-641x481"
    pose = est.estimate(frame(np.zeros((962, 1282, 3), np.uint8)))
    assert pose is not None and pose.num_model_keypoints == 17
    np.testing.assert_allclose(pose.xy[:17], [[641.0, 481.0]] * 17)
    assert pose.conf[:17] == pytest.approx([0.9] * 17)


# -- the real model (../shared) ---------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.model
def test_golden_lightning_on_squat(models: Path, squat: np.ndarray, reference: np.ndarray):
    est = build_estimator(movenet_cfg(models / LIGHTNING))
    pose = est.estimate(frame(squat))
    assert pose is not None
    h, w = squat.shape[:2]
    got = pose.xy[:17] / (w, h)
    err = np.abs(got - reference)
    assert err.max() <= GOLDEN_MAX_ERR, err
    assert np.hypot(*err.T).mean() <= GOLDEN_MEAN_ERR
    assert pose.score > 0.5
    assert pose.xy.shape == (NUM_KEYPOINTS, 2)


@pytest.mark.shared
@pytest.mark.model
def test_thread_count_changes_speed_not_poses(models: Path, squat: np.ndarray) -> None:
    """``pose.num_threads`` reaches the real interpreter and leaves the keypoints alone, which
    is why the track cache key ignores it."""
    poses = []
    for threads in (1, 2):
        est = build_estimator(movenet_cfg(models / LIGHTNING, num_threads=threads))
        poses.append(est.estimate(frame(squat)))
        est.close()
    one, two = poses
    assert one is not None and two is not None
    np.testing.assert_allclose(one.xy[:17], two.xy[:17], atol=1e-3)


@pytest.mark.shared
@pytest.mark.model
def test_crop_tracking_finds_a_distant_person(
    models: Path, squat: np.ndarray, reference: np.ndarray
):
    """The person is 305 px tall in a 1920x1080 frame: the letterboxed whole frame gets them
    roughly; two frames later the crop around them gets every keypoint, legs included."""
    small = cv2.resize(squat, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    canvas = np.full((1080, 1920, 3), 90, np.uint8)
    ox, oy = 1200, 1080 - small.shape[0] - 100
    canvas[oy : oy + small.shape[0], ox : ox + small.shape[1]] = small
    truth = reference * (small.shape[1], small.shape[0]) + (ox, oy)
    est = LiteRTEstimator(movenet_cfg(models / LIGHTNING, min_detection_confidence=0.0))

    def error(pose: Any) -> float:
        return float(np.hypot(*(pose.xy[:17] - truth).T).mean() / small.shape[0])

    first = est.estimate(frame(canvas, 0))
    est.estimate(frame(canvas, 1))
    third = est.estimate(frame(canvas, 2))
    assert error(third) < 0.03
    assert error(first) > 3 * error(third)
    # Nobody in view: no pose, and the next search is the whole frame again.
    assert est._crop is not None and est._crop.side < 400
    lost = est.estimate(frame(np.full_like(canvas, 90), 3))
    assert lost is not None and lost.score < 0.2  # this estimator keeps every pose (floor 0)
    assert est._crop == litert.full_frame(1920, 1080)
    est.reset()
    assert est._crop is None


@pytest.mark.shared
@pytest.mark.model
def test_edgetpu_model_on_cpu_is_refused_with_advice(models: Path):
    with pytest.raises(ModelError, match="--delegate edgetpu"):
        LiteRTEstimator(movenet_cfg(models / LIGHTNING_TPU))


@pytest.mark.hardware
@pytest.mark.shared
@pytest.mark.model
def test_golden_on_a_real_coral(models: Path, squat: np.ndarray, reference: np.ndarray):
    """Needs a Coral USB accelerator and libedgetpu1-std: pytest --run-hardware."""
    est = LiteRTEstimator(movenet_cfg(models / LIGHTNING_TPU, delegate="edgetpu"))
    pose = est.estimate(frame(squat))
    assert pose is not None
    err = np.abs(pose.xy[:17] / squat.shape[1::-1] - reference)
    assert err.max() <= GOLDEN_MAX_ERR


def test_a_17_point_pose_survives_the_track_round_trip(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    from hiitpi.core.pose import Pose

    fake = FakeInterpreter(outputs=[_movenet_output()])
    monkeypatch.setattr(litert, "make_interpreter", lambda *a: fake)
    pose = LiteRTEstimator(movenet_cfg(fake_model(tmp_path / "m.tflite"))).estimate(
        frame(np.zeros((480, 640, 3), np.uint8))
    )
    assert pose is not None
    back = Pose.from_track(pose.to_track(), 640, 480)
    assert back is not None and back.num_model_keypoints == 17
    np.testing.assert_allclose(back.xy[:17], pose.xy[:17], atol=0.01)
