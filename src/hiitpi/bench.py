"""``hiitpi bench``: the physical limit and the product's figures, side by side in one run.

1. stage pass: every frame of the clip through decode, pose, referee, draw and encode, each
   timed alone; the pose column is the *ceiling* (bare inference, nothing else in the way);
2. offline pass: ``analyze_video`` (no cache) over the same clip; frames/s over the ceiling's;
3. live runs: the real App (embedded Redis, history, waitress) in a child process with the
   clip paced at its native rate like a camera, with 1 and then 10 MJPEG viewers over HTTP.

The figures go to ``bench/results/<timestamp>.json``; the table (or ``--json``) to stdout. The
keys are documented in BENCHMARKS.md; ``targets`` checks the issue's budget on this machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from hiitpi.config import PoseConfig, Settings
from hiitpi.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_CLIP = Path("../shared/data/clips/push_up__calimiro__1.mp4")  # 640x360, 30 fps, 55 s
RESULTS_DIR = Path("bench/results")
WARMUP_S = 3.0


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--source",
        help=f"video file played as a camera (default: config source file, else {DEFAULT_CLIP})",
    )
    p.add_argument(
        "--exercise", help="exercise to referee (default: from the file name, else squat)"
    )
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--duration", type=float, default=60.0, help="seconds per live run (default 60)")
    p.add_argument(
        "--viewers", default="1,10", help="MJPEG viewers of each live run (default: 1,10)"
    )
    p.add_argument("--no-offline", action="store_true", help="skip the offline passes")
    p.add_argument("--out", type=Path, default=RESULTS_DIR, help="results folder (bench/results)")


def _clip(args: argparse.Namespace, settings: Settings) -> Path:
    uri = args.source or settings.source.uri
    path = Path(uri) if uri != "auto" else DEFAULT_CLIP
    if not path.is_file():
        raise ConfigError(f"bench needs a video file: {path} not found; pass --source FILE")
    return path


def _exercise(args: argparse.Namespace, clip: Path) -> str:
    from hiitpi.referee import list_exercises

    if args.exercise:
        return str(args.exercise)
    known = {d.id for d in list_exercises()}
    guess = clip.name.split("__", 1)[0]
    return guess if guess in known else "squat"


def _viewers(text: str) -> list[int]:
    try:
        counts = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"--viewers: a comma-separated list of integers, got {text!r}") from None
    if not counts or min(counts) < 0:
        raise ConfigError(f"--viewers: counts must be >= 0, got {text!r}")
    return counts


def live_settings(settings: Settings, clip: Path, data_dir: Path, port: int) -> dict[str, Any]:
    """The live runs' settings: the clip looped as a camera, local-only, private stores."""
    web = settings.web.model_copy(update={"host": "127.0.0.1", "port": port})
    source = settings.source.model_copy(update={"uri": str(clip.resolve()), "loop": True})
    live = settings.model_copy(
        update={
            "web": web,
            "source": source,
            "data_dir": data_dir,
            "redis_url": None,  # the embedded server, so its CPU and RSS count as the app's
            "database_url": None,  # a throwaway SQLite history
            "log_level": "WARNING",
        }
    )
    return live.model_dump(mode="json")


SIMD_FLAGS = ("avx2", "avx512f", "neon", "asimd")  # what XNNPACK's speed depends on most


def machine() -> dict[str, Any]:
    """The CPU (model, family/model numbers, SIMD), core count and load: inference speed
    differs by 2x between two EPYC generations that both call themselves "AMD EPYC"."""
    info = {"model name": "", "cpu family": "", "model": "", "flags": ""}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "Features":  # ARM's name for the flags
                key = "flags"
            if key in info and not info[key]:  # the first CPU's lines
                info[key] = value.strip()
    except OSError:
        pass
    flags = set(info["flags"].split())
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpu_model": info["model name"] or platform.processor(),
        "cpu_family_model": f"{info['cpu family']}/{info['model']}".strip("/"),
        "simd": [f for f in SIMD_FLAGS if f in flags],
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "loadavg_at_start": [round(x, 2) for x in load],
    }


