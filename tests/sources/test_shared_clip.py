"""One check on a real recorded clip from ../shared (skipped without it; a failure under CI)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from hiitpi.sources.opencv import OpenCVSource


@pytest.mark.shared
def test_push_up_clip_reads_every_frame_with_media_time(clips_dir: Path) -> None:
    path = clips_dir / "push_up__venkat__1.mp4"
    source = OpenCVSource(str(path))
    source.open()
    try:
        assert 20.0 <= source.fps <= 61.0
        frames = []
        while (frame := source.read()) is not None:
            frames.append((frame.index, frame.t, frame.image.shape))
    finally:
        source.close()
    assert source.frame_count > 0
    assert abs(len(frames) - source.frame_count) <= 2  # containers may round the count
    assert [i for i, _, _ in frames] == list(range(len(frames)))
    assert all(b[1] > a[1] for a, b in itertools.pairwise(frames))
    assert frames[-1][1] == pytest.approx((len(frames) - 1) / source.fps)
    assert len({shape for _, _, shape in frames}) == 1


@pytest.mark.shared
def test_a_phone_video_with_rotation_metadata_is_read_upright(clips_dir: Path) -> None:
    """burpee__alondra__1.mp4 is stored 640x352 with 90-degree rotation metadata: a player
    shows it portrait, and so must the frames the pose model sees (a sideways body is not
    standing)."""
    source = OpenCVSource(str(clips_dir / "burpee__alondra__1.mp4"))
    source.open()
    try:
        frame = source.read()
    finally:
        source.close()
    assert frame is not None
    assert frame.image.shape[:2] == (640, 352)
    assert (frame.width, frame.height) == (352, 640)
