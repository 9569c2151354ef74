"""``hiitpi bench``: the physical limit and the product's figures, side by side in one run.

1. stage pass: every frame of the clip through decode, pose, referee, draw and encode, each
   timed alone; the pose column is the *ceiling* (bare inference, nothing else in the way);
2. offline pass: ``analyze_video`` (no cache) over the same clip; frames/s over the ceiling's;
3. live runs: the real App (embedded Redis, history, web server) in a child process with the
   clip paced at its native rate like a camera, with 1 and 10 MJPEG viewers over HTTP: one app,
   its windows alternating between the counts, so their CPU is compared side by side, and the
   bare model's paced windows in between them (the app's capture held meanwhile).

The figures go to ``bench/results/<timestamp>.json``; the table (or ``--json``) to stdout. The
keys are documented in BENCHMARKS.md; ``targets`` checks the issue's budget on this machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from hiitpi.config import PoseConfig, Settings
from hiitpi.core.frame import Frame
from hiitpi.errors import ConfigError
from hiitpi.hardware import machine

log = logging.getLogger(__name__)

DEFAULT_CLIP = Path("../shared/data/clips/push_up__calimiro__1.mp4")  # 640x360, 30 fps, 55 s
RESULTS_DIR = Path("bench/results")
WARMUP_S = 3.0
# the bare model paced at the app's rate, in between the live windows (before each round and
# after the last): each window duration / 6 s long within these bounds (10 s with 60 s runs)
PACED_MIN_S = 3.0
PACED_MAX_S = 10.0


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


def clip_fps(clip: Path) -> float:
    """The clip's frame rate: the live runs play it at this rate, like a camera."""
    import cv2

    cap = cv2.VideoCapture(str(clip))
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    finally:
        cap.release()
    return round(fps, 3) if fps > 0 else 30.0