def run_bench(
    settings: Settings,
    clip: Path,
    exercise: str,
    *,
    duration: float = 60.0,
    viewers: list[int] | None = None,
    offline: bool = True,
    progress: TextIO | None = None,
) -> dict[str, Any]:
    """Measure everything; returns the figures (see BENCHMARKS.md for the keys)."""
    from hiitpi.benchmarks.live import free_port, run_live
    from hiitpi.benchmarks.offline import offline_pass, stage_pass

    def say(msg: str) -> None:
        if progress is not None:
            print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=progress, flush=True)

    viewers = [1, 10] if viewers is None else viewers
    out: dict[str, Any] = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "clip": str(clip),
        "exercise": exercise,
        "pose": settings.pose.model_dump(mode="json"),
        "duration_s": duration,
    }
    if offline:
        say(f"stage pass over {clip.name} (decode, pose, referee, draw, encode)")
        stages = stage_pass(clip, exercise, settings)
        stages["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        say("offline pass (analyze_video, no cache)")
        off = offline_pass(clip, exercise, settings)
        off["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        pose = stages["stages_ms"]["pose"]
        # A throughput ratio compares like with like: the ceiling's throughput is frames over
        # total inference time (1000 / mean); 1000 / median flatters it when the tail is long.
        ceiling_fps = round(1000.0 / pose["mean"], 2) if pose["mean"] else 0.0
        out.update(
            backend=stages["backend"],
            resolution=stages["resolution"],
            ceiling_ms=pose["median"],
            ceiling_p90_ms=pose["p90"],
            ceiling_mean_ms=pose["mean"],
            ceiling_fps=ceiling_fps,
            offline_fps=off["fps"],
            offline_ratio=round(off["fps"] / ceiling_fps, 3) if ceiling_fps else 0.0,
            offline_ratio_vs_median=round(off["fps"] * pose["median"] / 1000.0, 3),
            offline_pose_share=off["pose_share"],
            stage_pass=stages,
            offline=off,
        )
        default_pose = PoseConfig(models_dir=settings.pose.models_dir)  # same models folder
        if settings.pose != default_pose:  # another backend: its speed against the default's
            say("default backend's ceiling on the same clip, for comparison")
            default = stage_pass(clip, exercise, settings.model_copy(update={"pose": default_pose}))
            ref = default["stages_ms"]["pose"]
            out["default_backend"] = {
                "backend": default["backend"],
                "ceiling_ms": ref["median"],
                "ceiling_p90_ms": ref["p90"],
            }
            out["speed_vs_default"] = (
                round(ref["median"] / pose["median"], 2) if pose["median"] else 0.0
            )
    for n in viewers:
        key = "live" if n == 1 else f"live_{n}_viewers"
        say(f"live run: {duration:g} s paced at the clip's rate, {n} viewer(s)")
        with tempfile.TemporaryDirectory(prefix="hiitpi-bench-") as tmp:
            live_json = live_settings(settings, clip, Path(tmp), free_port())
            out[key] = run_live(live_json, exercise, duration, n, WARMUP_S)
            out[key]["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    if "ceiling_mean_ms" in out:
        ncpu = os.cpu_count() or 1
        for key, live in out.items():
            if _is_live(key, live):
                # whole-app CPU over what bare inference alone would cost at the delivered fps
                bare = live["delivered_fps"] * out["ceiling_mean_ms"] / 10.0 / ncpu
                live["cpu_vs_bare_inference"] = round(live["cpu_pct"] / bare, 2) if bare else 0.0
    first = out.get("live") or next((out[k] for k in out if k.startswith("live")), None)
    if first is not None:
        out["peak_rss_mb"] = max(v["peak_rss_mb"] for k, v in out.items() if _is_live(k, v))
        out["startup_s"] = first["startup_s"]
    out["targets"] = targets(out)
    return out


def _is_live(key: str, value: Any) -> bool:
    return key.startswith("live") and isinstance(value, dict)


def targets(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The issue's budget: each target with the measured value and whether it holds."""
    out: dict[str, dict[str, Any]] = {}

    def check(name: str, value: float, limit: float, ok: bool) -> None:
        out[name] = {"value": value, "limit": round(limit, 2), "met": bool(ok)}

    if "offline_ratio" in r:
        check("offline_ratio >= 0.90", r["offline_ratio"], 0.90, r["offline_ratio"] >= 0.90)
    live = r.get("live")
    if live is not None:
        check("live dropped_frames == 0", live["dropped_frames"], 0, live["dropped_frames"] == 0)
        if "ceiling_p90_ms" in r:
            limit = 1.3 * r["ceiling_p90_ms"] + 5.0
            p90 = live["latency_p90_ms"]
            check("live latency_p90_ms <= 1.3 x ceiling p90 + 5", p90, limit, p90 <= limit)
        check("live cpu_pct <= 45", live["cpu_pct"], 45.0, live["cpu_pct"] <= 45.0)
        many = r.get("live_10_viewers")
        if many is not None:
            ratio = round(many["delivered_fps"] / max(live["delivered_fps"], 1e-9), 3)
            check("10 viewers: delivered_fps ratio >= 0.98", ratio, 0.98, ratio >= 0.98)
            limit = 1.15 * live["cpu_pct"]
            check(
                "10 viewers: cpu_pct <= 1.15 x 1 viewer",
                many["cpu_pct"],
                limit,
                many["cpu_pct"] <= limit,
            )
    if "startup_s" in r:
        check("startup_s <= 5", r["startup_s"], 5.0, r["startup_s"] <= 5.0)
        check("peak_rss_mb <= 600", r["peak_rss_mb"], 600.0, r["peak_rss_mb"] <= 600.0)
    return out


def print_table(r: dict[str, Any], out: TextIO) -> None:
    from hiitpi.benchmarks.table import render

    out.write(render(r))


def write_results(r: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")
    return path


def run_bench_command(args: argparse.Namespace, settings: Settings) -> int:
    clip = _clip(args, settings)
    exercise = _exercise(args, clip)
    if args.duration <= 0:
        raise ConfigError("--duration must be > 0")
    result = run_bench(
        settings,
        clip,
        exercise,
        duration=args.duration,
        viewers=_viewers(args.viewers),
        offline=not args.no_offline,
        progress=sys.stderr,
    )
    path = write_results(result, args.out)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_table(result, sys.stdout)
    print(f"results written to {path}", file=sys.stderr)
    return 0
