"""The view in the offline report (analyze/replay --json) and in the pose-track line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.referee import skeleton as sk

from hiitpi.config import Settings
from hiitpi.engine.offline import replay_track
from hiitpi.engine.tracks import TrackError, TrackFrame, TrackWriter


def write(path: Path, frames: sk.Frames) -> Path:
    writer = TrackWriter(path)
    for i, (t, pose) in enumerate(frames):
        writer.write(TrackFrame(t, i, sk.W, sk.H, pose))
    writer.close()
    return path


def test_the_report_gives_the_clip_view_and_each_reps(tmp_path: Path) -> None:
    track = write(tmp_path / "push.jsonl", sk.noisy(sk.sequence(sk.push_up, sk.reps(3, 2.0))))
    data = replay_track(track, "push_up", Settings()).to_json()
    assert data["view"] == "side"
    assert data["view_share"] == {"side": 1.0}
    assert [r["view"] for r in data["rep_details"]] == ["side"] * 3
    assert [r["form_judged"] for r in data["rep_details"]] == [True] * 3
    assert [r["t"] for r in data["rep_details"]] == data["rep_times"]
    json.dumps(data)  # serialisable as it is


def test_a_view_it_cannot_count_from_is_said_in_the_report(tmp_path: Path) -> None:
    """A body facing the camera for push-ups: they are done lying, so it reads as seen from
    above, a view push-ups are not counted from."""
    frames = sk.sequence(lambda p: sk.jumping_jack(0.0), [(0.0, 0.0), (4.0, 0.0)])
    data = replay_track(write(tmp_path / "front.jsonl", frames), "push_up", Settings()).to_json()
    assert data["view"] == "overhead"
    assert data["reps"] == 0
    assert data["message"] == "Turn the camera to your side for push-ups"


def test_the_track_line_carries_an_optional_view() -> None:
    pose = sk.squat(0.0)
    line = TrackFrame(1.0, 30, sk.W, sk.H, pose, view="side").to_json()
    assert json.loads(line)["view"] == "side"
    assert TrackFrame.from_json(line).view == "side"
    plain = TrackFrame(1.0, 30, sk.W, sk.H, pose).to_json()
    assert "view" not in json.loads(plain)
    assert TrackFrame.from_json(plain).view is None


def test_a_bad_view_in_a_track_names_the_line(tmp_path: Path) -> None:
    line = json.loads(TrackFrame(0.0, 0, sk.W, sk.H, sk.squat(0.0)).to_json())
    line["view"] = "sideways"
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(line) + "\n")
    from hiitpi.engine.tracks import read_track

    with pytest.raises(TrackError, match=r"bad.jsonl:1: .*view 'sideways'"):
        list(read_track(path))
