"""Smoke test of ``hiitpi bench``: every documented figure is there, with a sane type.

A tiny generated clip, 3 s live runs and the real MediaPipe model; no timing is asserted (the
machine is shared and noisy: the figures themselves belong in BENCHMARKS.md, not in a test).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from hiitpi import bench
from hiitpi.cli import main
from hiitpi.config import PoseConfig

LIVE_KEYS = {
    "delivered_fps": float,
    "dropped_frames": int,
    "latency_p90_ms": float,
    "cpu_pct": float,
    "peak_rss_mb": float,
    "startup_s": float,
    "frames": int,
    "viewers": int,
    "latency_to_count_ms": dict,
    "latency_to_jpeg_ms": dict,
    "stages_ms": dict,
    "cpu_pct_by_part": dict,
    "viewer_fps": list,
}


def _clip(path: Path, frames: int = 45, size: tuple[int, int] = (320, 240)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, size)
    assert writer.isOpened()
    for i in range(frames):
        img = np.full((size[1], size[0], 3), 90, np.uint8)
        cv2.circle(img, (40 + 5 * i, 120), 20, (0, 0, 255), -1)
        writer.write(img)
    writer.release()
    return path


@pytest.mark.model
@pytest.mark.slow
def test_bench_json_has_every_documented_figure(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench, "WARMUP_S", 0.5)
    monkeypatch.setenv("HIITPI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HIITPI_POSE__MODELS_DIR", str(PoseConfig().models_dir))
    clip = _clip(tmp_path / "tiny.mp4")
    out = tmp_path / "results"
    argv = ["bench", "--source", str(clip), "--exercise", "squat", "--duration", "3", "--json"]
    argv += ["--backend", "blazepose"]  # the generated clip has nobody in it for auto to probe
    assert main([*argv, "--out", str(out)]) == 0

    r = json.loads(capsys.readouterr().out)
    for key, kind in {
        "ceiling_ms": float,
        "ceiling_p90_ms": float,
        "offline_fps": float,
        "offline_ratio": float,
        "peak_rss_mb": float,
        "startup_s": float,
        "targets": dict,
        "machine": dict,
    }.items():
        assert isinstance(r[key], kind), (key, r[key])
    assert r["ceiling_ms"] > 0 and r["offline_fps"] > 0
    assert set(r["stage_pass"]["stages_ms"]) == {"decode", "pose", "referee", "draw", "encode"}
    for run, viewers in (("live", 1), ("live_10_viewers", 10)):
        live = r[run]
        for key, kind in LIVE_KEYS.items():
            value = live[key]
            ok = isinstance(value, kind) or (kind is float and isinstance(value, int))
            assert ok and not isinstance(value, bool), (run, key, value)
        assert live["viewers"] == viewers and len(live["viewer_fps"]) == viewers
        assert live["frames"] > 0 and live["viewer_errors"] == []
        assert set(live["stages_ms"]) == {"wait", "pose", "referee", "publish", "draw", "encode"}
        for name in ("median", "p90", "p99"):
            assert live["latency_to_jpeg_ms"][name] >= 0
        assert {"engine", "redis_server"} <= set(live["cpu_pct_by_part"])
        # the model inside the app, measured at the same moments as the app (a diagnostic)
        assert live["model_in_app_cpu_ms_per_frame"] > 0 and live["cpu_vs_model_in_app"] > 1.0
        # one app, three alternating windows per viewer count, which add up to the figures
        assert len(live["windows"]) == 3
        assert sum(w["duration_s"] for w in live["windows"]) == pytest.approx(
            live["duration_s"], abs=0.05
        )
        assert live["duration_s"] == pytest.approx(3.0, abs=0.3)
        # the same budget is live in the app's status, over HTTP
        api = live["api_status_budget"]
        assert {"wait", "pose", "referee", "publish", "draw", "encode"} <= set(api["stages_ms"])
        assert {"to_count", "to_jpeg"} <= set(api["latency_ms"])
    # the budget's ratios (issue 11), each against the bare model measured in this same run
    assert r["camera_fps"] == pytest.approx(30.0) and r["backend_reason"]
    assert r["bare_model"]["cpu_ms_per_frame"] > 0
    live, many = r["live"], r["live_10_viewers"]
    ceiling = min(30.0, 1000.0 / r["ceiling_ms"])
    assert live["fps_ratio"] == pytest.approx(live["delivered_fps"] / ceiling, abs=1e-3)
    allowed = r["ceiling_p90_ms"] + 1000.0 / 30.0 + 5.0
    assert live["latency_excess_ms"] == pytest.approx(live["latency_p90_ms"] - allowed, abs=0.1)
    assert live["cpu_ratio"] == live["cpu_vs_bare_model"] > 0
    # its denominator: the bare model fed at the rate the app delivered (issue 11's definition),
    # in windows before each round of live windows and after the last, the app held meanwhile
    paced = r["bare_model_paced"]
    assert len(paced["windows"]) == 4
    assert paced["windows"][0]["fps"] == pytest.approx(30.0)  # the camera's: nothing ran yet
    assert paced["windows"][-1]["fps"] == pytest.approx(live["delivered_fps"], abs=0.01)
    assert live["cpu_vs_bare_back_to_back"] > 0
    assert many["cpu_ratio"] == pytest.approx(many["cpu_pct"] / live["cpu_pct"], abs=1e-3)
    assert set(r["targets"]) == {
        "offline_ratio >= 0.90", "live.fps_ratio >= 0.95", "live.latency_excess_ms <= 0",
        "live.cpu_ratio <= 1.15", "live_10_viewers.cpu_ratio <= 1.05", "startup_s <= 5",
        "peak_rss_mb <= 500",
    }  # fmt: skip
    assert all(isinstance(t["met"], bool) for t in r["targets"].values())
    saved = list(out.glob("*.json"))
    assert len(saved) == 1 and json.loads(saved[0].read_text())["ceiling_ms"] == r["ceiling_ms"]


def test_the_viewer_counts_alternate_so_a_drift_falls_on_each_alike():
    from hiitpi.benchmarks.live import schedule

    expected = [(1, 20.0), (10, 20.0), (10, 20.0), (1, 20.0), (1, 20.0), (10, 20.0)]
    assert schedule([1, 10], 60.0) == expected  # each count 60 s, in the order 1 10 10 1 1 10
    assert schedule([1], 60.0) == [(1, 60.0)]  # one count: one window
    assert schedule([1, 1, 10], 6.0, rounds=2) == [(1, 3.0), (10, 3.0), (10, 3.0), (1, 3.0)]
    # the bare model's windows (0) before each round and after the last
    assert schedule([1, 10], 4.0, rounds=2, bare=True) == [
        (0, 0.0), (1, 2.0), (10, 2.0), (0, 0.0), (10, 2.0), (1, 2.0), (0, 0.0)
    ]  # fmt: skip
    assert schedule([1], 5.0, bare=True) == [(0, 0.0), (1, 5.0), (0, 0.0)]


def test_budget_is_rolling_medians_and_survives_the_store_round_trip():
    from hiitpi.engine.timing import FrameTiming, budget
    from hiitpi.live.base import EngineStatus

    timings = [
        FrameTiming(0, wait=1.0, pose=30.0, referee=0.4, publish=1.0),
        FrameTiming(1, wait=3.0, pose=34.0, referee=0.6, publish=2.0, draw=1.0, encode=0.7),
        FrameTiming(2, wait=2.0, pose=32.0, referee=0.5, publish=3.0, to_count=40.0),
    ]
    stages, latency = budget(timings)
    assert stages == {
        "wait": 2.0, "pose": 32.0, "referee": 0.5, "publish": 2.0, "draw": 1.0, "encode": 0.7
    }  # fmt: skip
    assert latency == {"to_count": 40.0}  # no frame was rendered: no capture -> JPEG figure
    status = EngineStatus(stages_ms=stages, latency_ms=latency)
    assert EngineStatus.from_dict(status.to_dict()) == status
    assert EngineStatus.from_dict({}).stages_ms == {}  # a snapshot from an older engine


@pytest.mark.model
@pytest.mark.slow
def test_eval_jobs_computes_missing_tracks_in_workers_with_the_same_counts(tmp_path):
    from hiitpi.config import load_config
    from hiitpi.evaluation import ClipSpec, evaluate

    clips = tmp_path / "clips"
    clips.mkdir()
    specs = [
        ClipSpec(_clip(clips / f"c{i}.mp4", frames=20 + i).name, "squat", 0, 0) for i in range(3)
    ]
    counts = {}
    for jobs in (1, 2):
        cache = tmp_path / f"cache{jobs}"
        settings = load_config(overrides={"cache_dir": str(cache)}, env={})
        results = evaluate(specs, clips, settings, jobs=jobs)
        counts[jobs] = [(r.spec.file, r.count, r.no_reps) for r in results]
        assert len(list((cache / "tracks").glob("*.jsonl"))) == 3  # the workers cached them
    assert counts[1] == counts[2]


def _mediapipe_deprecation() -> None:
    import warnings

    warnings.warn("SymbolDatabase.GetPrototype() is deprecated.", UserWarning, stacklevel=1)


def test_eval_workers_are_set_up_like_the_cli(capfd):
    """mediapipe's protobuf warning, filtered by the CLI, must not reach the terminal from the
    spawned workers of `eval --jobs` either."""
    from hiitpi.evaluation import worker_pool

    with worker_pool(1, "INFO") as pool:
        pool.submit(_mediapipe_deprecation).result()
    assert "GetPrototype" not in capfd.readouterr().err
