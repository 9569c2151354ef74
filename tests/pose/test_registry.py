"""The backend registry: keys, lazy imports, and a helpful unknown-key error."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from hiitpi.config import PoseConfig
from hiitpi.errors import ConfigError
from hiitpi.pose.registry import BACKENDS, build_estimator


def test_unknown_backend_lists_the_valid_keys():
    assert {"auto", "blazepose", "hailo", "mediapipe", "movenet", "posenet"} <= set(BACKENDS)
    valid = re.escape(", ".join(sorted(BACKENDS)))  # every key, whichever this build has
    with pytest.raises(ConfigError, match=rf"pose\.backend.*{valid}"):
        build_estimator(PoseConfig(backend="openpose"))


def test_every_key_points_at_an_importable_factory():
    import importlib

    for key, target in BACKENDS.items():
        module, _, attr = target.partition(":")
        assert callable(getattr(importlib.import_module(module), attr)), key


def test_importing_the_pose_package_loads_no_runtime():
    """In a fresh interpreter: the heavy runtimes load only when a backend is built."""
    code = (
        "import sys, hiitpi.pose, hiitpi.pose.auto, hiitpi.pose.backends.litert,"
        " hiitpi.pose.backends.blazepose, hiitpi.pose.models;"
        "print([m for m in ('mediapipe', 'ai_edge_litert', 'tflite_runtime') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
