"""The latest-frame slot and the capture thread, on real clips."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from hiitpi.core.frame import Frame
from hiitpi.errors import SourceError
from hiitpi.sources.live import CaptureThread, LatestFrameSlot
from hiitpi.sources.opencv import OpenCVSource

from .clips import CLIP_FRAMES


def frame(index: int) -> Frame:
    return Frame(np.zeros((2, 2, 3), np.uint8), index, index / 30.0, "test")


def test_slot_keeps_only_the_newest_frame_and_counts_the_dropped() -> None:
    slot = LatestFrameSlot()
    for i in range(3):
        slot.put(frame(i))
    got = slot.get(timeout=0.1)
    assert got is not None and got.index == 2
    assert slot.dropped == 2


def test_slot_never_returns_the_same_frame_twice() -> None:
    slot = LatestFrameSlot()
    slot.put(frame(0))
    assert slot.get(timeout=0.1) is not None
    start = time.monotonic()
    assert slot.get(timeout=0.1) is None  # nothing new: waits, then None
    assert time.monotonic() - start >= 0.05
    assert not slot.closed
    slot.put(frame(1))
    got = slot.get(timeout=0.1)
    assert got is not None and got.index == 1
    assert slot.dropped == 0


def test_close_wakes_a_waiting_consumer_but_pending_frame_is_still_delivered() -> None:
    slot = LatestFrameSlot()
    results: list[Frame | None] = []
    waiter = threading.Thread(target=lambda: results.append(slot.get()))
    waiter.start()
    time.sleep(0.05)
    slot.close()
    waiter.join(2)
    assert results == [None]

    slot = LatestFrameSlot()
    slot.put(frame(7))
    slot.close()
    got = slot.get()
    assert got is not None and got.index == 7
    assert slot.get() is None


def test_slow_consumer_gets_newer_frames_only_and_the_rest_are_counted_dropped(
    clip: Path,
) -> None:
    source = OpenCVSource(str(clip))  # offline: the producer is far faster than the consumer
    source.open()
    slot = LatestFrameSlot()
    capture = CaptureThread(source, slot)
    capture.start()
    got: list[Frame] = []
    try:
        while (f := slot.get(timeout=5.0)) is not None:
            got.append(f)
            time.sleep(0.02)
    finally:
        capture.stop()
        source.close()
    indices = [f.index for f in got]
    assert all(b > a for a, b in itertools.pairwise(indices))  # newer, never twice
    assert slot.dropped > 0
    assert len(got) + slot.dropped == CLIP_FRAMES  # every frame was either taken or dropped
    assert indices[-1] == CLIP_FRAMES - 1  # the last frame is not lost at the end


def test_capture_thread_surfaces_the_end_of_a_file(clip: Path) -> None:
    source = OpenCVSource(str(clip))
    source.open()
    slot = LatestFrameSlot()
    capture = CaptureThread(source, slot)
    capture.start()
    try:
        assert capture.wait_ended(5.0)
    finally:
        source.close()
    assert capture.ended
    assert capture.error is None
    assert capture.frames == CLIP_FRAMES
    assert slot.closed
    last = slot.get(timeout=0)
    assert last is not None and last.index == CLIP_FRAMES - 1
    assert slot.get(timeout=0) is None


def test_capture_thread_keeps_a_read_error() -> None:
    never_opened = OpenCVSource("never-opened.mp4")  # read() raises SourceError("... not open")
    slot = LatestFrameSlot()
    capture = CaptureThread(never_opened, slot)
    capture.start()
    assert capture.wait_ended(5.0)
    assert isinstance(capture.error, SourceError)
    assert "never-opened.mp4" in str(capture.error)
    assert slot.get(timeout=1.0) is None and slot.closed
    with pytest.raises(SourceError, match="not open"):
        capture.raise_if_failed()


def test_stop_ends_a_paced_looping_source_promptly(clip: Path) -> None:
    source = OpenCVSource(str(clip), paced=True, loop=True)  # would play for ever
    source.open()
    slot = LatestFrameSlot()
    capture = CaptureThread(source, slot)
    capture.start()
    try:
        assert slot.get(timeout=2.0) is not None
        time.sleep(0.2)
        start = time.monotonic()
        capture.stop(timeout=2.0)
        assert time.monotonic() - start < 1.0
    finally:
        source.close()
    assert capture.ended and capture.error is None
