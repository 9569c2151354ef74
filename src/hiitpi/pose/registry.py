"""Backend registry: a key -> a lazily imported module. Heavy runtimes load only when chosen."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from hiitpi.errors import ConfigError

if TYPE_CHECKING:
    from hiitpi.config import PoseConfig
    from hiitpi.pose.base import PoseEstimator

# key -> "module:factory"; the factory takes a PoseConfig and returns a PoseEstimator.
# "auto" times the available backends on the first frames and keeps the most accurate one that
# holds 30 fps (hiitpi.pose.auto).
BACKENDS: dict[str, str] = {
    "blazepose": "hiitpi.pose.backends.blazepose:BlazePoseEstimator",
    "mediapipe": "hiitpi.pose.backends.mediapipe:MediaPipeEstimator",
    "movenet": "hiitpi.pose.backends.litert:LiteRTEstimator",
    "posenet": "hiitpi.pose.backends.litert:LiteRTEstimator",
    "hailo": "hiitpi.pose.backends.hailo:HailoEstimator",  # Raspberry Pi AI Kit / AI HAT+
    "auto": "hiitpi.pose.auto:AutoEstimator",
}


def check_backend(name: str) -> str:
    """``name``'s "module:factory"; an unknown key is a ConfigError listing the valid ones."""
    try:
        return BACKENDS[name]
    except KeyError:
        valid = ", ".join(sorted(BACKENDS))
        raise ConfigError(f"pose.backend: unknown backend {name!r}; valid: {valid}") from None


def build_estimator(cfg: PoseConfig) -> PoseEstimator:
    """Build the configured backend; an unknown key lists the valid ones."""
    target = check_backend(cfg.backend)
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    factory = getattr(module, attr)
    estimator: PoseEstimator = factory(cfg)
    return estimator
