"""Offline read-ahead: every frame in order, failures raised in the consumer, clean shutdown."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from hiitpi.core.frame import Frame
from hiitpi.errors import SourceError
from hiitpi.sources import prefetch
from hiitpi.sources.opencv import OpenCVSource
from hiitpi.sources.prefetch import FrameReader

from .clips import CLIP_FRAMES


def _open(clip: Path) -> OpenCVSource:
    source = OpenCVSource(str(clip))
    source.open()
    return source


class FailingAfter:
    """A real clip whose read fails after ``n`` frames (fault injection, like a pulled USB
    drive); records reads made after ``close``."""

    def __init__(self, clip: Path, n: int) -> None:
        self.inner = _open(clip)
        self.id, self.fps, self.n = "failing", self.inner.fps, n
        self.reads = 0
        self.closed = False
        self.reads_after_close = 0
        self.reader_threads: set[str] = set()

    def open(self) -> None: ...

    def read(self) -> Frame | None:
        self.reader_threads.add(threading.current_thread().name)
        if self.closed:
            self.reads_after_close += 1
        if self.reads == self.n:
            raise SourceError("failing: read error (device removed)")
        self.reads += 1
        time.sleep(0.002)
        return self.inner.read()

    def close(self) -> None:
        self.closed = True
        self.inner.close()


@pytest.mark.parametrize("prefetch", [0, 1, 4])
def test_every_frame_in_order_whatever_the_read_ahead(clip: Path, prefetch: int) -> None:
    with FrameReader(_open(clip), 0) as plain:
        want = [f.image for f in plain]
    reader = FrameReader(_open(clip), prefetch)
    got = list(reader)
    assert len(got) == len(want) == CLIP_FRAMES
    assert [f.index for f in got] == list(range(CLIP_FRAMES))
    assert all(np.array_equal(a.image, b) for a, b in zip(got, want, strict=True))
    assert next(reader, None) is None  # ended, and stays ended


def test_decoding_runs_on_its_own_thread(clip: Path) -> None:
    source = FailingAfter(clip, CLIP_FRAMES + 10)
    frames = list(FrameReader(source, 4))
    assert len(frames) == CLIP_FRAMES
    assert source.reader_threads == {"hiitpi-decode-failing"}
    assert source.closed  # the end of the stream closes the source


@pytest.mark.parametrize("prefetch", [0, 4])
def test_a_read_failure_arrives_after_the_frames_before_it(clip: Path, prefetch: int) -> None:
    source = FailingAfter(clip, 10)
    reader = FrameReader(source, prefetch)
    got = []
    with pytest.raises(SourceError, match="device removed"):
        for frame in reader:
            got.append(frame.index)
    assert got == list(range(10))
    assert source.closed


class BlockingRead:
    """A source whose ``read`` blocks until released, like a stalled network stream; it
    records whether ``close`` ever ran while a read was in progress."""

    id, fps = "stalled", 30.0

    def __init__(self) -> None:
        self.release = threading.Event()
        self.reading = threading.Event()
        self.closed = threading.Event()
        self.closed_during_read = False

    def open(self) -> None: ...

    def read(self) -> Frame | None:
        self.reading.set()
        self.release.wait(10)
        self.reading.clear()
        return Frame(np.zeros((4, 4, 3), np.uint8), 0, 0.0, self.id)

    def close(self) -> None:
        self.closed_during_read |= self.reading.is_set()
        self.closed.set()


def test_close_waits_for_the_read_in_progress_before_closing_the_source() -> None:
    source = BlockingRead()
    reader = FrameReader(source, 2)
    assert source.reading.wait(2)
    closer = threading.Thread(target=reader.close)
    closer.start()
    time.sleep(0.3)
    assert closer.is_alive() and not source.closed.is_set()  # waiting for the read
    source.release.set()
    closer.join(5)
    assert not closer.is_alive()
    assert source.closed.is_set() and not source.closed_during_read
    assert next(reader, None) is None


def test_a_read_stuck_past_the_timeout_is_closed_by_the_decoder_when_it_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(prefetch, "_JOIN_S", 0.2)
    source = BlockingRead()
    reader = FrameReader(source, 2)
    assert source.reading.wait(2)
    t0 = time.monotonic()
    reader.close()  # gives up waiting, without closing under the read
    assert time.monotonic() - t0 < 2 and not source.closed.is_set()
    source.release.set()
    assert source.closed.wait(5) and not source.closed_during_read


def test_closing_early_stops_the_decoder(clip: Path) -> None:
    source = FailingAfter(clip, CLIP_FRAMES + 10)
    reader = FrameReader(source, 4)
    assert next(reader).index == 0
    reader.close()
    reader.close()  # idempotent
    assert source.closed and source.reads_after_close == 0
    assert source.reads <= 1 + 4 + 1  # one taken, four queued, one waiting to be queued
    assert next(reader, None) is None
    assert not any(t.name == "hiitpi-decode-failing" for t in threading.enumerate())


def test_negative_read_ahead_is_refused(clip: Path) -> None:
    source = _open(clip)
    with pytest.raises(ValueError, match="prefetch"):
        FrameReader(source, -1)
    source.close()
