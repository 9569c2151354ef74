"""Quality regression on the real development clips (like norfair's tests/metrics.txt).

Counts every clip of ../shared/data/clips.csv from its pose track (computed once and cached) at
the native frame rate and subsampled to 10 and 6 fps (as a Pi CPU delivers them), and fails
when an overall exact rate, OBO rate or MAE, or an exercise's OBO rate, gets worse than the
figures recorded in ``metrics.json``, or when an acceptance clip regresses. Improve the
figures? Record them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hiitpi.config import PoseConfig, RefereeConfig, Settings
from hiitpi.engine.poses import track_for
from hiitpi.engine.tracks import TrackFrame
from hiitpi.evaluation import (
    ClipResult,
    ClipSpec,
    compute_tracks,
    count_clip,
    read_manifest,
    report,
)

RECORDED = json.loads((Path(__file__).parent / "metrics.json").read_text())
RATES = {"native": None, "10": 10.0, "6": 6.0}

# Computing the tracks without a cache runs the pose model on every clip (minutes): on a new
# machine they are computed by two worker processes, as `hiitpi eval --jobs 2` does.
TRACK_JOBS = 2
pytestmark = [pytest.mark.shared, pytest.mark.slow, pytest.mark.timeout(3600)]


@pytest.fixture(scope="module")
def tracks(clips_manifest: Path, track_cache: Path) -> list[tuple[ClipSpec, list[TrackFrame]]]:
    clips_dir = clips_manifest.with_suffix("")
    specs = read_manifest(clips_manifest)
    computed = compute_tracks(specs, clips_dir, Settings(cache_dir=track_cache), TRACK_JOBS)
    out = []
    for spec in specs:
        frames = computed.get(spec.file)
        if frames is None:  # cached already
            frames = track_for(clips_dir / spec.file, PoseConfig(), track_cache)
        out.append((spec, frames))
    return out


def _results(
    tracks: list[tuple[ClipSpec, list[TrackFrame]]], fps: float | None
) -> list[ClipResult]:
    return [count_clip(spec, frames, RefereeConfig(), False, fps) for spec, frames in tracks]


@pytest.mark.parametrize("rate", list(RATES))
def test_figures_do_not_regress(tracks: list[tuple[ClipSpec, list[TrackFrame]]], rate: str) -> None:
    rep = report(_results(tracks, RATES[rate]), baseline=False)
    now, want = rep["overall"], RECORDED["fps"][rate]["overall"]
    tol = RECORDED["tolerance"]
    assert now["n"] == want["n"]
    assert now["exact"] >= want["exact"] - tol, now
    assert now["obo"] >= want["obo"] - tol, now
    assert now["mae"] <= want["mae"] + tol, now
    for exercise, obo in RECORDED["fps"][rate]["per_exercise_obo"].items():
        assert rep["per_exercise"][exercise]["obo"] >= obo - tol, (exercise, rep["per_exercise"])


def test_acceptance_clips(tracks: list[tuple[ClipSpec, list[TrackFrame]]]) -> None:
    for fps in RATES.values():
        by_file = {r.spec.file: r for r in _results(tracks, fps)}
        assert by_file["push_up__calimiro__1.mp4"].count == 30, fps
        for name, r in by_file.items():
            if r.spec.exercise == "plank":
                assert r.count == 0, (name, fps)
