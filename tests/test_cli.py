"""The command line as a user meets it: real processes, one-line errors, no tracebacks."""

from __future__ import annotations

import subprocess
import sys

import pytest


def hiitpi(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "hiitpi", *args],
        capture_output=True, text=True, timeout=120, env=full_env,
    )  # fmt: skip


def assert_one_line_error(proc: subprocess.CompletedProcess[str], code: int, *parts: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("hiitpi: error: ")
    for part in parts:
        assert part in lines[0]


def test_version():
    proc = hiitpi("--version")
    assert proc.returncode == 0
    assert proc.stdout.startswith("hiitpi ")


def test_missing_video_file(tmp_path):
    missing = tmp_path / "nope.mp4"
    assert_one_line_error(hiitpi("analyze", str(missing), "-e", "push_up"), 3, str(missing))


def test_file_that_is_not_a_video(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_bytes(b"these are not frames\n" * 100)
    proc = hiitpi("analyze", str(fake), "-e", "push_up")
    assert_one_line_error(proc, 3, str(fake), "not a video file")


def test_camera_index_that_does_not_exist():
    proc = hiitpi("analyze", "97", "-e", "push_up")
    assert_one_line_error(proc, 3, "camera 97 not found")


def test_unknown_exercise_lists_the_valid_ids(tmp_path):
    proc = hiitpi("analyze", str(tmp_path / "x.mp4"), "-e", "pushups")
    assert_one_line_error(proc, 2, "unknown exercise 'pushups'", "push_up")


def test_bad_config_key_in_environment():
    proc = hiitpi("check-config", env={"HIITPI_POSE__MODEL_COMPLEXTY": "2"})
    assert_one_line_error(proc, 2, "HIITPI_POSE__MODEL_COMPLEXTY: unknown setting")


def test_bad_backend_is_named():
    proc = hiitpi("analyze", "x.mp4", "-e", "push_up", "--backend", "posenet9")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr


def test_missing_track_file(tmp_path):
    proc = hiitpi("replay", str(tmp_path / "t.jsonl"), "-e", "squat")
    assert_one_line_error(proc, 3, "track file not found")


def test_malformed_track_names_the_line(tmp_path):
    track = tmp_path / "t.jsonl"
    track.write_text('{"t": 0, "frame": 0, "width": 10, "height": 10, "keypoints": {}}\nnot json\n')
    assert_one_line_error(hiitpi("replay", str(track), "-e", "squat"), 3, "t.jsonl:2")


def test_exercises_lists_the_originals():
    proc = hiitpi("exercises")
    assert proc.returncode == 0, proc.stderr
    for ex in ("push_up", "jumping_jacks", "squat"):
        assert ex in proc.stdout


@pytest.mark.parametrize("cmd", ["serve", "analyze", "replay", "eval", "exercises", "check-config"])
def test_every_command_has_help(cmd):
    proc = hiitpi(cmd, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "usage: hiitpi" in proc.stdout


def test_unwritable_track_output(tmp_path):
    proc = hiitpi("analyze", str(tmp_path / "x.mp4"), "-e", "push_up", "--track", "/proc/t.jsonl")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr


def test_annotated_output_must_be_mp4_in_an_existing_folder(tmp_path):
    from tests.clips import write_test_clip

    clip = write_test_clip(tmp_path / "clip.mp4")
    proc = hiitpi("analyze", str(clip), "-e", "squat", "--annotated", str(tmp_path / "o.txt"))
    assert_one_line_error(proc, 3, "must end in .mp4")
    missing = tmp_path / "nodir" / "o.mp4"
    track = tmp_path / "t" / "o.jsonl"
    proc = hiitpi(
        "analyze", str(clip), "-e", "squat", "--annotated", str(missing), "--track", str(track)
    )
    assert_one_line_error(proc, 3, "folder does not exist")
    assert not list(tmp_path.rglob("*.part*"))  # nothing half-written is left behind


def test_track_that_is_not_utf8_or_not_a_file(tmp_path):
    bad = tmp_path / "b.jsonl"
    bad.write_bytes(b"\xff\xfe\x00x\n")
    assert_one_line_error(hiitpi("replay", str(bad), "-e", "squat"), 3, "not a UTF-8 pose track")
    assert_one_line_error(hiitpi("replay", str(tmp_path), "-e", "squat"), 3, "not a track file")


def test_busy_port_is_reported_before_anything_starts(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        env = {"HIITPI_DATA_DIR": str(tmp_path)}
        proc = hiitpi("serve", "--source", "x.mp4", "--host", "127.0.0.1", "--port", port, env=env)
    assert_one_line_error(proc, 2, f"web.port: cannot listen on 127.0.0.1:{port}")
    assert not (tmp_path / "redis").exists()  # nothing was started


def test_a_host_that_is_no_address_is_blamed_on_the_host(tmp_path):
    env = {"HIITPI_DATA_DIR": str(tmp_path)}
    proc = hiitpi("serve", "--source", "x.mp4", "--host", "nosuch.invalid", env=env)
    assert_one_line_error(proc, 2, "web.host: 'nosuch.invalid' is not an address of this machine")
    assert not (tmp_path / "redis").exists()  # nothing was started


def _free_port() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def test_serve_with_an_unknown_backend_starts_nothing(tmp_path):
    from tests.clips import write_test_clip

    clip = write_test_clip(tmp_path / "clip.mp4")
    env = {"HIITPI_DATA_DIR": str(tmp_path / "data")}
    port = _free_port()
    proc = hiitpi("serve", "--source", str(clip), "--backend", "nosuch", "--port", port, env=env)
    assert_one_line_error(proc, 2, "pose.backend: unknown backend 'nosuch'; valid: ")
    assert not (tmp_path / "data" / "redis").exists()  # nothing was started


def test_empty_track_is_an_error(tmp_path):
    empty = tmp_path / "e.jsonl"
    empty.write_text("")
    assert_one_line_error(hiitpi("replay", str(empty), "-e", "squat"), 3, "has no frames")


def test_test_suite_variables_are_not_config_keys():
    proc = hiitpi("check-config", env={"HIITPI_TEST_ANYTHING": "1"})
    assert proc.returncode == 0, proc.stderr


def test_an_output_that_is_the_input_video_is_refused_and_the_video_kept(tmp_path):
    import hashlib

    from tests.clips import write_test_clip

    clip = write_test_clip(tmp_path / "clip.mp4")
    before = hashlib.sha256(clip.read_bytes()).hexdigest()
    for flag in ("--annotated", "--track"):
        proc = hiitpi("analyze", str(clip), "-e", "squat", flag, str(clip))
        assert_one_line_error(proc, 2, "is the input video", "name another file")
    same = str(tmp_path / "out.mp4")
    proc = hiitpi("analyze", str(clip), "-e", "squat", "--annotated", same, "--track", same)
    assert_one_line_error(proc, 2, "the pose track", "is the annotated video")
    assert hashlib.sha256(clip.read_bytes()).hexdigest() == before
    assert not (tmp_path / "out.mp4").exists()


def test_a_track_output_that_is_a_folder_is_named_and_leaves_nothing(tmp_path):
    from tests.clips import write_test_clip

    clip = write_test_clip(tmp_path / "clip.mp4")
    folder = tmp_path / "tracks"
    folder.mkdir()
    proc = hiitpi("analyze", str(clip), "-e", "squat", "--no-cache", "--track", str(folder))
    assert_one_line_error(proc, 3, "is a folder")
    assert not list(tmp_path.rglob("*.part*"))


def test_a_missing_model_file_is_named_with_the_cache_on(tmp_path):
    from tests.clips import write_test_clip

    clip = write_test_clip(tmp_path / "clip.mp4")
    missing = tmp_path / "nosuch.tflite"
    proc = hiitpi("analyze", str(clip), "-e", "squat", "--model", str(missing))
    assert_one_line_error(proc, 4, "pose.model_path: no such file", str(missing))
