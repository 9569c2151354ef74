"""YOLOv8-pose on a Raspberry Pi AI Kit / AI HAT+ (Hailo-8L or Hailo-8), registry key ``hailo``.

The model is a compiled ``.hef`` file (Raspberry Pi OS's ``hailo-models`` package installs
``/usr/share/hailo-models/yolov8s_pose_h8l_pi.hef``; ``--model`` names another). It runs
through ``picamera2.devices.Hailo``, as picamera2's own ``examples/hailo/pose.py`` does, which
returns the HEF's nine raw outputs dequantised to float32, keyed by layer name: for each
stride 8, 16 and 32 a grid of

- box distributions, 64 channels: 4 sides x 16 bins, decoded by DFL (softmax over the bins,
  expected bin x stride = the distance from the cell centre to that side);
- person scores, 1 channel, already through the network's sigmoid (the example thresholds
  them at 0.5 as they come);
- keypoints, 51 channels: 17 COCO keypoints x (x, y, confidence logit), where
  x = (2 * raw + column) * stride, likewise y, and confidence = sigmoid(logit).

Layers are told apart by their shape, not their names (which differ between HEF builds). The
image goes in as RGB (picamera2's "RGB888" arrays are BGR bytes, which the example feeds as
they are), letterboxed to the model's input when its aspect differs (YOLOv8 is trained on
letterboxed images), and the keypoints are mapped back to frame pixels. On a Pi camera the
backend reads the ``lores`` stream (``input_size`` asks for one, see
:mod:`hiitpi.pose.lores`), already of the input's size and squashed to it from the sensor's
aspect, exactly as the example feeds it. When several people are found, the main person is the one
nearest the previous frame's, else the largest and most central.

No Hailo device is attached to our machines: the decoding is tested against a test double of
the device returning constructed outputs (tests/pose/fake_hailo.py), never on the chip.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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

log = logging.getLogger(__name__)

DEFAULT_HEF = Path("/usr/share/hailo-models/yolov8s_pose_h8l_pi.hef")
HAILO_ADVICE = (
    "on a Raspberry Pi 5 with the AI Kit or AI HAT+, run `sudo apt install hailo-all`, set "
    "PCIe to gen 3 (`dtparam=pciex1_gen=3` in /boot/firmware/config.txt), reboot, check "
    "`hailortcli fw-control identify`, and create the virtual environment with "
    "--system-site-packages so it sees picamera2 and hailo_platform"
)
REG_MAX = 15  # DFL: 16 bins per box side
BOX_CHANNELS = 4 * (REG_MAX + 1)
KPT_CHANNELS = 3 * 17
SCORE_THRESHOLD = 0.5  # person score
IOU_THRESHOLD = 0.7  # non-maximum suppression, as the example
FOLLOW_IOU = 0.3  # a person overlapping the previous main person this much is the same one
PAD_VALUE = 114  # the letterbox grey YOLOv8 was trained with

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Detection:
    """One person: ``box`` (x1, y1, x2, y2), ``xy`` (17, 2), ``conf`` (17,), in one space."""

    box: FloatArray
    score: float
    xy: FloatArray
    conf: FloatArray

    def scaled(self, scale: float, pad_x: float, pad_y: float) -> Detection:
        """From letterboxed model pixels to frame pixels."""
        shift = np.array([pad_x, pad_y])
        box = (self.box - np.tile(shift, 2)) / scale
        return Detection(box, self.score, (self.xy - shift) / scale, self.conf)


def _sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return out


def _grids(outputs: Mapping[str, Any]) -> dict[tuple[int, int], dict[int, FloatArray]]:
    """``{(rows, cols): {channels: array}}``; a leading batch axis of 1 is dropped."""
    grids: dict[tuple[int, int], dict[int, FloatArray]] = {}
    for name, value in outputs.items():
        array = np.asarray(value[0] if isinstance(value, list) else value, np.float64)
        if array.ndim == 4 and array.shape[0] == 1:
            array = array[0]
        if array.ndim != 3:
            raise ModelError(f"hailo: output {name!r} has shape {array.shape}, expected (h, w, c)")
        grids.setdefault((array.shape[0], array.shape[1]), {})[array.shape[2]] = array
    return grids


def decode(
    outputs: Mapping[str, Any],
    input_size: tuple[int, int],
    score_threshold: float = SCORE_THRESHOLD,
    iou_threshold: float = IOU_THRESHOLD,
) -> list[Detection]:
    """The people in YOLOv8-pose's raw outputs, in model-input pixels, best score first.

    ``input_size`` is the model's (width, height).
    """
    width, height = input_size
    grids = _grids(outputs)
    found: list[Detection] = []
    for (rows, cols), layers in sorted(grids.items()):
        if not {BOX_CHANNELS, 1, KPT_CHANNELS} <= set(layers):
            shapes = sorted((rows, cols, c) for c in layers)
            raise ModelError(
                f"hailo: not a YOLOv8-pose HEF: the {rows}x{cols} grid has outputs {shapes}, "
                f"expected {BOX_CHANNELS}, 1 and {KPT_CHANNELS} channels"
            )
        stride = height / rows
        if abs(width / cols - stride) > 1e-6:
            raise ModelError(f"hailo: grid {rows}x{cols} does not divide input {width}x{height}")
        scores = layers[1].reshape(-1)
        keep = np.flatnonzero(scores > score_threshold)
        if keep.size == 0:
            continue
        gy, gx = np.divmod(keep, cols)
        bins = layers[BOX_CHANNELS].reshape(-1, 4, REG_MAX + 1)[keep]
        bins = np.exp(bins - bins.max(axis=-1, keepdims=True))
        dist = (bins / bins.sum(axis=-1, keepdims=True)) @ np.arange(REG_MAX + 1) * stride
        cx, cy = (gx + 0.5) * stride, (gy + 0.5) * stride
        boxes = np.stack([cx - dist[:, 0], cy - dist[:, 1], cx + dist[:, 2], cy + dist[:, 3]], 1)
        kpts = layers[KPT_CHANNELS].reshape(-1, 17, 3)[keep]
        xs = (2.0 * kpts[..., 0] + gx[:, None]) * stride
        ys = (2.0 * kpts[..., 1] + gy[:, None]) * stride
        conf = _sigmoid(kpts[..., 2])
        for i in range(keep.size):
            xy = np.stack([xs[i], ys[i]], axis=1)
            found.append(Detection(boxes[i], float(scores[keep[i]]), xy, conf[i]))
    return _nms(found, score_threshold, iou_threshold)


def _nms(dets: list[Detection], score_threshold: float, iou: float) -> list[Detection]:
    if not dets:
        return []
    xywh = [[float(d.box[0]), float(d.box[1]), float(d.box[2] - d.box[0]),
             float(d.box[3] - d.box[1])] for d in dets]  # fmt: skip
    keep = cv2.dnn.NMSBoxes(xywh, [d.score for d in dets], score_threshold, iou)
    kept = [dets[int(i)] for i in np.asarray(keep).reshape(-1)]
    return sorted(kept, key=lambda d: -d.score)


def _iou(a: FloatArray, b: FloatArray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return float(w * h / union) if union > 0 else 0.0


def main_person(
    dets: list[Detection], width: int, height: int, previous: FloatArray | None = None
) -> Detection | None:
    """The person to referee: the one overlapping the previous main person most (if at least
    :data:`FOLLOW_IOU`), else the largest and most central (area x closeness to the centre)."""
    if not dets:
        return None
    if previous is not None:
        best = max(dets, key=lambda d: _iou(d.box, previous))
        if _iou(best.box, previous) >= FOLLOW_IOU:
            return best
    half_diag = float(np.hypot(width, height)) / 2.0

    def weight(d: Detection) -> float:
        area = max(0.0, float((d.box[2] - d.box[0]) * (d.box[3] - d.box[1])))
        centre = (d.box[:2] + d.box[2:]) / 2.0
        off = float(np.hypot(centre[0] - width / 2.0, centre[1] - height / 2.0)) / half_diag
        return area * (1.0 - 0.5 * min(off, 1.0))

    return max(dets, key=weight)


def letterbox(
    image: NDArray[np.uint8], size: tuple[int, int]
) -> tuple[NDArray[np.uint8], float, float, float]:
    """``image`` (BGR) scaled into ``size`` (w, h) keeping its aspect, padded grey, as RGB;
    returns it with the scale and the left/top padding."""
    width, height = size
    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    new_w, new_h = round(w * scale), round(h * scale)
    pad_x, pad_y = (width - new_w) // 2, (height - new_h) // 2
    out = np.full((height, width, 3), PAD_VALUE, np.uint8)
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    out[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized[..., ::-1]  # BGR -> RGB
    return out, scale, float(pad_x), float(pad_y)


def _device_class() -> Callable[[str], Any]:
    try:
        from picamera2.devices import Hailo
    except ImportError as exc:  # also: hailo_platform missing (picamera2 imports it)
        raise ModelError(
            f"hailo: cannot import picamera2.devices.Hailo ({exc}); {HAILO_ADVICE}"
        ) from exc
    factory: Callable[[str], Any] = Hailo
    return factory


class HailoEstimator:
    """YOLOv8-pose on a Hailo accelerator; 17 COCO keypoints in frame pixels."""

    def __init__(self, cfg: PoseConfig, device: Callable[[str], Any] | None = None) -> None:
        path = Path(cfg.model_path) if cfg.model_path is not None else DEFAULT_HEF
        if not path.is_file():
            raise ModelError(
                f"hailo: model {path} not found (pass a YOLOv8-pose .hef with --model); "
                f"{HAILO_ADVICE} (hailo-all installs /usr/share/hailo-models)"
            )
        factory = device or _device_class()
        try:
            self._device = factory(str(path))
        except Exception as exc:  # hailo_platform's own exception types; no device, busy
            raise ModelError(f"hailo: cannot open the device with {path.name} ({exc}); "
                             f"{HAILO_ADVICE}") from exc  # fmt: skip
        h, w = (int(v) for v in self._device.get_input_shape()[:2])
        self.input_size = (w, h)
        self.name = f"hailo-{path.stem}"
        self._previous: FloatArray | None = None
        log.info("hailo: %s, input %dx%d", path.name, w, h)

    def estimate(self, frame: Frame) -> Pose | None:
        image, scale, pad_x, pad_y = letterbox(frame.image, self.input_size)
        outputs = self._device.run(image)
        if not isinstance(outputs, Mapping):
            raise ModelError(
                "hailo: the HEF has one output; expected the nine raw outputs of YOLOv8-pose"
            )
        dets = [d.scaled(scale, pad_x, pad_y) for d in decode(outputs, self.input_size)]
        det = main_person(dets, frame.width, frame.height, self._previous)
        self._previous = None if det is None else det.box
        if det is None:
            return None
        xy = np.full((NUM_KEYPOINTS, 2), np.nan)
        conf = np.zeros(NUM_KEYPOINTS)
        xy[:17], conf[:17] = det.xy, np.clip(det.conf, 0.0, 1.0)
        return Pose(xy, conf, det.score, frame.width, frame.height, num_model_keypoints=17)

    def reset(self) -> None:
        self._previous = None

    def close(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            device.close()
