"""Offline referee on real clips with the real model (acceptance figures of the foundation)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

pytestmark = [pytest.mark.shared, pytest.mark.model]


def analyze(*args: str, cache: Path | None = None) -> dict:
    env = dict(os.environ)
    if cache is not None:
        env["HIITPI_CACHE_DIR"] = str(cache)
    proc = subprocess.run(
        [sys.executable, "-m", "hiitpi", "analyze", *args, "--json", "--no-progress"],
        capture_output=True, text=True, timeout=900, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize(
    ("clip", "exercise", "low", "high"),
    [("push_up__venkat__1.mp4", "push_up", 6, 7),
     ("jumping_jacks__ahmedlila__1.mp4", "jumping_jacks", 12, 12),
     ("squat__tomnotch__1.mp4", "squat", 10, 11)],
)  # fmt: skip
def test_counts_clean_clips(clips_dir, clip, exercise, low, high):
    report = analyze(str(clips_dir / clip), "--exercise", exercise)
    assert low <= report["reps"] <= high, report
    assert report["exercise"] == exercise
    assert report["backend"] == "blazepose-full"
    assert len(report["rep_times"]) == report["reps"]
    assert report["rep_times"] == sorted(report["rep_times"])
    for key in ("video", "no_reps", "duration_s", "frames", "fps_processed"):
        assert key in report


def test_model_run_writes_track_and_video_that_replay_to_the_same_count(clips_dir, tmp_path):
    clip = clips_dir / "push_up__venkat__1.mp4"
    track, video = tmp_path / "track.jsonl", tmp_path / "annotated.mp4"
    cache = tmp_path / "cache"
    report = analyze(
        str(clip), "-e", "push_up", "--track", str(track), "--annotated", str(video), cache=cache
    )
    assert report["pose_cache"] is False
    assert 6 <= report["reps"] <= 7

    lines = track.read_text().splitlines()
    assert len(lines) == report["frames"]
    first = json.loads(lines[0])
    assert {"t", "frame", "width", "height", "keypoints"} <= set(first)
    assert (first["width"], first["height"]) == (848, 478)
    assert len(first["keypoints"]["left_shoulder"]) == 3

    cap = cv2.VideoCapture(str(video))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == report["frames"]
    cap.release()

    proc = subprocess.run(
        [sys.executable, "-m", "hiitpi", "replay", str(track), "-e", "push_up", "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    replayed = json.loads(proc.stdout)
    assert replayed["reps"] == report["reps"]
    assert replayed["rep_times"] == report["rep_times"]

    again = analyze(str(clip), "-e", "push_up", cache=cache)  # second run: from the cache
    assert again["pose_cache"] is True
    assert again["reps"] == report["reps"]


def test_auto_backend_reports_its_choice_and_is_never_cached(shared_dir, clips_dir, tmp_path):
    """auto's pick depends on this machine's speed at probe time: caching it would be wrong."""
    clip = clips_dir / "jumping_jacks__kaiakol__1.mp4"
    args = (str(clip), "-e", "jumping_jacks", "--backend", "auto")
    models = ("--model", str(shared_dir / "models"))
    report = analyze(*args, *models, cache=tmp_path)
    assert report["backend"] not in ("auto", "")
    assert report["pose_cache"] is False
    assert not list(tmp_path.rglob("*.jsonl"))


def test_ctrl_c_stops_promptly_and_leaves_no_partial_output(clips_dir, tmp_path):
    """A SIGINT mid-run exits 130 within seconds; no truncated video or track stays behind."""
    import signal
    import time

    video, track = tmp_path / "a.mp4", tmp_path / "t.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hiitpi", "analyze", str(clips_dir / "squat__tomnotch__1.mp4"),
         "-e", "squat", "--no-cache", "--no-progress", "--annotated", str(video),
         "--track", str(track)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob("*.part*")) and time.monotonic() < deadline:
        time.sleep(0.2)  # wait until frames are being written
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_video_cut_short_is_counted_with_a_warning(clips_dir, tmp_path):
    """The first 300 kB of a 55 s clip: the container still says 55 s, the decoder stops at a
    few seconds; the report says so instead of passing the short count off as the clip's."""
    cut = tmp_path / "cut.mp4"
    cut.write_bytes((clips_dir / "push_up__calimiro__1.mp4").read_bytes()[:300_000])
    proc = subprocess.run(
        [sys.executable, "-m", "hiitpi", "analyze", str(cut), "-e", "push_up", "--json",
         "--no-progress", "--no-cache"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert 0 < report["frames"] < report["expected_frames"] / 2, report
    assert report["warning"].startswith("decoding stopped at "), report
    assert "the file may be cut short or damaged" in report["warning"]
    assert f"warning: {cut}: decoding stopped at" in proc.stderr
    whole = analyze(str(clips_dir / "push_up__venkat__1.mp4"), "--exercise", "push_up")
    assert whole["warning"] == "" and whole["frames"] >= whole["expected_frames"] * 0.95
