"""MoveNet single-pose (and Coral PoseNet) ``.tflite`` models on LiteRT, optionally on a Coral
Edge TPU.

Registry key ``movenet`` (``posenet`` is an alias: the model's outputs say which it is).

- MoveNet Lightning (192 px) / Thunder (256 px), int8, uint8 or float input: the model runs on
  a square crop that follows the person (:mod:`hiitpi.pose.crop`), returns the 17 COCO
  keypoints in frame pixels.
- ``pose.delegate = "edgetpu"``: loads ``libedgetpu.so.1`` as a LiteRT external delegate and
  runs a ``*_edgetpu.tflite`` model (Coral USB/M.2/PCIe accelerator). Untested on hardware
  here. Coral's own ``libedgetpu1-std`` 16.0 is reported to crash (segfault, not an error we
  can catch) with TensorFlow Lite newer than 2.11 (google-coral/edgetpu#812), and LiteRT is
  newer; the builds at github.com/feranick/libedgetpu/releases track recent TF Lite.
- PoseNet models with the ``PosenetDecoderOp`` custom op (the original HIIT PI's
  ``posenet_*_decoder*.tflite``) need Coral's ``posenet_decoder.so``: looked for next to the
  model file (also ``posenet_lib/<machine>/``), then on the library path. Without it: ModelError.

The runtime is ``ai_edge_litert`` (``pip install 'hiitpi[litert]'``), else ``tflite_runtime``.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
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
from hiitpi.pose.crop import CropRegion, crop_resize, full_frame, next_crop
from hiitpi.pose.native import NativeOutput, muted_native_stderr

log = logging.getLogger(__name__)

EDGETPU_LIBRARY = {"Darwin": "libedgetpu.1.dylib", "Windows": "edgetpu.dll"}.get(
    platform.system(), "libedgetpu.so.1"
)
POSENET_LIBRARY = "posenet_decoder.so"
EDGETPU_OP = b"edgetpu-custom-op"
POSENET_OP = b"PosenetDecoderOp"
EDGETPU_ADVICE = (
    "install the Edge TPU runtime (Debian/Raspberry Pi OS: add Coral's apt repository "
    "https://packages.cloud.google.com/apt coral-edgetpu-stable, then "
    "`sudo apt install libedgetpu1-std`), plug the Coral USB accelerator in (a USB 3 port; "
    "replug it after installing), and use a model compiled for the Edge TPU (*_edgetpu.tflite)"
)
NUM_THREADS = min(4, os.cpu_count() or 1)
MOVENET_NAMES = {192: "lightning", 256: "thunder"}
# The raw MoveNet keypoint score reported as confidence 0.5 (see calibrate()).
MOVENET_VISIBLE = 0.3


def calibrate(scores: NDArray[np.float64]) -> NDArray[np.float64]:
    """MoveNet keypoint scores -> the confidence scale the referee's floor is set on.

    MoveNet's heatmap scores run far lower than BlazePose's visibilities: on squat.bmp, with
    every joint in plain view, they are 0.3-0.85 (BlazePose: above 0.9). The referee's floor
    (0.5) would then throw away half of a clearly visible body. A monotone piecewise-linear map
    puts ``MOVENET_VISIBLE`` at 0.5 (0 and 1 stay put), so one floor means "visible" for both.
    """
    out: NDArray[np.float64] = np.interp(scores, (0.0, MOVENET_VISIBLE, 1.0), (0.0, 0.5, 1.0))
    return out


def _runtime() -> Any:
    """The LiteRT interpreter module (``ai_edge_litert``, else ``tflite_runtime``)."""
    try:
        from ai_edge_litert import interpreter
    except ImportError:
        try:
            from tflite_runtime import interpreter
        except ImportError:
            raise ModelError(
                "the movenet backend needs LiteRT: pip install 'hiitpi[litert]' "
                "(the 'ai-edge-litert' package; on a Raspberry Pi with Python 3.11 "
                "ai-edge-litert<=1.4, or 'tflite-runtime')"
            ) from None
    return interpreter


def load_delegate(library: str, options: dict[str, Any] | None = None) -> Any:
    """Load a LiteRT external delegate; a missing library raises OSError without the runtime's
    noisy half-built ``Delegate``; a library that finds no device raises ValueError."""
    ctypes.CDLL(library)  # OSError when the library is not installed
    return _runtime().load_delegate(library, options or {})


def make_interpreter(model_path: Path, delegates: list[Any], num_threads: int) -> Any:
    """A LiteRT interpreter for ``model_path`` with these delegates (tests replace this)."""
    return _runtime().Interpreter(
        model_path=str(model_path),
        experimental_delegates=delegates or None,
        num_threads=num_threads,
    )


def open_interpreter(model_path: Path, delegates: list[Any], num_threads: int) -> Any:
    """A LiteRT interpreter with its tensors allocated; the runtime's native start-up lines
    stay off the terminal, and a load failure is a ModelError quoting them."""
    native = NativeOutput()
    try:
        with muted_native_stderr(log) as native:  # "Created ... XNNPACK delegate"
            interp = make_interpreter(model_path, delegates, num_threads)
            interp.allocate_tensors()
    except (RuntimeError, ValueError) as exc:
        raise ModelError(
            f"cannot load {model_path.name} with LiteRT: {exc}{native.detail()}"
        ) from None
    return interp


def _posenet_library(model_path: Path) -> str:
    here = model_path.resolve().parent
    for candidate in (
        here / POSENET_LIBRARY,
        here / "posenet_lib" / platform.machine() / POSENET_LIBRARY,
    ):
        if candidate.is_file():
            return str(candidate)
    return POSENET_LIBRARY  # let the dynamic loader search LD_LIBRARY_PATH


def _delegates(cfg: PoseConfig, model_path: Path, blob: bytes) -> list[Any]:
    delegates: list[Any] = []
    compiled_for_tpu = EDGETPU_OP in blob
    if cfg.delegate == "edgetpu":
        if not compiled_for_tpu:
            log.warning(
                "%s is not compiled for the Edge TPU: it runs on the CPU (use the "
                "*_edgetpu.tflite version of the model)",
                model_path.name,
            )
        try:
            delegates.append(load_delegate(EDGETPU_LIBRARY))
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelError(
                f"pose.delegate: cannot load the Edge TPU delegate {EDGETPU_LIBRARY} ({exc}): "
                f"{EDGETPU_ADVICE}"
            ) from None
    elif compiled_for_tpu:
        raise ModelError(
            f"pose.model_path: {model_path.name} is compiled for the Coral Edge TPU: pass "
            "--delegate edgetpu (pose.delegate = 'edgetpu') with a Coral plugged in, or use "
            "the CPU model (the same name without _edgetpu)"
        )
    if POSENET_OP in blob:
        library = _posenet_library(model_path)
        try:
            delegates.append(load_delegate(library))
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelError(
                f"pose.model_path: {model_path.name} is a PoseNet model with the "
                f"PosenetDecoderOp custom op, which needs Coral's {POSENET_LIBRARY} "
                f"({exc}). Put the library for {platform.machine()} (from "
                "github.com/google-coral/project-posenet, posenet_lib/<machine>/) next to the "
                "model, or use a MoveNet model"
            ) from None
    return delegates


def _model_kind(
    inp: dict[str, Any], outputs: list[dict[str, Any]], has_decoder_op: bool, name: str
) -> tuple[int, int, bool]:
    """(input height, input width, is PoseNet) after checking the model's tensors."""
    shape = tuple(int(s) for s in inp["shape"])
    if len(shape) != 4 or shape[0] != 1 or shape[3] != 3:
        raise ModelError(
            f"pose.model_path: {name}: expected an image input (1, h, w, 3), got {shape}"
        )
    posenet = has_decoder_op and len(outputs) == 4
    out_shape = tuple(int(s) for s in outputs[0]["shape"])
    if not posenet and (len(outputs) != 1 or out_shape != (1, 1, 17, 3)):
        raise ModelError(
            f"pose.model_path: {name} is not a single-pose MoveNet model (expected one output "
            f"of shape (1, 1, 17, 3), got {out_shape}); multi-pose MoveNet is not supported"
        )
    if not posenet and shape[1] != shape[2]:
        raise ModelError(f"pose.model_path: MoveNet input must be square, got {shape}")
    return shape[1], shape[2], posenet


