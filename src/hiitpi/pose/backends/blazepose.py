"""BlazePose (33 landmarks + 3D world landmarks) on LiteRT, with MediaPipe's own pipeline.

Registry key ``blazepose`` (the default). ``pose.model_complexity`` 0/1/2 picks the lite,
full or heavy landmark model; the person detector is shared. Both files are resolved in the
models folder (:mod:`hiitpi.pose.models`; ``hiitpi models fetch``), and ``pose.model_path``
overrides the landmark model (its detector is looked for beside it first).

Per frame, as MediaPipe's ``pose_landmark_cpu`` graph does:

1. With no region tracked: the detector (224 px, the frame letterboxed, values in [-1, 1])
   finds people (:mod:`.blazepose_math`); the one to follow is the largest and most central,
   or, right after the track was lost, the one nearest the last region. Its hip centre and
   full-body scale point give a rotated square region (x1.25).
2. The landmark model (256 px crop of that region, values in [0, 1]) gives 39 landmarks x 5
   (x, y, z, visibility, presence logits), a pose flag, 64x64 heatmaps and 39 world
   landmarks. Below ``pose.min_tracking_confidence`` on the flag, this frame has no pose and
   the next one runs the detector again. Landmarks are refined on the heatmaps, projected
   back into the frame, and the world landmarks rotated back by the region's rotation.
3. The next frame's region comes from this frame's auxiliary landmarks 33 (hip centre) and 34
   (scale point), so the detector runs only to (re)acquire a person.

4. Landmarks, visibilities, world landmarks and the auxiliary landmarks are smoothed in time
   as MediaPipe's ``smooth_landmarks=True`` does (:mod:`.blazepose_filter`): the referee's
   thresholds were set on that output. The next region is placed by the *smoothed*
   auxiliary landmarks, so the filters' velocity scale (the person's size) decides how fast
   the region follows a moving person.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from hiitpi.config import PoseConfig
from hiitpi.core.frame import Frame
from hiitpi.core.keypoints import NUM_KEYPOINTS
from hiitpi.core.pose import Pose
from hiitpi.errors import ModelError
from hiitpi.pose import models
from hiitpi.pose.backends.blazepose_filter import LandmarkSmoother
from hiitpi.pose.backends.blazepose_math import (
    DETECTOR_SIZE,
    Detection,
    Roi,
    decode_detections,
    refine_from_heatmap,
    roi_from_points,
    ssd_anchors,
)
from hiitpi.pose.backends.litert import NUM_THREADS, open_interpreter

log = logging.getLogger(__name__)

LANDMARK_SIZE = 256
LABELS = {0: "lite", 1: "full", 2: "heavy"}
NUM_LANDMARKS = 39  # 33 body landmarks, 2 auxiliary (hip centre, scale point), 4 unused
# BlazePose landmark index -> our Keypoint value (the enum puts COCO's 17 first).
BLAZE_TO_KP = np.array(
    [0, 17, 1, 18, 19, 2, 20, 3, 4, 21, 22, 5, 6, 7, 8, 9, 10,
     23, 24, 25, 26, 27, 28, 11, 12, 13, 14, 15, 16, 29, 30, 31, 32],
    dtype=np.intp,
)  # fmt: skip
Floats = NDArray[np.float64]


def _sigmoid(x: Floats) -> Floats:
    out: Floats = 1.0 / (1.0 + np.exp(-np.clip(x, -50.0, 50.0)))
    return out


def pick_person(detections: list[Detection], roi_of: Any, last: Roi | None) -> Roi:
    """The region to follow among several people: with a region just lost, the detection
    whose region centre is nearest to it; else the largest and most central one
    (area x (1 - distance of its centre from the frame centre, in half-diagonals))."""
    rois: list[Roi] = [roi_of(d) for d in detections]
    if last is not None:
        return min(rois, key=lambda r: math.hypot(r.cx - last.cx, r.cy - last.cy))

    def merit(d: Detection) -> float:
        w, h = d.box[2] - d.box[0], d.box[3] - d.box[1]
        cx, cy = (d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2
        off = math.hypot(cx - 0.5, cy - 0.5) / math.hypot(0.5, 0.5)
        return float(w * h) * max(0.0, 1.0 - off)

    best = max(range(len(detections)), key=lambda i: merit(detections[i]))
    return rois[best]


class BlazePoseEstimator:
    """BlazePose lite/full/heavy on LiteRT in tracking mode, in frame pixels."""

    def __init__(self, cfg: PoseConfig) -> None:
        if cfg.delegate is not None:
            raise ModelError(
                f"pose.delegate: the blazepose backend runs float models on the CPU only; "
                f"{cfg.delegate!r} needs the movenet backend with an *_edgetpu.tflite model"
            )
        self._cfg = cfg
        landmark_path, detector_path = self._model_files(cfg)
        threads = cfg.num_threads or NUM_THREADS
        self._detector = open_interpreter(detector_path, [], threads)
        self._landmarks = open_interpreter(landmark_path, [], threads)
        self._det_in, self._det_out = self._check_detector(detector_path.name)
        self._lm_in, self._lm_out = self._check_landmarks(landmark_path.name)
        self._anchors = ssd_anchors()
        self.name = f"blazepose-{LABELS[cfg.model_complexity]}"
        self._roi: Roi | None = None
        self._lost: Roi | None = None  # the region of the track lost on the previous frame
        self._smooth = LandmarkSmoother()
        log.debug("%s: %s + %s, %d threads", self.name, landmark_path, detector_path, threads)

    @staticmethod
    def _model_files(cfg: PoseConfig) -> tuple[Path, Path]:
        folder = Path(cfg.models_dir).expanduser()
        if cfg.model_path is None:
            name = models.BLAZEPOSE_BY_COMPLEXITY[cfg.model_complexity]
            return models.resolve(folder, name), models.resolve(folder, "blazepose-detector")
        landmark = Path(cfg.model_path).expanduser()
        if not landmark.is_file():
            raise ModelError(f"pose.model_path: no such file: {landmark}")
        beside = landmark.parent / models.MODELS["blazepose-detector"].filename
        detector = beside if beside.is_file() else models.resolve(folder, "blazepose-detector")
        return landmark, detector

    def _check_detector(self, name: str) -> tuple[dict[str, Any], dict[str, int]]:
        inp = self._detector.get_input_details()[0]
        outs = {
            tuple(int(v) for v in d["shape"]): d["index"]
            for d in self._detector.get_output_details()
        }
        want = [(1, 2254, 12), (1, 2254, 1)]
        if tuple(inp["shape"]) != (1, DETECTOR_SIZE, DETECTOR_SIZE, 3) or any(
            w not in outs for w in want
        ):
            raise ModelError(f"{name} is not the BlazePose pose detector (tensors {list(outs)})")
        return inp, {"boxes": outs[want[0]], "scores": outs[want[1]]}

    def _check_landmarks(self, name: str) -> tuple[dict[str, Any], dict[str, int]]:
        inp = self._landmarks.get_input_details()[0]
        outs = {
            tuple(int(v) for v in d["shape"]): d["index"]
            for d in self._landmarks.get_output_details()
        }
        want = {
            "landmarks": (1, NUM_LANDMARKS * 5),
            "flag": (1, 1),
            "heatmap": (1, 64, 64, NUM_LANDMARKS),
            "world": (1, NUM_LANDMARKS * 3),
        }
        shape = tuple(int(v) for v in inp["shape"])
        if shape != (1, LANDMARK_SIZE, LANDMARK_SIZE, 3) or any(
            w not in outs for w in want.values()
        ):
            raise ModelError(
                f"pose.model_path: {name} is not a BlazePose landmark model (input {shape}, "
                f"outputs {list(outs)})"
            )
        return inp, {k: outs[v] for k, v in want.items()}

    # -- models ----------------------------------------------------------------------------

    @staticmethod
    def _crop(frame: Frame, roi: Roi, size: int, border: int) -> NDArray[np.uint8]:
        crop = cv2.warpAffine(  # BGR, then only the small crop is converted to RGB
            frame.image,
            roi.from_input(size),
            (size, size),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=border,
            borderValue=(0, 0, 0),
        )
        return np.asarray(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB), dtype=np.uint8)

    def _detect(self, frame: Frame) -> Roi | None:
        whole = Roi(frame.width / 2, frame.height / 2, float(max(frame.width, frame.height)), 0.0)
        crop = self._crop(frame, whole, DETECTOR_SIZE, cv2.BORDER_CONSTANT)
        tensor = (crop.astype(np.float32) / 127.5 - 1.0)[None]
        self._detector.set_tensor(self._det_in["index"], tensor)
        self._detector.invoke()
        boxes = np.asarray(self._detector.get_tensor(self._det_out["boxes"])[0], dtype=np.float64)
        scores = np.asarray(
            self._detector.get_tensor(self._det_out["scores"])[0, :, 0], dtype=np.float64
        )
        found = decode_detections(boxes, scores, self._anchors, self._cfg.min_detection_confidence)
        if not found:
            return None

        def roi_of(d: Detection) -> Roi:
            points = whole.project(d.keypoints * DETECTOR_SIZE, DETECTOR_SIZE)
            return roi_from_points(points[0], points[1])

        return pick_person(found, roi_of, self._lost)

    def _landmark(self, frame: Frame, roi: Roi) -> tuple[float, Floats, Floats]:
        """(pose flag, (39, 3) frame x, y + visibility, (39, 3) world) for one region."""
        crop = self._crop(frame, roi, LANDMARK_SIZE, cv2.BORDER_REPLICATE)
        self._landmarks.set_tensor(self._lm_in["index"], (crop.astype(np.float32) / 255.0)[None])
        self._landmarks.invoke()
        out = self._lm_out
        flag = float(np.asarray(self._landmarks.get_tensor(out["flag"])).reshape(-1)[0])
        raw = np.asarray(self._landmarks.get_tensor(out["landmarks"]), dtype=np.float64)
        raw = raw.reshape(NUM_LANDMARKS, 5)
        heatmap = self._landmarks.get_tensor(out["heatmap"])[0]  # read as float64 where used
        norm = refine_from_heatmap(raw[:, :2] / LANDMARK_SIZE, heatmap)
        xy = roi.project(norm * LANDMARK_SIZE, LANDMARK_SIZE)
        image = np.column_stack([xy, _sigmoid(raw[:, 3])])
        world = np.asarray(self._landmarks.get_tensor(out["world"]), dtype=np.float64)
        return flag, image, roi.rotate(world.reshape(NUM_LANDMARKS, 3))

    # -- PoseEstimator ---------------------------------------------------------------------

    def estimate(self, frame: Frame) -> Pose | None:
        roi = self._roi or self._detect(frame)
        if roi is None:
            return None
        flag, image, world = self._landmark(frame, roi)
        if flag < self._cfg.min_tracking_confidence:
            self._roi, self._lost = None, roi
            self._smooth.reset()
            return None
        image, world = self._smooth(image, world, frame.t)
        self._roi, self._lost = roi_from_points(image[33, :2], image[34, :2]), None
        xy = np.empty((NUM_KEYPOINTS, 2))
        conf = np.empty(NUM_KEYPOINTS)
        world33 = np.empty((NUM_KEYPOINTS, 3))
        xy[BLAZE_TO_KP] = image[:33, :2]
        conf[BLAZE_TO_KP] = np.clip(image[:33, 2], 0.0, 1.0)
        world33[BLAZE_TO_KP] = world[:33]
        return Pose(xy, conf, float(conf[:17].mean()), frame.width, frame.height, world=world33)

    def reset(self) -> None:
        """Forget the tracked person (start of a new video)."""
        self._roi = self._lost = None
        self._smooth.reset()

    def close(self) -> None:
        self._detector = self._landmarks = None
