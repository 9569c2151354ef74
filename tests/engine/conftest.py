"""Engine fixtures: a live store under a fresh station id, small real clips, a replay estimator."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hiitpi.core.frame import Frame
from hiitpi.core.pose import Pose
from hiitpi.live import LiveSnapshot, RedisLiveStore

from .clips import write_clip


@pytest.fixture
def store(external_store: RedisLiveStore) -> RedisLiveStore:
    """The live store on the real Redis server (tests/conftest.py: fails under CI if down)."""
    return external_store


@pytest.fixture(scope="session")
def small_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(tmp_path_factory.mktemp("engine-clips") / "square.mp4")


def wait_for(
    store: RedisLiveStore, pred: Callable[[LiveSnapshot], bool], timeout: float = 10.0
) -> LiveSnapshot:
    """Poll the published snapshot until ``pred`` holds; fails with the last snapshot."""
    deadline = time.monotonic() + timeout
    snap = None
    while time.monotonic() < deadline:
        snap = store.get_state()
        if snap is not None and pred(snap):
            return snap
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting; last snapshot: {snap}")


class ReplayEstimator:
    """Returns poses recorded earlier by the real model, by frame index.

    Test double, used only where the model is not what is under test: it makes the engine's
    count deterministic (the recorded track was produced by the real MediaPipe on the same clip).
    """

    name = "replay"

    def __init__(self, poses: dict[int, Pose | None]) -> None:
        self.poses = poses
        self.calls = 0

    def estimate(self, frame: Frame) -> Pose | None:
        self.calls += 1
        return self.poses.get(frame.index)

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass
