"""The accuracy harness: scoring, summaries, manifest errors, JSON and table output."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from hiitpi import evaluation as ev
from hiitpi.config import Settings
from hiitpi.engine.tracks import TrackFrame
from hiitpi.errors import ConfigError, ExerciseError, SourceError
from referee import skeleton as sk

MANIFEST = "file,exercise,reps,partial,confidence\na.mp4,push_up,3,0,high\nb.mp4,squat,2,1,medium\n"


@pytest.mark.parametrize(
    "count,reps,partial,error",
    [(5, 5, 0, 0), (6, 5, 1, 0), (7, 5, 1, 1), (3, 5, 1, -2), (0, 0, 0, 0), (2, 0, 0, 2)],
)
def test_interval_error(count: int, reps: int, partial: int, error: int) -> None:
    assert ev.interval_error(count, reps, partial) == error


def test_summary_uses_count_normalised_mae() -> None:
    a = ev.ClipSpec("a", "push_up", 10, 0)
    b = ev.ClipSpec("b", "push_up", 0, 0)
    s = ev.summarise([(a, 8), (b, 1)])
    assert s == {"n": 2, "exact": 0.0, "obo": 0.5, "mae": pytest.approx((0.2 + 1.0) / 2)}
    assert ev.summarise([])["n"] == 0


def test_manifest_errors_name_the_line(tmp_path: Path) -> None:
    f = tmp_path / "m.csv"
    f.write_text("file,exercise,reps,partial\nx.mp4,squat,three,0\n")
    with pytest.raises(ConfigError, match=r"m.csv:2: reps/partial must be integers"):
        ev.read_manifest(f)
    f.write_text("file,exercise\nx.mp4,squat\n")
    with pytest.raises(ConfigError, match="missing column"):
        ev.read_manifest(f)


def _frames(pose_at: Any, n: int) -> list[TrackFrame]:
    return [
        TrackFrame(t, i, sk.W, sk.H, pose)
        for i, (t, pose) in enumerate(sk.sequence(pose_at, sk.reps(n, 1.5)))
    ]


@pytest.fixture()
def manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    m = tmp_path / "clips.csv"
    m.write_text(MANIFEST)
    (tmp_path / "clips").mkdir()
    for name in ("a.mp4", "b.mp4"):
        (tmp_path / "clips" / name).write_bytes(b"")
    tracks = {"a.mp4": _frames(sk.push_up, 3), "b.mp4": _frames(sk.squat, 4)}

    def fake_track_for(video: Path, cfg: object, cache: object) -> list[TrackFrame]:
        return tracks[Path(video).name]

    monkeypatch.setattr(ev, "track_for", fake_track_for)
    return m


def _args(manifest: Path, **kw: Any) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    ev.add_eval_arguments(parser)
    argv = [str(manifest)] + [f"--{k.replace('_', '-')}" for k, v in kw.items() if v is True]
    return parser.parse_args(argv)


def test_json_report(manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ev.run_eval_command(_args(manifest, json=True), Settings()) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["overall"]["n"] == 2
    assert rep["overall"]["exact"] == 0.5
    assert rep["per_exercise"]["push_up"]["exact"] == 1.0
    assert rep["clips"][1] == {
        "file": "b.mp4",
        "exercise": "squat",
        "count": 4,
        "no_reps": 0,
        "error": 1,
    }


def test_table_with_baselines(manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ev.run_eval_command(_args(manifest, baseline=True), Settings()) == 0
    out = capsys.readouterr().out
    assert "OVERALL" in out and "single_angle" in out and "original" in out
    assert "referee on the same clips" in out


def test_missing_clip_and_unknown_exercise(manifest: Path) -> None:
    (manifest.parent / "clips" / "a.mp4").unlink()
    with pytest.raises(SourceError, match=r"a\.mp4"):
        ev.run_eval_command(_args(manifest), Settings())
    (manifest.parent / "clips" / "a.mp4").write_bytes(b"")
    manifest.write_text(MANIFEST.replace("squat", "yoga"))
    with pytest.raises(ExerciseError, match="unknown exercise 'yoga'"):
        ev.run_eval_command(_args(manifest), Settings())


def _ticks(times: list[float]) -> list[TrackFrame]:
    return [TrackFrame(t, i, sk.W, sk.H, None) for i, t in enumerate(times)]


def test_subsample_keeps_the_frames_a_slower_pipeline_sees() -> None:
    frames = _ticks([i / 30.0 for i in range(91)])  # 3 s at 30 fps
    kept = ev.subsample(frames, 10.0)
    assert [round(f.t, 3) for f in kept][:4] == [0.0, 0.1, 0.2, 0.3]
    assert len(kept) == 31
    assert len(ev.subsample(frames, 6.0)) == 19
    assert len(ev.subsample(frames, None)) == len(ev.subsample(frames, 60.0)) == 91
    # irregular input: a frame is kept once it crosses the next grid point, a gap skips points
    irregular = _ticks([0.0, 0.05, 0.12, 0.5, 0.55, 0.61, 0.7])
    assert [f.t for f in ev.subsample(irregular, 10.0)] == [0.0, 0.12, 0.5, 0.61, 0.7]
    with pytest.raises(ConfigError, match="--fps must be > 0"):
        ev.subsample(frames, 0.0)


def test_fps_and_cv_source_options(manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    ev.add_eval_arguments(parser)
    args = parser.parse_args([str(manifest), "--fps", "6", "--cv", "source", "--json"])
    assert ev.run_eval_command(args, Settings()) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["fps"] == 6.0
    assert set(rep["cv_source"]["folds"]) == {"a", "b"}
    assert rep["cv_source"]["mean_over_sources"]["n"] == 2
    args = parser.parse_args([str(manifest), "--fps", "-1"])
    with pytest.raises(ConfigError, match="--fps must be > 0"):
        ev.run_eval_command(args, Settings())


def test_source_of_a_clip() -> None:
    assert ev.source_of(ev.ClipSpec("squat__vishal__2.mp4", "squat", 3, 0)) == "vishal"
