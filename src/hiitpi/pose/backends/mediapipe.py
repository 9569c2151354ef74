"""MediaPipe BlazePose (33 keypoints) in tracking mode, via the ``mediapipe.solutions.pose`` graph.

Model complexity 1 (full) ships inside the mediapipe wheel. Complexities 0 (lite) and 2 (heavy)
are downloaded by mediapipe on first use on a machine with internet; offline, give their
``.tflite`` file with ``pose.model_path`` and it is installed where mediapipe looks for it
(``mediapipe/modules/pose_landmark/``), after checking it is a TFLite model.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from hiitpi.config import PoseConfig
from hiitpi.core.frame import Frame
from hiitpi.core.keypoints import NUM_KEYPOINTS
from hiitpi.core.pose import Pose
from hiitpi.errors import ModelError
from hiitpi.pose.native import NativeOutput, muted_native_stderr

log = logging.getLogger(__name__)

MODEL_FILES = {
    0: "pose_landmark_lite.tflite",
    1: "pose_landmark_full.tflite",
    2: "pose_landmark_heavy.tflite",
}
LABELS = {0: "lite", 1: "full", 2: "heavy"}

# BlazePose landmark index -> our Keypoint value (the enum puts COCO's 17 first).
_BLAZE_TO_KP = np.array(
    [0, 17, 1, 18, 19, 2, 20, 3, 4, 21, 22, 5, 6, 7, 8, 9, 10,
     23, 24, 25, 26, 27, 28, 11, 12, 13, 14, 15, 16, 29, 30, 31, 32],
    dtype=np.intp,
)  # fmt: skip


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _is_tflite(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(8)
    return len(head) == 8 and head[4:8] == b"TFL3"


def install_model(model_path: Path, complexity: int, modules_dir: Path) -> Path:
    """Put ``model_path`` where mediapipe loads complexity ``complexity`` from; return that path."""
    if not model_path.is_file():
        raise ModelError(f"pose.model_path: no such file: {model_path}")
    if not _is_tflite(model_path):
        raise ModelError(f"pose.model_path: {model_path} is not a TFLite model")
    target = modules_dir / MODEL_FILES[complexity]
    if target.is_file() and _sha256(target) == _sha256(model_path):
        return target
    try:
        fd, tmp = tempfile.mkstemp(dir=modules_dir, suffix=".part")
        os.close(fd)
        shutil.copyfile(model_path, tmp)
        os.replace(tmp, target)
    except OSError as exc:
        raise ModelError(f"cannot install {model_path} into {modules_dir}: {exc}") from None
    log.info("installed %s as %s", model_path, target)
    return target


class MediaPipeEstimator:
    """BlazePose through mediapipe's pose solution, in tracking (video) mode."""

    def __init__(self, cfg: PoseConfig) -> None:
        try:
            from mediapipe.python.solutions import pose as mp_pose
        except ImportError as exc:
            raise ModelError(
                "the mediapipe backend needs the 'mediapipe' package: run `make install` "
                f"(or pip install --no-deps mediapipe==0.10.14): {exc}"
            ) from None
        self._mp_pose = mp_pose
        self._cfg = cfg
        complexity = cfg.model_complexity
        modules_dir = Path(mp_pose.__file__).resolve().parents[2] / "modules" / "pose_landmark"
        if cfg.model_path is not None:
            install_model(Path(cfg.model_path), complexity, modules_dir)
        elif not (modules_dir / MODEL_FILES[complexity]).is_file():
            log.warning(
                "%s is not installed; mediapipe will try to download it (needs internet). "
                "Offline, set pose.model_path to the .tflite file.",
                MODEL_FILES[complexity],
            )
        self.name = f"mediapipe-{LABELS[complexity]}"
        self._solution: Any = None
        self._open()

    def _open(self) -> None:
        native = NativeOutput()
        try:
            with muted_native_stderr(log) as native:
                self._solution = self._mp_pose.Pose(
                    static_image_mode=False,
                    model_complexity=self._cfg.model_complexity,
                    smooth_landmarks=True,
                    enable_segmentation=False,
                    min_detection_confidence=self._cfg.min_detection_confidence,
                    min_tracking_confidence=self._cfg.min_tracking_confidence,
                )
                # The graph loads its models asynchronously; one blank frame waits for that,
                # so the native log lines land inside the muted window and the first real
                # frame does not pay the start-up cost.
                self._solution.process(np.zeros((64, 64, 3), dtype=np.uint8))
        except Exception as exc:  # mediapipe raises bare RuntimeError/URLError/ConnectionError
            raise ModelError(
                f"cannot load BlazePose {LABELS[self._cfg.model_complexity]} "
                f"({MODEL_FILES[self._cfg.model_complexity]}): {exc}{native.detail()}. "
                "Offline, set pose.model_path (--model) to the .tflite file."
            ) from None

    def estimate(self, frame: Frame) -> Pose | None:
        # cvtColor: 0.03 ms for 640x360, against 1.9 ms for numpy's reversed-stride copy
        result = self._solution.process(cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB))
        landmarks = result.pose_landmarks
        if landmarks is None:
            return None
        raw = np.array([(lm.x, lm.y, lm.visibility) for lm in landmarks.landmark], dtype=np.float64)
        xy = np.empty((NUM_KEYPOINTS, 2))
        conf = np.empty(NUM_KEYPOINTS)
        xy[_BLAZE_TO_KP, 0] = raw[:, 0] * frame.width
        xy[_BLAZE_TO_KP, 1] = raw[:, 1] * frame.height
        conf[_BLAZE_TO_KP] = np.clip(raw[:, 2], 0.0, 1.0)
        score = float(conf[:17].mean())
        world = None
        if result.pose_world_landmarks is not None:
            world = np.empty((NUM_KEYPOINTS, 3))
            world[_BLAZE_TO_KP] = [
                (lm.x, lm.y, lm.z) for lm in result.pose_world_landmarks.landmark
            ]
        return Pose(xy, conf, score, frame.width, frame.height, world=world)

    def reset(self) -> None:
        """Forget the tracked person (start of a new video)."""
        self.close()
        self._open()

    def close(self) -> None:
        if self._solution is not None:
            self._solution.close()
            self._solution = None
