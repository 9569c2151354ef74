"""The track cache key: no stale track is replayed after the pose code or a runtime changed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.clips import write_test_clip

from hiitpi.config import PoseConfig
from hiitpi.core.frame import Frame
from hiitpi.core.keypoints import NUM_KEYPOINTS
from hiitpi.core.pose import Pose
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


class _UnroundedEstimator:
    """Returns a pose with more decimals than a track line keeps (a real model's floats)."""

    name = "unrounded"

    def estimate(self, frame: Frame) -> Pose:
        xy = np.full((NUM_KEYPOINTS, 2), 10.0) + frame.index * 0.123456789
        return Pose(xy, np.full(NUM_KEYPOINTS, 0.876543219), 0.9, frame.width, frame.height)

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_computed_track_counts_the_same_as_its_cached_replay(tmp_path: Path) -> None:
    """The first run of a video sees the poses exactly as the cache stores them, so a count
    never changes between the run that computed a track and the runs that replay it."""
    clip = write_test_clip(tmp_path / "clip.mp4", frames=6)
    cfg = PoseConfig()
    first = poses.track_for(clip, cfg, tmp_path / "cache", estimator=_UnroundedEstimator())
    again = poses.track_for(clip, cfg, tmp_path / "cache")  # from the cache: no model runs
    assert len(first) == len(again) == 6
    for a, b in zip(first, again, strict=True):
        assert a.pose is not None and b.pose is not None
        assert (a.pose.xy == b.pose.xy).all() and (a.pose.conf == b.pose.conf).all()