def _probe_frames(clip: Path, count: int = 8) -> Iterator[Frame]:
    """Frames spread over the clip, for the auto probe (a person is in most of them)."""
    import cv2

    cap = cv2.VideoCapture(str(clip))
    try:
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        for i in range(count):
            cap.set(cv2.CAP_PROP_POS_FRAMES, (i * total) // count if total else i)
            ok, image = cap.read()
            if ok:
                yield Frame(np.asarray(image, np.uint8), i, 0.0, str(clip))
    finally:
        cap.release()


def live_pose(settings: Settings, clip: Path) -> tuple[PoseConfig, str]:
    """The backend ``hiitpi serve`` runs on this machine for a camera at the clip's rate: the
    configured one, or (none configured) auto's remembered choice, probing if there is none."""
    from hiitpi.pose.choice import resolve_live_config

    return resolve_live_config(
        settings.pose, settings.data_dir, clip_fps(clip), _probe_frames(clip)
    )


def _paced_mean(windows: list[dict[str, Any]]) -> dict[str, Any]:
    """The bare model's CPU per frame at the live rate: its windows in between the live ones
    together (frame-weighted), so a drift of the machine's load does not fall on the live
    windows and not on the model's alone; each window is kept under ``windows``."""
    frames = sum(w["frames"] for w in windows)
    cpu = sum(w["cpu_ms_per_frame"] * w["frames"] for w in windows) / frames
    wall = sum(w["wall_ms_per_frame"] * w["frames"] for w in windows) / frames
    fps = sum((w["fps"] or 0.0) * w["frames"] for w in windows) / frames
    return {
        "frames": frames,
        "fps": round(fps, 2),
        "cpu_ms_per_frame": round(cpu, 2),
        "wall_ms_per_frame": round(wall, 2),
        "windows": windows,
        "loadavg_after": windows[-1].get("loadavg_after"),
    }


def add_ratios(out: dict[str, Any]) -> None:
    """The budget's ratios, each live run against the bare model measured in the same run.

    ``fps_ratio`` = delivered / min(camera fps, 1000 / bare median ms); ``latency_excess_ms`` =
    capture->JPEG p90 - (bare p90 + one frame period + 5 ms); ``cpu_vs_bare_model`` = whole-app
    CPU / the bare model's CPU at the same delivered fps (``bare_model_paced``: the model alone
    fed at the 1-viewer windows' delivered rate, in windows between the app's; back to back when
    that was not measured), and
    ``cpu_vs_bare_back_to_back`` the same against the back-to-back figure. ``cpu_ratio`` is
    ``cpu_vs_bare_model`` for ``live`` and, for ``live_N_viewers``, its CPU over the 1-viewer
    run's (the same app, in windows alternating with the 1-viewer ones).
    """
    ncpu = os.cpu_count() or 1
    camera = float(out.get("camera_fps") or 30.0)
    one = out.get("live")
    for key, live in out.items():
        if not _is_live(key, live):
            continue
        if out.get("ceiling_ms"):
            ceiling = min(camera, 1000.0 / out["ceiling_ms"])
            live["fps_ratio"] = round(live["delivered_fps"] / ceiling, 3)
            allowed = out["ceiling_p90_ms"] + 1000.0 / camera + 5.0
            live["latency_excess_ms"] = round(live["latency_p90_ms"] - allowed, 1)
        # the bare model at the delivered rate (paced), else back to back: CPU % of all cores
        # it alone would use at this run's fps
        for name, bare in (
            ("cpu_vs_bare_model", out.get("bare_model_paced") or out.get("bare_model")),
            ("cpu_vs_bare_back_to_back", out.get("bare_model")),
        ):
            if bare:
                bare_pct = live["delivered_fps"] * bare["cpu_ms_per_frame"] / 10.0 / ncpu
                live[name] = round(live["cpu_pct"] / bare_pct, 3) if bare_pct else 0.0
        if key == "live":
            if "cpu_vs_bare_model" in live:
                live["cpu_ratio"] = live["cpu_vs_bare_model"]
        elif one is not None and one["cpu_pct"] > 0:
            live["cpu_ratio"] = round(live["cpu_pct"] / one["cpu_pct"], 3)


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
    from hiitpi.benchmarks.offline import bare_model_cpu, offline_pass, stage_pass

    def say(msg: str) -> None:
        if progress is not None:
            print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=progress, flush=True)

    viewers = [1, 10] if viewers is None else viewers
    pose_cfg, why = live_pose(settings, clip)
    say(f"backend {pose_cfg.backend} (what serve runs here): {why}")
    settings = settings.model_copy(update={"pose": pose_cfg})
    out: dict[str, Any] = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "clip": str(clip),
        "exercise": exercise,
        "pose": settings.pose.model_dump(mode="json"),
        "backend_reason": why,
        "camera_fps": clip_fps(clip),
        "duration_s": duration,
    }
    if offline:
        say(f"stage pass over {clip.name} (decode, pose, referee, draw, encode)")
        stages = stage_pass(clip, exercise, settings)
        stages["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        say("offline pass (analyze_video, no cache)")
        off = offline_pass(clip, exercise, settings)
        off["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        say("bare model CPU per frame (decoded frames in memory, nothing else running)")
        bare = bare_model_cpu(clip, settings)
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
            bare_model=bare,
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
    paced_s = min(PACED_MAX_S, max(PACED_MIN_S, duration / 6.0))

    def bare_window(rate: float) -> dict[str, Any]:  # the app is held meanwhile
        say(f"bare model CPU per frame, paced at {rate:g} fps, {paced_s:g} s (the app held)")
        window = bare_model_cpu(clip, settings, fps=rate, seconds=paced_s)
        window["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        return window

    if viewers:
        counts = ", ".join(str(n) for n in dict.fromkeys(viewers))
        say(
            f"live run: {duration:g} s paced at the clip's rate for each viewer count ({counts}),"
            " in alternating windows" + (", the bare model's in between" if offline else "")
        )
        with tempfile.TemporaryDirectory(prefix="hiitpi-bench-") as tmp:
            live_json = live_settings(settings, clip, Path(tmp), free_port())
            runs, bare_windows = run_live(
                live_json, exercise, duration, viewers, WARMUP_S, bare_window if offline else None
            )
        for n, figures in runs.items():
            figures["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
            out["live" if n == 1 else f"live_{n}_viewers"] = figures
        if bare_windows:
            out["bare_model_paced"] = _paced_mean(bare_windows)
    add_ratios(out)
    first = out.get("live") or next((out[k] for k in out if k.startswith("live")), None)
    if first is not None:
        out["peak_rss_mb"] = max(v["peak_rss_mb"] for k, v in out.items() if _is_live(k, v))
        out["startup_s"] = first["startup_s"]
    out["targets"] = targets(out)
    return out


def _is_live(key: str, value: Any) -> bool:
    return key.startswith("live") and isinstance(value, dict)


def targets(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The budget (issue 11): each target with the measured value and whether it holds."""
    out: dict[str, dict[str, Any]] = {}

    def check(name: str, value: float, limit: float, ok: bool) -> None:
        out[name] = {"value": value, "limit": round(limit, 2), "met": bool(ok)}

    if "offline_ratio" in r:
        check("offline_ratio >= 0.90", r["offline_ratio"], 0.90, r["offline_ratio"] >= 0.90)
    live = r.get("live") or {}
    if "fps_ratio" in live:
        check("live.fps_ratio >= 0.95", live["fps_ratio"], 0.95, live["fps_ratio"] >= 0.95)
    if "latency_excess_ms" in live:
        excess = live["latency_excess_ms"]
        check("live.latency_excess_ms <= 0", excess, 0.0, excess <= 0.0)
    if "cpu_ratio" in live:
        check("live.cpu_ratio <= 1.15", live["cpu_ratio"], 1.15, live["cpu_ratio"] <= 1.15)
    many = r.get("live_10_viewers") or {}
    if "cpu_ratio" in many:
        ratio = many["cpu_ratio"]
        check("live_10_viewers.cpu_ratio <= 1.05", ratio, 1.05, ratio <= 1.05)
    if "startup_s" in r:
        check("startup_s <= 5", r["startup_s"], 5.0, r["startup_s"] <= 5.0)
        check("peak_rss_mb <= 500", r["peak_rss_mb"], 500.0, r["peak_rss_mb"] <= 500.0)
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
