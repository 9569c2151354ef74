"""TEST DOUBLE of ``picamera2.devices.Hailo``. We have no Hailo-8L / Hailo-8 here.

It imitates what ``HailoEstimator`` calls, with the real class's names: ``Hailo(hef_path)``,
``get_input_shape()`` -> (height, width, 3), ``run(frame)`` -> ``{layer name: float32 array
(rows, cols, channels)}`` (the nine raw YOLOv8-pose outputs, dequantised, as picamera2 returns
them with its default ``output_type='FLOAT32'`` and no batch size), and ``close()``.
The outputs are *constructed* from the people a test places (:func:`encode` inverts the
decoding that picamera2's ``examples/hailo/pose_utils.py`` documents), so a test proves the
decoding arithmetic and the choice of person, never that a real HEF or chip behaves so.
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

REG_MAX = 15
STRIDES = (8, 16, 32)
NEG = -60.0  # a DFL bin that takes no weight


@dataclass(frozen=True)
class Person:
    """A person in model-input pixels: box (x1, y1, x2, y2), 17 keypoints, their confidences."""

    box: tuple[float, float, float, float]
    keypoints: NDArray[np.float64]  # (17, 2)
    conf: NDArray[np.float64]  # (17,), in (0, 1)
    score: float = 0.9


def person(x1: float, y1: float, x2: float, y2: float, score: float = 0.9) -> Person:
    """A box with 17 keypoints spread inside it (distinct, so a mix-up shows)."""
    t = np.linspace(0.1, 0.9, 17)
    kps = np.stack([x1 + (x2 - x1) * t[::-1], y1 + (y2 - y1) * t], axis=1)
    return Person((x1, y1, x2, y2), kps, np.linspace(0.2, 0.95, 17), score)


def _bins(distance_in_strides: float) -> NDArray[np.float64]:
    """DFL logits whose softmax expectation is exactly ``distance_in_strides``."""
    k = min(math.floor(distance_in_strides), REG_MAX - 1)
    f = distance_in_strides - k
    logits = np.full(REG_MAX + 1, NEG)
    logits[k] = math.log(max(1.0 - f, 1e-300)) if f < 1.0 else NEG
    logits[k + 1] = math.log(f) if f > 0 else NEG
    return logits


def encode(people: list[Person], width: int = 640, height: int = 640) -> dict[str, Any]:
    """The raw outputs that decode to ``people`` (each in the cell under its box centre, on
    the finest stride whose 16 bins reach its sides)."""
    out: dict[str, Any] = {}
    grids = {}
    for n, stride in enumerate(STRIDES):
        rows, cols = height // stride, width // stride
        grids[stride] = (
            np.zeros((rows, cols, 4 * (REG_MAX + 1)), np.float32),
            np.zeros((rows, cols, 1), np.float32),
            np.zeros((rows, cols, 51), np.float32),
        )
        names = (f"yolov8s_pose/conv{n * 3 + 1}", f"yolov8s_pose/conv{n * 3 + 2}",
                 f"yolov8s_pose/conv{n * 3 + 3}")  # fmt: skip
        out.update(zip(names, grids[stride], strict=True))
    for p in people:
        x1, y1, x2, y2 = p.box
        for stride in STRIDES:
            gx, gy = int((x1 + x2) / 2 // stride), int((y1 + y2) / 2 // stride)
            cx, cy = (gx + 0.5) * stride, (gy + 0.5) * stride
            sides = [(cx - x1) / stride, (cy - y1) / stride, (x2 - cx) / stride, (y2 - cy) / stride]
            if max(sides) <= REG_MAX and min(sides) >= 0:
                break
        else:
            raise ValueError(f"box {p.box} too large for the grids")
        boxes, scores, kpts = grids[stride]
        boxes[gy, gx] = np.concatenate([_bins(s) for s in sides])
        scores[gy, gx, 0] = p.score
        raw = np.empty((17, 3))
        raw[:, 0] = (p.keypoints[:, 0] / stride - gx) / 2.0
        raw[:, 1] = (p.keypoints[:, 1] / stride - gy) / 2.0
        raw[:, 2] = np.log(p.conf / (1.0 - p.conf))
        kpts[gy, gx] = raw.reshape(-1)
    return out


class FakeHailo:
    """One fake device. Class attributes steer the instances (reset by the fixture)."""

    people: ClassVar[list[Person]] = []
    input_shape: ClassVar[tuple[int, int, int]] = (640, 640, 3)
    open_error: ClassVar[Exception | None] = None
    outputs: ClassVar[Any] = None  # overrides the constructed outputs when set
    instances: ClassVar[list[FakeHailo]] = []

    def __init__(self, hef_path: str, batch_size: int | None = None,
                 output_type: str = "FLOAT32") -> None:  # fmt: skip
        if FakeHailo.open_error is not None:
            raise FakeHailo.open_error
        self.hef_path = hef_path
        self.inputs: list[NDArray[np.uint8]] = []
        self.closed = False
        FakeHailo.instances.append(self)

    def get_input_shape(self) -> tuple[int, int, int]:
        return FakeHailo.input_shape

    def run(self, input_data: NDArray[np.uint8]) -> Any:
        h, w, c = FakeHailo.input_shape
        assert input_data.shape == (h, w, c) and input_data.dtype == np.uint8
        self.inputs.append(input_data.copy())
        if FakeHailo.outputs is not None:
            return FakeHailo.outputs
        return encode(list(FakeHailo.people), w, h)

    def close(self) -> None:
        self.closed = True


def make_modules() -> tuple[types.ModuleType, types.ModuleType]:
    """``picamera2`` and ``picamera2.devices`` modules exposing only ``Hailo``."""
    root = types.ModuleType("picamera2")
    root.__path__ = []  # type: ignore[attr-defined]  # a package, so the submodule imports
    devices = types.ModuleType("picamera2.devices")
    devices.Hailo = FakeHailo  # type: ignore[attr-defined]
    root.devices = devices  # type: ignore[attr-defined]
    for m in (root, devices):
        m.__doc__ = "TEST DOUBLE (tests/pose/fake_hailo.py)"
    return root, devices


def reset() -> None:
    FakeHailo.people = []
    FakeHailo.input_shape = (640, 640, 3)
    FakeHailo.open_error = None
    FakeHailo.outputs = None
    FakeHailo.instances = []
