"""What this machine is: the CPU as ``/proc/cpuinfo`` names it, and the installed runtimes.

``hiitpi bench`` prints these, and the live backend choice (``hiitpi.pose.choice``) is
remembered together with them: a different CPU or runtime version means probing again.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
from pathlib import Path
from typing import Any

SIMD_FLAGS = ("avx2", "avx512f", "neon", "asimd")  # what XNNPACK's speed depends on most

# The distributions whose version changes a backend's speed or availability.
RUNTIME_DISTRIBUTIONS = (
    "hiitpi",
    "mediapipe",
    "ai-edge-litert",
    "tflite-runtime",
    "numpy",
    "opencv-python-headless",
    "picamera2",
    "hailort",
)


def cpu_info(cpuinfo: Path = Path("/proc/cpuinfo")) -> dict[str, str]:
    """The first CPU's ``model name`` (ARM: ``Model`` or ``Hardware``), family/model numbers
    (ARM: implementer/part) and feature flags; empty strings where the file says nothing."""
    info = {"model name": "", "cpu family": "", "model": "", "flags": ""}
    arm = {"CPU implementer": "", "CPU part": "", "Model": "", "Hardware": ""}
    try:
        lines = cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "Features":  # ARM's name for the flags
            key = "flags"
        if key in info and not info[key]:  # the first CPU's lines
            info[key] = value
        elif key in arm and not arm[key]:
            arm[key] = value
    model = info["model name"] or arm["Model"] or arm["Hardware"] or platform.processor()
    family = f"{info['cpu family']}/{info['model']}".strip("/")
    if not family and arm["CPU part"]:  # e.g. 0x41/0xd0b: Arm Cortex-A76 (Raspberry Pi 5)
        family = f"{arm['CPU implementer']}/{arm['CPU part']}"
    return {"cpu_model": model, "cpu_family_model": family, "flags": info["flags"]}


def machine() -> dict[str, Any]:
    """The CPU (model, family/model numbers, SIMD), core count and load: inference speed
    differs by 2x between two EPYC generations that both call themselves "AMD EPYC"."""
    cpu = cpu_info()
    flags = set(cpu["flags"].split())
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpu_model": cpu["cpu_model"],
        "cpu_family_model": cpu["cpu_family_model"],
        "simd": [f for f in SIMD_FLAGS if f in flags],
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "loadavg_at_start": [round(x, 2) for x in load],
    }


def runtime_versions() -> dict[str, str | None]:
    """Installed version of each of :data:`RUNTIME_DISTRIBUTIONS` (None: not installed)."""
    out: dict[str, str | None] = {}
    for name in RUNTIME_DISTRIBUTIONS:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out