def _from_models_dir(cfg: PoseConfig) -> Path:
    """The backend's file in the models folder when ``pose.model_path`` is not given."""
    name = "posenet" if cfg.backend == "posenet" else "movenet-lightning"
    if cfg.delegate == "edgetpu" and name != "posenet":
        name = "movenet-lightning-edgetpu"
    path = Path(cfg.models_dir).expanduser() / models.MODELS[name].filename
    if path.is_file():
        return path
    raise ModelError(
        f"pose.model_path: the {cfg.backend} backend needs a model file and {path.name} is not "
        f"in the models folder {path.parent}: run `hiitpi models fetch {name}`, or pass --model "
        "movenet_single_pose_lightning_ptq.tflite (or a Thunder model; *_edgetpu.tflite with "
        "--delegate edgetpu)"
    )


class LiteRTEstimator:
    """MoveNet single-pose (with crop tracking) or a PoseNet decoder model, in frame pixels."""

    def __init__(self, cfg: PoseConfig) -> None:
        model_path = Path(cfg.model_path) if cfg.model_path else _from_models_dir(cfg)
        if not model_path.is_file():
            raise ModelError(f"pose.model_path: no such file: {model_path}")
        blob = model_path.read_bytes()
        if blob[4:8] != b"TFL3":
            raise ModelError(f"pose.model_path: {model_path} is not a TFLite model")
        self._cfg = cfg
        delegates = _delegates(cfg, model_path, blob)
        self._interp = open_interpreter(model_path, delegates, cfg.num_threads or NUM_THREADS)
        self._input = self._interp.get_input_details()[0]
        self._outputs = self._interp.get_output_details()
        self._in_h, self._in_w, self._posenet = _model_kind(
            self._input, self._outputs, POSENET_OP in blob, model_path.name
        )
        tpu = "-edgetpu" if cfg.delegate == "edgetpu" else ""
        if self._posenet:
            self.name = f"posenet-{self._in_w}x{self._in_h}{tpu}"
        else:
            self.name = f"movenet-{MOVENET_NAMES.get(self._in_w, str(self._in_w))}{tpu}"
        self._crop: CropRegion | None = None
        log.info("%s: %s, input %s", self.name, model_path, self._input["dtype"])

    # -- tensors ---------------------------------------------------------------------------

    def _to_input(self, rgb: NDArray[np.uint8]) -> NDArray[Any]:
        """RGB uint8 pixels -> the model's input dtype (MoveNet takes 0..255 in every dtype)."""
        dtype = np.dtype(self._input["dtype"])
        if dtype == np.uint8:
            return rgb[None]
        if dtype == np.int8:
            scale, zero = self._input["quantization"]
            if scale > 0:
                q = np.round(rgb.astype(np.float32) / scale + zero)
                return np.asarray(np.clip(q, -128, 127).astype(np.int8)[None])
            return np.asarray((rgb.astype(np.int16) - 128).astype(np.int8)[None])
        return np.asarray(rgb.astype(dtype)[None])

    def _output(self, i: int) -> NDArray[np.float64]:
        detail = self._outputs[i]
        raw = np.asarray(self._interp.get_tensor(detail["index"]))
        scale, zero = detail.get("quantization", (0.0, 0))
        if np.issubdtype(raw.dtype, np.integer) and scale > 0:
            return np.asarray((raw.astype(np.float64) - zero) * scale, dtype=np.float64)
        return np.asarray(raw, dtype=np.float64)

    def _run(self, rgb: NDArray[np.uint8]) -> None:
        self._interp.set_tensor(self._input["index"], self._to_input(rgb))
        self._interp.invoke()

    # -- estimation ------------------------------------------------------------------------

    def _movenet(
        self, frame: Frame, region: CropRegion
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
        """(17, 2) frame pixels, (17,) raw scores, and the pose score of one run on a crop."""
        crop = crop_resize(frame.image, region, self._in_w)
        self._run(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB))
        out = self._output(0)[0, 0]  # (17, 3): y, x, score normalised to the crop
        return region.to_frame(out[:, 1::-1]), out[:, 2], float(calibrate(out[:, 2]).mean())

    def _pose(
        self, xy17: NDArray[np.float64], conf17: NDArray[np.float64], score: float, frame: Frame
    ) -> Pose:
        xy = np.full((NUM_KEYPOINTS, 2), np.nan)
        conf = np.zeros(NUM_KEYPOINTS)
        xy[:17] = xy17
        conf[:17] = np.clip(conf17, 0.0, 1.0)
        return Pose(xy, conf, score, frame.width, frame.height, num_model_keypoints=17)

    def _posenet_pose(self, frame: Frame) -> tuple[Pose, float] | None:
        image = cv2.resize(frame.image, (self._in_w, self._in_h), interpolation=cv2.INTER_LINEAR)
        self._run(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        keypoints, kp_scores, pose_scores, count = (self._output(i) for i in range(4))
        n = int(count.reshape(-1)[0])
        if n <= 0:
            return None
        best = int(np.argmax(pose_scores.reshape(-1)[:n]))
        yx = keypoints[0, best]  # (17, 2): y, x in input pixels
        scale = (frame.width / self._in_w, frame.height / self._in_h)
        score = float(pose_scores.reshape(-1)[best])
        return self._pose(yx[:, ::-1] * scale, kp_scores[0, best], score, frame), score

    def estimate(self, frame: Frame) -> Pose | None:
        threshold = self._cfg.min_detection_confidence
        if self._posenet:
            found = self._posenet_pose(frame)
            return found[0] if found is not None and found[1] >= threshold else None
        whole = full_frame(frame.width, frame.height)
        region = self._crop or whole
        xy, raw, score = self._movenet(frame, region)
        if score < threshold and region != whole:
            # Lost the person inside the crop: look at the whole frame too, keep the better.
            retry = self._movenet(frame, whole)
            if retry[2] > score:
                xy, raw, score = retry
        # Track even a low-score pose: a distant person often scores low on the whole frame
        # and well once cropped. No torso -> the whole frame again.
        self._crop = next_crop(xy, raw, frame.width, frame.height)
        return self._pose(xy, calibrate(raw), score, frame) if score >= threshold else None

    def reset(self) -> None:
        """Forget the tracked crop (start of a new video)."""
        self._crop = None

    def close(self) -> None:
        self._interp = None
