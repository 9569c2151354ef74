"""The default backend on a real photo with the real BlazePose models (lite, full, heavy)."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest

from hiitpi.config import PoseConfig
from hiitpi.core import Frame, Keypoint
from hiitpi.errors import ModelError
from hiitpi.pose import build_estimator

pytestmark = [pytest.mark.model, pytest.mark.shared]
# The legacy backend is an optional install for comparisons (Python <= 3.12, `make mediapipe`).
pytest.importorskip("mediapipe", reason="the legacy mediapipe backend is not installed")

MODELS = {0: "pose_landmark_lite.tflite", 1: None, 2: "pose_landmark_heavy.tflite"}


@pytest.fixture(scope="module")
def squat(shared_dir):
    image = cv2.imread(str(shared_dir / "models" / "squat.bmp"))
    assert image is not None
    return image


@pytest.fixture(scope="module")
def reference(shared_dir):
    """MoveNet's keypoints on the same photo: an independent model's view of the person."""
    path = shared_dir / "models" / "movenet_single_pose_lightning_ptq_reference.csv"
    with path.open() as f:
        rows = list(csv.DictReader(f))
    return {int(r["keypoint_id"]): (float(r["keypoint_x"]), float(r["keypoint_y"])) for r in rows}


@pytest.mark.parametrize("complexity", [0, 1, 2])
def test_blazepose_finds_the_squatting_person_in_frame_pixels(
    shared_dir, squat, reference, complexity
):
    model = MODELS[complexity]
    cfg = PoseConfig(
        backend="mediapipe",
        model_complexity=complexity,
        model_path=shared_dir / "models" / model if model else None,
    )
    est = build_estimator(cfg)
    try:
        assert est.name == f"mediapipe-{('lite', 'full', 'heavy')[complexity]}"
        h, w = squat.shape[:2]
        pose = None
        for i in range(3):  # tracking mode: a few frames of the same still image
            pose = est.estimate(Frame(squat, i, i / 30))
        assert pose is not None
        assert (pose.width, pose.height) == (w, h)
        assert pose.num_model_keypoints == 33
        assert pose.visible(Keypoint.LEFT_HEEL, 0.3) or pose.visible(Keypoint.RIGHT_HEEL, 0.3)
        # Body joints agree with MoveNet's reference within 8 % of the image size.
        for kp in (Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_HIP, Keypoint.LEFT_KNEE,
                   Keypoint.RIGHT_ANKLE):  # fmt: skip
            x, y = pose.point(kp)
            rx, ry = reference[int(kp)]
            assert abs(x / w - rx) < 0.08, (kp, x / w, rx)
            assert abs(y / h - ry) < 0.08, (kp, y / h, ry)
        est.reset()
        assert est.estimate(Frame(np.zeros_like(squat), 0, 0.0)) is None
    finally:
        est.close()


def test_missing_model_file_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="no such file"):
        build_estimator(
            PoseConfig(backend="mediapipe", model_complexity=0, model_path=tmp_path / "nope.tflite")
        )


def test_a_file_that_is_not_tflite_is_refused(tmp_path):
    bogus = tmp_path / "pose_landmark_lite.tflite"
    bogus.write_bytes(b"<html>404</html>" * 10)
    with pytest.raises(ModelError, match="is not a TFLite model"):
        build_estimator(PoseConfig(backend="mediapipe", model_complexity=0, model_path=bogus))
