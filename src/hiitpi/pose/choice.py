"""The pose backend ``hiitpi serve`` runs: the one configured, or the auto probe's choice.

With no backend chosen (``pose.backend`` neither given by ``--backend``, ``HIITPI_POSE__BACKEND``
nor the config file, or set to ``"auto"``), the live referee runs the :mod:`hiitpi.pose.auto`
probe on its first start on a machine and keeps the most accurate backend that holds the
camera's frame rate. The choice is remembered in ``data_dir/pose_backend.json`` together with
what it depends on: the CPU (model name and family/model numbers, as ``hiitpi bench`` prints
them), the installed runtime versions, the candidates found and the camera's frame rate. When
any of those differ, the next start probes again. Offline ``analyze``/``eval`` never come here:
they use the configured default.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError

from hiitpi.config import PoseConfig
from hiitpi.core.frame import Frame
from hiitpi.errors import HiitPiError, ModelError
from hiitpi.hardware import cpu_info, runtime_versions
from hiitpi.pose.auto import TARGET_FPS, AutoEstimator, Builder, Candidate, discover
from hiitpi.pose.base import PoseEstimator

log = logging.getLogger(__name__)

MEMORY_FILE = "pose_backend.json"
MEMORY_VERSION = 1
# what the probe decides; thresholds and threads stay as configured now
CHOICE_KEYS = ("backend", "model_complexity", "model_path", "delegate")


@dataclass(frozen=True, slots=True)
class LiveChoice:
    """The estimator to serve with, why, and the probe still to run (None: nothing to probe)."""

    estimator: PoseEstimator
    reason: str
    probe: AutoEstimator | None = None
    config: PoseConfig | None = None  # the backend's settings (None until the probe has run)


def wants_auto(pose: PoseConfig) -> bool:
    """True when nobody chose a backend or a model (or chose ``auto``): the live referee picks.

    Naming a model (``model_complexity``, or ``model_path`` as a file) chooses the default
    backend with that model; ``model_path`` as a folder is where auto looks for model files.
    """
    if pose.backend == "auto":
        return True
    chosen = pose.model_fields_set
    if "backend" in chosen or "model_complexity" in chosen:
        return False
    return pose.model_path is None or Path(pose.model_path).expanduser().is_dir()


def fingerprint(candidates: Sequence[Candidate], target_fps: float) -> dict[str, Any]:
    """What a remembered choice depends on; a change of any value re-probes."""
    cpu = cpu_info()
    return {
        "cpu_model": cpu["cpu_model"],
        "cpu_family_model": cpu["cpu_family_model"],
        "runtimes": runtime_versions(),
        "candidates": [c.label for c in candidates],
        "target_fps": round(float(target_fps), 2),
    }


def differences(old: Any, new: dict[str, Any]) -> list[str]:
    """The keys of ``new`` whose values ``old`` does not have, e.g. ``["cpu_model"]``."""
    if not isinstance(old, dict):
        return ["everything (no fingerprint)"]
    return [key for key, value in new.items() if old.get(key) != value]


class ChoiceMemory:
    """``data_dir/pose_backend.json``: the last probe's choice and its fingerprint."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            log.warning("pose backend: ignoring %s (%s); probing again", self.path, exc)
            return None
        if not isinstance(data, dict) or data.get("version") != MEMORY_VERSION:
            log.warning("pose backend: %s has an unknown layout; probing again", self.path)
            return None
        return data

    def save(self, auto: AutoEstimator, fp: dict[str, Any]) -> None:
        """Write the probe's choice atomically; a failure is logged (the choice still holds)."""
        if auto.choice is None:
            return
        label = auto.choice.label
        chosen = auto.choice.cfg.model_dump(mode="json")
        data = {
            "version": MEMORY_VERSION,
            "label": label,
            "pose": {k: chosen[k] for k in CHOICE_KEYS},
            "reason": f"{label}: {auto.reason}",
            "results": [
                {"label": r.label, "ms": None if r.error else round(r.ms, 2), "error": r.error}
                for r in auto.results
            ],
            "chosen_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "fingerprint": fp,
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
            tmp.replace(self.path)
        except OSError as exc:
            log.warning("pose backend: cannot remember the choice in %s: %s", self.path, exc)
            return
        log.info("pose backend: remembered %s in %s", label, self.path)


def _default_builder(cfg: PoseConfig) -> PoseEstimator:
    from hiitpi.pose.registry import build_estimator

    return build_estimator(cfg)


def _remembered(
    memory: ChoiceMemory, fp: dict[str, Any], pose: PoseConfig, builder: Builder
) -> LiveChoice | None:
    data = memory.load()
    if data is None:
        return None
    changed = differences(data.get("fingerprint"), fp)
    if changed:
        log.info("pose backend: %s changed since the last probe; probing again", ", ".join(changed))
        return None
    try:
        chosen = {k: data["pose"][k] for k in CHOICE_KEYS}
        config = PoseConfig.model_validate({**pose.model_dump(), **chosen})
        estimator = builder(config)
    except (HiitPiError, ValidationError, KeyError, TypeError) as exc:
        log.warning("pose backend: the remembered %s cannot load (%s); probing again",
                    data.get("label"), exc)  # fmt: skip
        return None
    reason = f"{data.get('reason', data.get('label'))} (probed {data.get('chosen_at', '?')})"
    log.info("pose backend %s, remembered for this machine: %s", estimator.name, reason)
    return LiveChoice(estimator, reason, config=config)


def live_estimator(
    pose: PoseConfig,
    data_dir: Path,
    camera_fps: float,
    *,
    builder: Builder = _default_builder,
    candidates: Sequence[Candidate] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> LiveChoice:
    """The estimator for live serving: the configured one, the remembered auto choice, or an
    :class:`AutoEstimator` that probes on the first frame and then remembers its choice."""
    if not wants_auto(pose):
        estimator = builder(pose)
        return LiveChoice(estimator, f"{estimator.name}: chosen with pose.backend", config=pose)
    fps = camera_fps if camera_fps > 0 else TARGET_FPS
    cands = discover(pose) if candidates is None else list(candidates)
    fp = fingerprint(cands, fps)
    memory = ChoiceMemory(Path(data_dir).expanduser() / MEMORY_FILE)
    found = _remembered(memory, fp, pose, builder)
    if found is not None:
        return found
    log.info(
        "pose backend: no backend chosen; probing %s for %.0f fps on this machine (first start "
        "here, or its CPU or runtimes changed; --backend NAME skips this)",
        ", ".join(c.label for c in cands) or "nothing",
        fps,
    )
    auto = AutoEstimator(
        pose,
        candidates=cands,
        builder=builder,
        target_fps=fps,
        clock=clock,
        on_choice=lambda a: memory.save(a, fp),
    )
    # AutoEstimator.name is a read-only property; the protocol's attribute is only ever read
    why = "auto: probing the backends on the first frame"
    return LiveChoice(cast(PoseEstimator, auto), why, auto)


def resolve_live_config(
    pose: PoseConfig,
    data_dir: Path,
    camera_fps: float,
    frames: Iterable[Frame],
    *,
    builder: Builder = _default_builder,
    candidates: Sequence[Candidate] | None = None,
) -> tuple[PoseConfig, str]:
    """The settings of the backend ``serve`` would run here, and why (``hiitpi bench`` measures
    that backend). Probes on ``frames`` (until one shows a person) when nothing is remembered."""
    got = live_estimator(pose, data_dir, camera_fps, builder=builder, candidates=candidates)
    try:
        if got.probe is None:
            assert got.config is not None
            return got.config, got.reason
        for frame in frames:
            got.probe.estimate(frame)
            if not got.probe.provisional:
                break
        if got.probe.choice is None:
            raise ModelError("pose.backend 'auto': no frame to probe the backends on")
        cfg = got.probe.choice.cfg
        return cfg, f"{got.probe.choice.label}: {got.probe.reason}"
    finally:
        got.estimator.close()
