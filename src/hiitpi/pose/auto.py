"""``pose.backend = "auto"``: time the backends this machine can load and keep the most accurate
one that holds the frame rate.

Accuracy ranking (most accurate first; from the BlazePose and MoveNet model cards, where
BlazePose GHUM heavy > full > lite and MoveNet Thunder > Lightning on PCK, and BlazePose's 33
points include the feet that some exercises use)::

    blazepose/mediapipe heavy > full > lite > hailo (YOLOv8-pose) > movenet-thunder
    > movenet-lightning > posenet

The same BlazePose model on the maintained ``blazepose`` backend (LiteRT) ranks just above the
legacy ``mediapipe`` wheel's. Where YOLOv8-pose on a Hailo accelerator sits against MoveNet is
our judgement, not a measurement: the two were published on different COCO protocols; it ranks
above MoveNet because it runs off the CPU and detects the person in the whole frame.
Backends are only offered when their key is registered (``hiitpi.pose.registry.BACKENDS``),
so the list follows what this build has.

The probe runs on the first frame handed to :meth:`AutoEstimator.estimate` (a real camera
frame, because a model's cost depends on whether a person is in view: MediaPipe runs only its
detector on an empty frame). Each candidate is built, warmed up, then timed on that frame; the
first candidate in ranking order whose median time fits ``headroom / target_fps`` wins. If no
candidate saw a person in that frame, the choice is provisional and the probe runs once more
on the first frame where the provisional backend finds someone.

Candidates are the backends whose runtime is installed and whose model file is found:
BlazePose full ships with mediapipe; lite/heavy and MoveNet files are looked for in the folder
of ``pose.model_path`` (``--model DIR`` or a file in it) and in ``~/.local/share/hiitpi/models``.
With ``pose.delegate = "edgetpu"``, the MoveNet candidates are the ``*_edgetpu.tflite`` files.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hiitpi.config import PoseConfig
from hiitpi.core.frame import Frame
from hiitpi.core.pose import Pose
from hiitpi.errors import HiitPiError, ModelError
from hiitpi.pose.base import PoseEstimator
from hiitpi.pose.registry import BACKENDS

log = logging.getLogger(__name__)

TARGET_FPS = 30.0
HEADROOM = 0.8  # the model may use 80 % of the frame interval; decoding, referee, drawing the rest
WARMUP = 3
TIMED = 8


@dataclass(frozen=True, slots=True)
class Candidate:
    """One backend + settings the probe may pick; ``rank`` 0 is the most accurate."""

    label: str
    rank: int
    cfg: PoseConfig


# rank = level * 10 + preference within a level (lower is better)
_BLAZEPOSE = ((2, "heavy", 0), (1, "full", 10), (0, "lite", 20))
_HAILO_RANK, _THUNDER_RANK, _LIGHTNING_RANK, _POSENET_RANK = 30, 40, 50, 60


@dataclass(frozen=True, slots=True)
class ProbeResult:
    label: str
    ms: float  # median ms per frame after warm-up; inf when it could not load
    found: bool  # saw a person in the probe frame
    error: str | None = None


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _search_dirs(cfg: PoseConfig) -> list[Path]:
    dirs: list[Path] = []
    if cfg.model_path is not None:
        p = Path(cfg.model_path)
        dirs.append(p if p.is_dir() else p.parent)
    dirs.append(Path(cfg.models_dir).expanduser())  # the one models folder (pose.models_dir)
    return [d for d in dirs if d.is_dir()]


def _find(dirs: Sequence[Path], pattern: str, edgetpu: bool) -> Path | None:
    for d in dirs:
        for path in sorted(d.glob(pattern)):
            if path.is_file() and ("_edgetpu" in path.name) == edgetpu:
                return path
    return None


def _mediapipe_installed(filename: str) -> bool:
    spec = importlib.util.find_spec("mediapipe")
    roots = list(spec.submodule_search_locations or []) if spec else []
    return any((Path(r) / "modules" / "pose_landmark" / filename).is_file() for r in roots)


def _variant(cfg: PoseConfig, backend: str, **update: object) -> PoseConfig:
    """``cfg`` (thresholds, threads) for another backend and model."""
    fields: dict[str, object] = {"backend": backend, "delegate": None, **update}
    return PoseConfig.model_validate({**cfg.model_dump(), **fields})


def _blazepose(cfg: PoseConfig, dirs: Sequence[Path]) -> list[Candidate]:
    out: list[Candidate] = []
    if "blazepose" in BACKENDS:  # the maintained runtime finds its own models; a miss fails load
        for complexity, label, rank in _BLAZEPOSE:
            pc = _variant(cfg, "blazepose", model_complexity=complexity)
            out.append(Candidate(f"blazepose-{label}", rank, pc))
    if "mediapipe" in BACKENDS and _has_module("mediapipe"):
        for complexity, label, rank in _BLAZEPOSE:
            filename = f"pose_landmark_{label}.tflite"
            path = _find(dirs, filename, edgetpu=False)
            if path is None and complexity != 1 and not _mediapipe_installed(filename):
                continue  # mediapipe would try to download it
            pc = _variant(cfg, "mediapipe", model_complexity=complexity, model_path=path)
            out.append(Candidate(f"mediapipe-{label}", rank + 1, pc))
    return out


def _litert(cfg: PoseConfig, dirs: Sequence[Path]) -> list[Candidate]:
    out: list[Candidate] = []
    if not (_has_module("ai_edge_litert") or _has_module("tflite_runtime")):
        return out
    tpu = cfg.delegate == "edgetpu"
    suffix = "-edgetpu" if tpu else ""
    for rank, variant in ((_THUNDER_RANK, "thunder"), (_LIGHTNING_RANK, "lightning")):
        path = _find(dirs, f"*movenet*{variant}*.tflite", edgetpu=tpu)
        if path is not None and "movenet" in BACKENDS:
            pc = _variant(cfg, "movenet", model_path=path, delegate=cfg.delegate)
            out.append(Candidate(f"movenet-{variant}{suffix}", rank, pc))
    path = _find(dirs, "posenet*decoder*.tflite", edgetpu=tpu)
    if path is not None and "posenet" in BACKENDS:
        pc = _variant(cfg, "posenet", model_path=path, delegate=cfg.delegate)
        out.append(Candidate(f"posenet{suffix}", _POSENET_RANK, pc))
    return out


def _hailo(cfg: PoseConfig, dirs: Sequence[Path]) -> list[Candidate]:
    if "hailo" not in BACKENDS or not _has_module("picamera2"):
        return []
    extra = [Path("/usr/share/hailo-models")]  # where Raspberry Pi OS's hailo-models puts them
    path = _find([*dirs, *(d for d in extra if d.is_dir())], "*pose*.hef", edgetpu=False)
    if path is None:
        return []
    pc = _variant(cfg, "hailo", model_path=path)
    return [Candidate(f"hailo-{path.stem}", _HAILO_RANK, pc)]


def discover(cfg: PoseConfig) -> list[Candidate]:
    """The candidates this machine can try, most accurate first."""
    dirs = _search_dirs(cfg)
    found = _blazepose(cfg, dirs) + _hailo(cfg, dirs) + _litert(cfg, dirs)
    return sorted(found, key=lambda c: c.rank)


Builder = Callable[[PoseConfig], PoseEstimator]


def _default_builder(cfg: PoseConfig) -> PoseEstimator:
    from hiitpi.pose.registry import build_estimator

    return build_estimator(cfg)


def time_candidate(
    est: PoseEstimator,
    label: str,
    frame: Frame,
    budget_ms: float,
    clock: Callable[[], float] = time.perf_counter,
) -> ProbeResult:
    """Warm up, then time ``est`` on ``frame``; stops early once it is clearly over budget."""
    found = False
    for i in range(WARMUP):
        found = est.estimate(Frame(frame.image, frame.index + i, frame.t)) is not None or found
    times: list[float] = []
    for i in range(TIMED):
        t0 = clock()
        pose = est.estimate(Frame(frame.image, frame.index + WARMUP + i, frame.t))
        times.append((clock() - t0) * 1000.0)
        found = found or pose is not None
        if times[-1] > 3 * budget_ms:
            break
    return ProbeResult(label, float(np.median(times)), found)


def choose(results: Sequence[ProbeResult], budget_ms: float) -> tuple[int, str]:
    """Index of the result to use (results are in ranking order) and why."""
    loaded = [i for i, r in enumerate(results) if r.error is None]
    if not loaded:
        reasons = "; ".join(f"{r.label}: {r.error}" for r in results) or "none found"
        raise ModelError(f"pose.backend 'auto': no backend could load ({reasons})")
    for i in loaded:
        if results[i].ms <= budget_ms:
            better = [r.label for r in results[:i]]
            why = f"most accurate within {budget_ms:.1f} ms/frame ({results[i].ms:.1f} ms)"
            return i, why + (f"; too slow or unavailable: {', '.join(better)}" if better else "")
    i = min(loaded, key=lambda j: results[j].ms)
    return i, f"no backend fits {budget_ms:.1f} ms/frame; the fastest ({results[i].ms:.1f} ms)"


class AutoEstimator:
    """Probes the candidates on the first frame, then forwards to the chosen backend."""

    def __init__(
        self,
        cfg: PoseConfig,
        *,
        candidates: Sequence[Candidate] | None = None,
        builder: Builder = _default_builder,
        target_fps: float = TARGET_FPS,
        headroom: float = HEADROOM,
        clock: Callable[[], float] = time.perf_counter,
        on_choice: Callable[[AutoEstimator], None] | None = None,
    ) -> None:
        self._candidates = sorted(discover(cfg) if candidates is None else candidates,
                                  key=lambda c: c.rank)  # fmt: skip
        if not self._candidates:
            raise ModelError(
                "pose.backend 'auto': no backend found: run `make install` (LiteRT and the "
                "BlazePose models, `hiitpi models fetch`) or give model files with --model DIR"
            )
        self._builder = builder
        self._clock = clock
        self._on_choice = on_choice  # called once a choice is final (someone was in view)
        self.target_fps = target_fps
        self.budget_ms = 1000.0 * headroom / target_fps
        self._chosen: PoseEstimator | None = None
        self._provisional = False
        self.results: list[ProbeResult] = []
        self.reason = ""
        self.choice: Candidate | None = None

    @property
    def input_size(self) -> tuple[int, int] | None:
        """The chosen backend's fixed model input (w, h), if it declares one."""
        size = getattr(self._chosen, "input_size", None)
        return None if size is None else (int(size[0]), int(size[1]))

    @property
    def candidates(self) -> list[Candidate]:
        return list(self._candidates)

    @property
    def provisional(self) -> bool:
        """True while the choice was made on a frame with nobody in view (or not made yet)."""
        return self._provisional or self._chosen is None

    @property
    def name(self) -> str:
        return "auto" if self._chosen is None else self._chosen.name

    def probe(self, frame: Frame) -> PoseEstimator:
        """Time every candidate on ``frame`` and keep the best; returns the chosen estimator."""
        self.close()
        results: list[ProbeResult] = []
        built: list[PoseEstimator | None] = []
        for cand in self._candidates:
            try:
                est = self._builder(cand.cfg)
            except HiitPiError as exc:  # a missing model or runtime, an unknown key
                results.append(ProbeResult(cand.label, float("inf"), False, str(exc)))
                built.append(None)
                continue
            results.append(time_candidate(est, cand.label, frame, self.budget_ms, self._clock))
            est.reset()
            built.append(est)
        index, self.reason = choose(results, self.budget_ms)
        for i, other in enumerate(built):
            if other is not None and i != index:
                other.close()
        chosen = built[index]
        assert chosen is not None  # choose() only picks a candidate that loaded
        self.results = results
        self._chosen = chosen
        self.choice = self._candidates[index]
        self._provisional = not any(r.found for r in results)
        summary = ", ".join(
            f"{r.label} {'unavailable' if r.error else f'{r.ms:.1f} ms'}" for r in results
        )
        log.info("pose backend auto: chose %s: %s [%s]", results[index].label, self.reason, summary)
        if self._provisional:
            log.info("nobody in view during the probe: will probe again when a person appears")
        elif self._on_choice is not None:
            self._on_choice(self)
        return chosen

    def estimate(self, frame: Frame) -> Pose | None:
        chosen = self._chosen or self.probe(frame)
        pose = chosen.estimate(frame)
        if pose is not None and self._provisional:
            chosen = self.probe(frame)
            if self._provisional and self._on_choice is not None:
                self._provisional = False  # the chosen backend sees the person: final
                self._on_choice(self)
            self._provisional = False
            pose = chosen.estimate(frame)
        return pose

    def reset(self) -> None:
        if self._chosen is not None:
            self._chosen.reset()

    def close(self) -> None:
        if self._chosen is not None:
            self._chosen.close()
            self._chosen = None
