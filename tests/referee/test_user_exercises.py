"""A user's own exercise from a file: the worked example of docs/EXERCISES.md, the folder, the
errors (they name the file and the key) and every place an exercise id is accepted."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hiitpi.cli import main
from hiitpi.config import Settings
from hiitpi.core.events import EventKind
from hiitpi.engine.offline import replay_track
from hiitpi.engine.tracks import TrackFrame, TrackWriter
from hiitpi.errors import ExerciseError
from hiitpi.evaluation import read_manifest
from hiitpi.referee import RefereePipeline, available_exercises, load_exercise

from . import skeleton as sk

DOC = Path(__file__).resolve().parents[2] / "docs" / "EXERCISES.md"


def worked_example() -> str:
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    (block,) = [b for b in blocks if 'id = "lateral_raise"' in b]
    return block


@pytest.fixture
def raise_file(tmp_path: Path) -> Path:
    path = tmp_path / "lateral_raise.toml"
    path.write_text(worked_example(), encoding="utf-8")
    return path


def lateral_raise(p: float) -> object:
    """Front view, both arms abducted from 15 to 90 degrees as ``p`` goes 0 -> 1."""
    a = 15.0 + 75.0 * p
    return sk._front((a, a), 0.3)


def count(path: Path, frames: sk.Frames) -> RefereePipeline:
    pipeline = RefereePipeline(load_exercise(str(path)))
    for t, pose in frames:
        pipeline.update(pose, t)
    return pipeline


def test_the_worked_example_counts_raises_and_names_half_ones(raise_file: Path) -> None:
    full = sk.noisy(sk.sequence(lateral_raise, sk.reps(6, 2.0)), sigma=1.0)  # type: ignore[arg-type]
    done = count(raise_file, full)
    assert done.state.reps == 6
    assert done.state.no_reps == 0
    assert done.state.view == "front"
    half = sk.sequence(lateral_raise, sk.reps(3, 2.0, depth=0.5))  # type: ignore[arg-type]
    halves = count(raise_file, half)
    assert halves.state.reps == 0
    assert [e.reason for e in halves.events if e.kind is EventKind.NO_REP] == [
        "Raise your arms to shoulder height"
    ] * 3


def test_the_worked_example_asks_to_face_the_camera_from_the_side(raise_file: Path) -> None:
    frames = sk.sequence(lambda _p: sk.standing_side(), [(0.0, 0.0), (4.0, 0.0)])
    pipeline = count(raise_file, frames)
    assert pipeline.state.view == "side"
    assert pipeline.state.message == "Face the camera for lateral raises"


def test_the_folder_lists_user_exercises_after_the_built_in_ones(raise_file: Path) -> None:
    entries = available_exercises(raise_file.parent)
    assert [e.origin for e in entries][-1] == "user"
    assert entries[-1].id == "lateral_raise" and entries[-1].path == raise_file
    assert load_exercise("lateral_raise", raise_file.parent).label == "Lateral raise"
    assert available_exercises(raise_file.parent / "absent")[-1].origin == "builtin"


def test_an_unknown_id_lists_the_user_ones_too(raise_file: Path) -> None:
    with pytest.raises(
        ExerciseError, match=r"unknown exercise 'x'; valid: .*lateral_raise \(user\)"
    ):
        load_exercise("x", raise_file.parent)


@pytest.mark.parametrize(
    "edit,message",
    [
        (
            ("above = 75, exit = 65", "above = 75, exit = 80"),
            "phases.1.when.0: Value error, exit 80.0 must be <= above 75.0",
        ),
        (('feature = "arm"\nagg', 'feature = "elbow"\nagg'), "unknown feature 'elbow'"),
        (('count = ["front"', 'count = ["fornt"'), "views.count.0"),
        (("min_rep_s = 0.6", "min_rep_s = 0.6\nspeed = 3"), "speed: unknown key"),
        (('id = "lateral_raise"', 'id = "lateral"'), "id: 'lateral' must match the file name"),
        (("[features]", "[features"), "not valid TOML"),
    ],
)
def test_errors_name_the_file_and_the_key(
    raise_file: Path, edit: tuple[str, str], message: str
) -> None:
    text = raise_file.read_text()
    assert edit[0] in text
    raise_file.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(ExerciseError) as err:
        load_exercise(str(raise_file))
    assert str(err.value).startswith(f"{raise_file}: ")
    assert message in str(err.value)


def test_a_user_file_may_not_take_a_built_in_id(tmp_path: Path) -> None:
    path = tmp_path / "squat.toml"
    path.write_text(worked_example().replace('id = "lateral_raise"', 'id = "squat"'))
    with pytest.raises(ExerciseError, match=r"squat.toml: id: 'squat' is a built-in exercise"):
        available_exercises(tmp_path)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExerciseError, match="exercise file not found"):
        load_exercise(str(tmp_path / "nope.toml"))


def test_cli_lists_and_replays_a_user_exercise(
    raise_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HIITPI_EXERCISES_DIR", str(raise_file.parent))
    assert main(["exercises"]) == 0
    out = capsys.readouterr().out
    assert re.search(
        rf"lateral_raise\s+Lateral raise\s+\(user: {re.escape(str(raise_file))}\)", out
    )
    assert re.search(r"^squat\s+Squat$", out, re.M)
    track = tmp_path / "raises.jsonl"
    writer = TrackWriter(track)
    for i, (t, pose) in enumerate(sk.sequence(lateral_raise, sk.reps(4, 2.0))):  # type: ignore[arg-type]
        writer.write(TrackFrame(t, i, 640, 480, pose))
    writer.close()
    for ref in (str(raise_file), "lateral_raise"):
        assert main(["replay", str(track), "--exercise", ref, "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["exercise"] == "lateral_raise"
        assert report["reps"] == 4
        assert report["view"] == "front"
    monkeypatch.delenv("HIITPI_EXERCISES_DIR")
    assert main(["replay", str(track), "--exercise", "lateral_raise"]) == 2
    assert "unknown exercise 'lateral_raise'" in capsys.readouterr().err
    report_obj = replay_track(track, str(raise_file), Settings())
    assert report_obj.reps == 4


def test_an_eval_manifest_row_may_name_a_file_beside_the_manifest(raise_file: Path) -> None:
    manifest = raise_file.parent / "clips.csv"
    manifest.write_text("file,exercise,reps,partial\nraises.mp4,lateral_raise.toml,6,0\n")
    (spec,) = read_manifest(manifest)
    assert spec.exercise == str(raise_file)
    assert load_exercise(spec.exercise).id == "lateral_raise"


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hiitpi", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


@pytest.mark.parametrize(
    "command", [["serve", "--port", "18765", "--source", "nothing.mp4"], ["exercises"]]
)
def test_a_broken_file_in_the_folder_stops_with_one_line(
    raise_file: Path, command: list[str]
) -> None:
    raise_file.write_text(raise_file.read_text().replace("below = 115", "below = 'high'"))
    env = {
        "HIITPI_EXERCISES_DIR": str(raise_file.parent),
        "HIITPI_DATA_DIR": str(raise_file.parent),
    }
    proc = run_cli(*command, env=env)
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"hiitpi: error: {raise_file}: rules.0.below: ")
