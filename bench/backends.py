"""Pose backends side by side on one clip, in one run: ms per frame and how often a pose is found.

Every decoded frame goes to each backend in turn, so all of them see the same frames under the
same machine load (other processes, thermal throttling). Decoding is not timed.

    .venv/bin/python bench/backends.py          # mediapipe-full vs movenet-lightning
    .venv/bin/python bench/backends.py --clip ../shared/data/clips/squat__ikram__1.mp4 \
        --backend mediapipe-lite --backend mediapipe-full --backend movenet-lightning

A backend is a name below, or ``BACKEND:MODEL_PATH`` (e.g. ``movenet:/path/thunder.tflite``),
optionally with ``@N`` for N LiteRT threads (``blazepose-full@1``). Model files are looked up in
``--models`` (default ../shared/models); the blazepose ones in the models folder
(``hiitpi models``). BlazePose on LiteRT against the legacy mediapipe, in an environment that
has both (``make mediapipe``, Python <= 3.12)::

    .venv/bin/python bench/backends.py --clip ../shared/data/clips/push_up__venkat__1.mp4 \
        --backend mediapipe-full --backend blazepose-lite@1 --backend blazepose-lite@2 \
        --backend blazepose-full@1 --backend blazepose-full@2 \
        --backend blazepose-heavy@1 --backend blazepose-heavy@2 Results are printed and
written to bench/results/backends-<clip>.json (gitignored).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from hiitpi.config import PoseConfig
from hiitpi.engine.poses import read_frames
from hiitpi.pose.base import PoseEstimator
from hiitpi.pose.registry import build_estimator

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HIITPI_TEST_SHARED_DIR") or REPO.parent / "shared")
DEFAULT_CLIP = SHARED / "data" / "clips" / "squat__ikram__1.mp4"
NAMED: dict[str, tuple[str, int, str | None, str | None]] = {
    # name: (backend, model_complexity, model file, delegate)
    "blazepose-lite": ("blazepose", 0, None, None),
    "blazepose-full": ("blazepose", 1, None, None),
    "blazepose-heavy": ("blazepose", 2, None, None),
    "mediapipe-lite": ("mediapipe", 0, "pose_landmark_lite.tflite", None),
    "mediapipe-full": ("mediapipe", 1, None, None),
    "mediapipe-heavy": ("mediapipe", 2, "pose_landmark_heavy.tflite", None),
    "movenet-lightning": ("movenet", 1, "movenet_single_pose_lightning_ptq.tflite", None),
    "movenet-lightning-edgetpu": (
        "movenet", 1, "movenet_single_pose_lightning_ptq_edgetpu.tflite", "edgetpu",
    ),
}  # fmt: skip


def pose_config(spec: str, models: Path) -> PoseConfig:
    spec, _, threads = spec.partition("@")
    if threads:
        return pose_config(spec, models).model_copy(update={"num_threads": int(threads)})
    if spec in NAMED:
        backend, complexity, model, delegate = NAMED[spec]
        path = models / model if model else None
        return PoseConfig(
            backend=backend, model_complexity=complexity, model_path=path, delegate=delegate
        )
    backend, _, model = spec.partition(":")
    return PoseConfig(backend=backend, model_path=Path(model) if model else None)


def summarise(ms: list[float], found: int) -> dict[str, Any]:
    a = np.asarray(ms[2:] or ms)  # the first two calls include graph set-up
    return {
        "frames": len(ms),
        "found": found,
        "ms_mean": round(float(a.mean()), 2),
        "ms_median": round(float(np.median(a)), 2),
        "ms_p90": round(float(np.percentile(a, 90)), 2),
        "ms_max": round(float(a.max()), 2),
        "fps_median": round(1000.0 / float(np.median(a)), 1),
    }


def run(clip: Path, specs: list[str], models: Path, max_frames: int) -> dict[str, Any]:
    estimators: dict[str, PoseEstimator] = {
        s: build_estimator(pose_config(s, models)) for s in specs
    }
    ms: dict[str, list[float]] = {s: [] for s in specs}
    found = dict.fromkeys(specs, 0)
    frames, _, fps = read_frames(clip)
    size = ""
    try:
        for n, frame in enumerate(frames):
            if max_frames and n >= max_frames:
                break
            size = f"{frame.width}x{frame.height}"
            for spec, est in estimators.items():
                t0 = time.perf_counter()
                pose = est.estimate(frame)
                ms[spec].append((time.perf_counter() - t0) * 1000.0)
                found[spec] += pose is not None
    finally:
        frames.close()
        for est in estimators.values():
            est.close()
    results = {
        spec: {
            "name": estimators[spec].name
            + (f" @{spec.partition('@')[2]} threads" if "@" in spec else ""),
            **summarise(ms[spec], found[spec]),
        }
        for spec in specs
    }
    base = results[specs[0]]["ms_median"]
    for r in results.values():
        r["speed_vs_first"] = round(base / r["ms_median"], 2)
    return {
        "clip": clip.name,
        "resolution": size,
        "clip_fps": round(fps, 2),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, {platform.platform()}",
        "load_average": os.getloadavg(),
        "backends": results,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    p.add_argument("--models", type=Path, default=SHARED / "models")
    p.add_argument("--backend", action="append", dest="backends", metavar="SPEC")
    p.add_argument("--frames", type=int, default=0, help="stop after N frames (0: all)")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    specs = args.backends or ["mediapipe-full", "movenet-lightning"]
    report = run(args.clip, specs, args.models, args.frames)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"backends-{args.clip.stem}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{report['clip']} ({report['resolution']}), {report['machine']}")
    head = ("frames", "found", "median", "mean", "p90", "x first")
    print(f"{'backend':28} " + " ".join(f"{h:>7}" for h in head))
    for r in report["backends"].values():
        print(
            f"{r['name']:28} {r['frames']:7d} {r['found']:7d} {r['ms_median']:7.1f} "
            f"{r['ms_mean']:7.1f} {r['ms_p90']:7.1f} {r['speed_vs_first']:7.2f}"
        )
    print(f"(ms per frame; written to {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
