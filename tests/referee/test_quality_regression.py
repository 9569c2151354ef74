"""Quality regression on the real development clips (like norfair's tests/metrics.txt).

Counts every clip of ../shared/data/clips.csv from its pose track (computed once and cached) and
fails when the overall exact rate, OBO rate or MAE gets worse than the figures recorded in
``metrics.json``, or when an acceptance clip regresses. Improve the figures? Record them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hiitpi.config import PoseConfig, RefereeConfig, Settings
from hiitpi.engine.poses import track_for
from hiitpi.evaluation import ClipResult, compute_tracks, count_clip, read_manifest, report

RECORDED = json.loads((Path(__file__).parent / "metrics.json").read_text())

# Computing the tracks without a cache runs the pose model on every clip (minutes): on a new
# machine they are computed by two worker processes, as `hiitpi eval --jobs 2` does.
TRACK_JOBS = 2
pytestmark = [pytest.mark.shared, pytest.mark.slow, pytest.mark.timeout(3600)]


@pytest.fixture(scope="module")
def results(clips_manifest: Path, track_cache: Path) -> list[ClipResult]:
    clips_dir = clips_manifest.with_suffix("")
    specs = read_manifest(clips_manifest)
    computed = compute_tracks(specs, clips_dir, Settings(cache_dir=track_cache), TRACK_JOBS)
    out = []
    for spec in specs:
        frames = computed.get(spec.file)
        if frames is None:  # cached already
            frames = track_for(clips_dir / spec.file, PoseConfig(), track_cache)
        out.append(count_clip(spec, frames, RefereeConfig(), baseline=False))
    return out


def test_overall_figures_do_not_regress(results: list[ClipResult]) -> None:
    now = report(results, baseline=False)["overall"]
    want = RECORDED["overall"]
    tol = RECORDED["tolerance"]
    assert now["n"] == want["n"]
    assert now["exact"] >= want["exact"] - tol, now
    assert now["obo"] >= want["obo"] - tol, now
    assert now["mae"] <= want["mae"] + tol, now


def test_acceptance_clips(results: list[ClipResult]) -> None:
    by_file = {r.spec.file: r for r in results}
    assert by_file["plank__venkat__1.mp4"].count == 0
    assert by_file["push_up__calimiro__1.mp4"].count == 30
    for r in results:
        if r.spec.confidence == "high":
            assert abs(r.error) <= 1, (r.spec.file, r.count)
