"""The blazepose backend with the real BlazePose models on LiteRT (files from the models folder,
fetched by `make install` from the npm package @mediapipe/pose), on a real photo and clips."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from hiitpi.config import PoseConfig
from hiitpi.core import Frame, Keypoint
from hiitpi.errors import ModelError
from hiitpi.pose import build_estimator
from hiitpi.pose.backends.blazepose import BlazePoseEstimator

pytestmark = [pytest.mark.model, pytest.mark.shared]

GOLDEN = Path(__file__).parent / "data" / "mediapipe_golden.json"


def cfg(folder: Path, **kw: Any) -> PoseConfig:
    return PoseConfig(backend="blazepose", models_dir=folder, **kw)


def clip_frame(clips: Path, name: str, index: int) -> np.ndarray:
    cap = cv2.VideoCapture(str(clips / name))
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, image = cap.read()
    cap.release()
    assert ok, name
    return image


@pytest.fixture(scope="module")
def squat(shared_dir: Path) -> np.ndarray:
    image = cv2.imread(str(shared_dir / "models" / "squat.bmp"))
    assert image is not None
    return image


@pytest.fixture(scope="module")
def reference(shared_dir: Path) -> dict[int, tuple[float, float]]:
    """MoveNet's keypoints on the same photo: an independent model's view of the person."""
    rows = np.loadtxt(
        shared_dir / "models" / "movenet_single_pose_lightning_ptq_reference.csv",
        delimiter=",",
        skiprows=1,
    )
    return {int(r[2]): (float(r[4]), float(r[5])) for r in rows}


@pytest.mark.parametrize("complexity", [0, 1, 2])
def test_finds_the_squatting_person_with_world_landmarks(
    blazepose_models, squat, reference, complexity
):
    est = build_estimator(cfg(blazepose_models, model_complexity=complexity))
    try:
        assert est.name == f"blazepose-{('lite', 'full', 'heavy')[complexity]}"
        h, w = squat.shape[:2]
        poses = [est.estimate(Frame(squat, i, i / 30)) for i in range(3)]  # detect, then track
        assert all(p is not None for p in poses)
        pose = poses[-1]
        assert pose is not None and pose.world is not None
        assert (pose.width, pose.height, pose.num_model_keypoints) == (w, h, 33)
        assert pose.visible(Keypoint.LEFT_HEEL, 0.3) or pose.visible(Keypoint.RIGHT_HEEL, 0.3)
        for kp in (Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_HIP, Keypoint.LEFT_KNEE,
                   Keypoint.RIGHT_ANKLE):  # fmt: skip
            x, y = pose.point(kp)
            rx, ry = reference[int(kp)]
            assert abs(x / w - rx) < 0.08, (kp, x / w, rx)
            assert abs(y / h - ry) < 0.08, (kp, y / h, ry)
        # World landmarks: metres, centred between the hips, y down like the image.
        hips = pose.world[[Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP]].mean(axis=0)
        np.testing.assert_allclose(hips, 0.0, atol=0.05)
        shoulders = pose.world[[Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER]].mean(axis=0)
        assert 0.3 < np.linalg.norm(shoulders - hips) < 0.8
        assert shoulders[1] < hips[1]  # shoulders above the hips
        est.reset()
        assert est.estimate(Frame(np.zeros_like(squat), 0, 0.0)) is None
    finally:
        est.close()


@pytest.mark.parametrize("clip", json.loads(GOLDEN.read_text()).keys())
def test_letterbox_and_unprojection_match_legacy_mediapipe(blazepose_models, clips_dir, clip):
    """On a frame where both run the detector path, the landmarks are where mediapipe 0.10.14
    put them (golden file from tests/pose/make_mediapipe_golden.py)."""
    golden = json.loads(GOLDEN.read_text())[clip]
    image = clip_frame(clips_dir, clip, golden["frame"])
    est = BlazePoseEstimator(cfg(blazepose_models))
    pose = est.estimate(Frame(image, 0, 0.0))
    assert pose is not None and pose.world is not None
    errors, world_errors = [], []
    for name, (gx, gy, vis) in golden["keypoints"].items():
        kp = Keypoint.from_name(name)
        assert abs(pose.conf[kp] - vis) < 0.05, name
        if vis >= 0.5:
            errors.append(float(np.hypot(*(pose.point(kp) - (gx, gy)))))
            world_errors.append(float(np.linalg.norm(pose.world[kp] - golden["world"][name])))
    assert len(errors) >= 15
    assert np.median(errors) < 1.0 and max(errors) < 6.0, errors
    assert max(world_errors) < 0.01, world_errors


class CountingInterpreter:
    """The real LiteRT interpreter, with its invocations counted."""

    def __init__(self, real: Any) -> None:
        self.real, self.calls = real, 0

    def invoke(self) -> None:
        self.calls += 1
        self.real.invoke()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_tracking_runs_the_detector_only_to_acquire_the_person(blazepose_models, clips_dir):
    est = BlazePoseEstimator(cfg(blazepose_models))
    detector = CountingInterpreter(est._detector)
    est._detector = detector
    cap = cv2.VideoCapture(str(clips_dir / "push_up__venkat__1.mp4"))
    found = 0
    for i in range(45):
        ok, image = cap.read()
        assert ok
        found += est.estimate(Frame(image, i, i / 30)) is not None
    cap.release()
    assert found == 45
    assert detector.calls == 1
    est.reset()
    est.estimate(Frame(image, 0, 0.0))
    assert detector.calls == 2  # a reset forgets the track


def test_missing_model_names_the_fetch_command(tmp_path):
    with pytest.raises(ModelError, match=r"hiitpi models fetch blazepose-full"):
        build_estimator(cfg(tmp_path))


def test_a_wrong_file_in_the_models_folder_is_refused(blazepose_models, tmp_path):
    shutil.copy(blazepose_models / "pose_detection.tflite", tmp_path)
    shutil.copy(
        blazepose_models / "pose_landmark_lite.tflite", tmp_path / "pose_landmark_full.tflite"
    )
    with pytest.raises(ModelError, match=r"not the expected blazepose-full model.*fetch"):
        build_estimator(cfg(tmp_path))


def test_model_path_overrides_and_is_checked(blazepose_models, tmp_path):
    est = build_estimator(
        cfg(tmp_path / "empty", model_path=blazepose_models / "pose_landmark_lite.tflite")
    )
    est.close()  # the detector was found beside the landmark model
    with pytest.raises(ModelError, match="is not a BlazePose landmark model"):
        build_estimator(
            cfg(blazepose_models, model_path=blazepose_models / "pose_detection.tflite")
        )
    with pytest.raises(ModelError, match="no such file"):
        build_estimator(cfg(blazepose_models, model_path=tmp_path / "nope.tflite"))


def test_edgetpu_delegate_is_refused_with_the_alternative(blazepose_models):
    with pytest.raises(ModelError, match=r"pose\.delegate.*movenet"):
        build_estimator(cfg(blazepose_models, delegate="edgetpu"))


def test_keeps_the_close_up_lifter_as_mediapipe_did(blazepose_models, clips_dir):
    """squat__jrplatin__2: head out of frame, the lifter filling it; mediapipe 0.10.14 tracked
    frames 0-80 throughout. With the filters' velocity scale 25% too small the region lagged
    the descent and the person was lost from frame 65."""
    est = BlazePoseEstimator(cfg(blazepose_models))
    cap = cv2.VideoCapture(str(clips_dir / "squat__jrplatin__2.mp4"))
    fps = cap.get(cv2.CAP_PROP_FPS)
    missed = []
    for i in range(81):
        ok, image = cap.read()
        assert ok
        if est.estimate(Frame(image, i, i / fps)) is None:
            missed.append(i)
    cap.release()
    assert missed == []
