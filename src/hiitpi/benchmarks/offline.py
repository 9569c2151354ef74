"""Offline measurements: the bare-inference ceiling with every stage timed, and the pipeline.

``stage_pass`` decodes the clip once and times each stage of every frame on its own (decode,
pose, referee, draw, encode) in one thread: its pose column is the ceiling, the fastest the
model can go on this machine with nothing else in the way. ``offline_pass`` runs the product's
own ``analyze_video`` (no cache) over the same clip; its frames/s over the ceiling's is the
offline ratio. It also writes the pose track, whose per-frame inference times give the share of
the pass's own wall time spent in the model: a ratio that drifting machine load cannot skew,
since numerator and denominator are measured at the same moments.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from hiitpi.benchmarks.stats import percentiles
from hiitpi.config import Settings
from hiitpi.engine.poses import read_frames

STAGES = ("decode", "pose", "referee", "draw", "encode")


def stage_pass(video: Path, exercise: str, settings: Settings) -> dict[str, Any]:
    """Every frame of ``video`` through each stage, each timed alone (ms per frame)."""
    from hiitpi.pose.registry import build_estimator
    from hiitpi.referee import Referee, load_exercise
    from hiitpi.render import annotate, encode_jpeg

    referee = Referee(load_exercise(exercise), settings.referee)
    t0 = time.perf_counter()
    estimator = build_estimator(settings.pose)
    load_s = time.perf_counter() - t0
    frames, _, fps = read_frames(video)
    samples: dict[str, list[float]] = {s: [] for s in STAGES}
    floor = settings.referee.confidence_floor
    quality = settings.web.jpeg_quality
    width = height = 0
    try:
        while True:
            t0 = time.perf_counter()
            frame = next(frames, None)
            t1 = time.perf_counter()
            if frame is None:
                break
            pose = estimator.estimate(frame)
            t2 = time.perf_counter()
            state, _ = referee.update(pose, frame.t)
            t3 = time.perf_counter()
            image = annotate(frame.image, pose, state, floor)
            t4 = time.perf_counter()
            encode_jpeg(image, quality)
            t5 = time.perf_counter()
            for stage, a, b in zip(STAGES, (t0, t1, t2, t3, t4), (t1, t2, t3, t4, t5), strict=True):
                samples[stage].append((b - a) * 1000.0)
            width, height = frame.width, frame.height
    finally:
        frames.close()
        estimator.close()
    return {
        "backend": estimator.name,
        "frames": len(samples["pose"]),
        "fps": round(fps, 3),
        "resolution": f"{width}x{height}",
        "model_load_s": round(load_s, 3),
        "stages_ms": {stage: percentiles(values) for stage, values in samples.items()},
    }


def offline_pass(video: Path, exercise: str, settings: Settings) -> dict[str, Any]:
    """The product's offline analysis (``hiitpi analyze --no-cache``) over ``video``."""
    from hiitpi.engine.offline import analyze_video
    from hiitpi.engine.tracks import read_track

    with tempfile.TemporaryDirectory(prefix="hiitpi-bench-") as tmp:
        track = Path(tmp) / "track.jsonl"
        report = analyze_video(video, exercise, settings, use_cache=False, track_out=track)
        pose_s = sum(tf.inference_ms for tf in read_track(track)) / 1000.0
    elapsed = report.elapsed_s
    return {
        "frames": report.frames,
        "elapsed_s": round(elapsed, 3),
        "fps": round(report.frames / elapsed, 2) if elapsed > 0 else 0.0,
        "pose_s": round(pose_s, 3),
        "pose_share": round(pose_s / elapsed, 3) if elapsed > 0 else 0.0,
        "reps": report.reps,
    }


BARE_FRAMES = 90  # 3 s of a 30 fps clip
BARE_WARMUP = 5


def bare_model_cpu(
    video: Path,
    settings: Settings,
    n: int = BARE_FRAMES,
    fps: float | None = None,
    seconds: float | None = None,
) -> dict[str, Any]:
    """The model's own CPU cost per frame: the clip's first ``n`` frames decoded into memory
    first, then only the model runs (all its threads counted: ``time.process_time``).

    ``fps``: the frames are handed to the model at that rate, as a camera would, sleeping in
    between, and the window runs to the end of the last frame's period. That is the bare
    model's CPU *at that frame rate*, which is what the live app's CPU is compared with:
    LiteRT's worker threads keep spinning for a while after each inference before they sleep,
    a cost the model has at 30 fps and not back to back. Without ``fps``, back to back.
    ``seconds`` (with ``fps``): a window that long, the ``n`` decoded frames over and over (a
    longer window averages out what other tenants of a shared machine do meanwhile).
    """
    from hiitpi.pose.registry import build_estimator

    frames, _, _ = read_frames(video)
    try:
        batch = [f for _, f in zip(range(n + BARE_WARMUP), frames, strict=False)]
    finally:
        frames.close()
    if len(batch) <= BARE_WARMUP:
        raise ValueError(f"{video}: {len(batch)} frames, need more than {BARE_WARMUP}")
    period = 1.0 / fps if fps else 0.0
    estimator = build_estimator(settings.pose)
    try:
        for frame in batch[:BARE_WARMUP]:
            estimator.estimate(frame)
        timed = batch[BARE_WARMUP:]
        if fps and seconds:
            count = max(len(timed), round(seconds * fps))
            timed = [timed[i % len(timed)] for i in range(count)]
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for i, frame in enumerate(timed):
            _sleep_until(wall0 + i * period)
            estimator.estimate(frame)
        _sleep_until(wall0 + len(timed) * period)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    finally:
        estimator.close()
    return {
        "frames": len(timed),
        "fps": round(fps, 2) if fps else None,
        "cpu_ms_per_frame": round(1000.0 * cpu / len(timed), 2),
        "wall_ms_per_frame": round(1000.0 * wall / len(timed), 2),
    }


def _sleep_until(deadline: float) -> None:
    delay = deadline - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
