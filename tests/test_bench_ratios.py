"""The CPU ratio's denominator: the bare model at the live run's rate, as issue 11 defines it.

No model and no timing of speed: a stand-in estimator records when it is called (the bare pass
must feed it like a camera) and the ratios are checked on figures given here.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from hiitpi import bench
from hiitpi.benchmarks import offline
from hiitpi.config import Settings


class _Recorder:
    name = "stand-in"

    def __init__(self) -> None:
        self.calls: list[float] = []

    def estimate(self, frame: object) -> None:
        self.calls.append(time.perf_counter())

    def close(self) -> None:
        pass


def _clip(path: Path, frames: int = 20) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (64, 48))
    for i in range(frames):
        writer.write(np.full((48, 64, 3), 8 * i, np.uint8))
    writer.release()
    return path


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> _Recorder:
    rec = _Recorder()
    monkeypatch.setattr("hiitpi.pose.registry.build_estimator", lambda cfg: rec)
    return rec


def test_bare_model_paced_feeds_frames_at_the_given_rate(tmp_path, recorder) -> None:
    clip = _clip(tmp_path / "c.mp4")
    got = offline.bare_model_cpu(clip, Settings(), n=10, fps=50.0)
    timed = recorder.calls[offline.BARE_WARMUP :]
    assert got["frames"] == len(timed) == 10 and got["fps"] == 50.0
    # frame i at its camera tick i x 20 ms or later, never sooner (a late one: the next sooner)
    since_first = np.array(timed) - timed[0]
    assert (since_first >= np.arange(10) * 0.020 - 0.001).all()
    assert got["wall_ms_per_frame"] >= 19.9  # the window covers the last frame's period too


def test_a_paced_window_of_seconds_repeats_the_decoded_frames(tmp_path, recorder) -> None:
    got = offline.bare_model_cpu(_clip(tmp_path / "c.mp4"), Settings(), n=5, fps=100.0, seconds=0.2)
    assert got["frames"] == 20 == len(recorder.calls) - offline.BARE_WARMUP


def test_the_paced_figure_weighs_the_bare_windows_between_the_live_ones() -> None:
    first = {"frames": 300, "fps": 30.0, "cpu_ms_per_frame": 20.0, "wall_ms_per_frame": 33.3}
    then = {"frames": 100, "fps": 29.0, "cpu_ms_per_frame": 24.0, "wall_ms_per_frame": 34.5}
    got = bench._paced_mean([first, then])
    assert got["frames"] == 400 and got["fps"] == pytest.approx(29.75)
    assert got["cpu_ms_per_frame"] == pytest.approx(21.0)
    assert got["wall_ms_per_frame"] == pytest.approx(33.6)
    assert got["windows"] == [first, then]
    assert bench._paced_mean([then])["cpu_ms_per_frame"] == 24.0


def test_bare_model_back_to_back_without_a_rate(tmp_path, recorder) -> None:
    got = offline.bare_model_cpu(_clip(tmp_path / "c.mp4"), Settings(), n=10)
    assert got["fps"] is None and got["frames"] == 10


def _figures(paced: dict | None) -> dict:
    live = {"delivered_fps": 30.0, "cpu_pct": 30.0, "latency_p90_ms": 20.0}
    many = {"delivered_fps": 30.0, "cpu_pct": 31.5, "latency_p90_ms": 20.0}
    out = {
        "camera_fps": 30.0,
        "ceiling_ms": 10.0,
        "ceiling_p90_ms": 12.0,
        "bare_model": {"cpu_ms_per_frame": 15.0},
        "live": live,
        "live_10_viewers": many,
    }
    if paced is not None:
        out["bare_model_paced"] = paced
    return out


def test_cpu_ratio_is_against_the_bare_model_paced_at_the_delivered_rate(monkeypatch) -> None:
    monkeypatch.setattr(bench.os, "cpu_count", lambda: 2)
    out = _figures({"cpu_ms_per_frame": 18.0, "fps": 30.0})
    bench.add_ratios(out)
    live = out["live"]
    # the bare model at 30 fps: 30 x 18 ms a second = 27 % of 2 cores; back to back: 22.5 %
    assert live["cpu_ratio"] == live["cpu_vs_bare_model"] == pytest.approx(30.0 / 27.0, abs=1e-3)
    assert live["cpu_vs_bare_back_to_back"] == pytest.approx(30.0 / 22.5, abs=1e-3)
    assert out["live_10_viewers"]["cpu_ratio"] == pytest.approx(1.05, abs=1e-3)


def test_cpu_ratio_falls_back_to_back_to_back_when_not_paced(monkeypatch) -> None:
    monkeypatch.setattr(bench.os, "cpu_count", lambda: 2)
    out = _figures(None)
    bench.add_ratios(out)
    assert out["live"]["cpu_ratio"] == pytest.approx(30.0 / 22.5, abs=1e-3)
