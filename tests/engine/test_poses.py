"""The track cache key: no stale track is replayed after the pose code or a runtime changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hiitpi.config import PoseConfig
from hiitpi.engine import poses
from hiitpi.engine.tracks import cache_path


def test_key_names_the_pose_code_and_the_installed_runtime() -> None:
    key = json.loads(poses.settings_key(PoseConfig()))
    assert key["code"] == poses.pose_code_digest()
    assert len(key["code"]) == 16
    assert "ai-edge-litert" in key["runtimes"]  # installed by `make install`
    assert key["backend"] == "blazepose"
    assert "models_dir" not in key  # where the files are, not what they are (hash-checked)


@pytest.mark.parametrize(
    ("name", "value"),
    [("pose_code_digest", lambda: "0" * 16), ("runtime_versions", lambda: {"mediapipe": "9.9"})],
)
def test_changed_code_or_runtime_misses_the_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: object
) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not really a video, but content to hash")
    before = cache_path(tmp_path, video, poses.settings_key(PoseConfig()))
    monkeypatch.setattr(poses, name, value)
    after = cache_path(tmp_path, video, poses.settings_key(PoseConfig()))
    assert before != after
    assert before.parent == after.parent


def test_code_digest_follows_the_pose_sources(tmp_path: Path) -> None:
    (tmp_path / "backends").mkdir()
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "backends" / "x.py").write_text("A = 1\n")
    first = poses.pose_code_digest.__wrapped__(tmp_path)
    assert poses.pose_code_digest.__wrapped__(tmp_path) == first
    (tmp_path / "backends" / "x.py").write_text("A = 2\n")
    assert poses.pose_code_digest.__wrapped__(tmp_path) != first
