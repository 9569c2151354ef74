"""Annotated video files: written in order off the caller's thread, never left half-written."""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import pytest

from hiitpi.errors import SourceError
from hiitpi.render.video import BackgroundVideoWriter, VideoWriter


def _frame(i: int) -> np.ndarray:
    """A 64x48 picture whose brightness encodes ``i`` (survives mp4v's compression)."""
    return np.full((48, 64, 3), 20 + 10 * i, np.uint8)


def _levels(path: Path) -> list[int]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        out.append(round((float(image.mean()) - 20) / 10))
    cap.release()
    return out


def test_frames_are_drawn_off_the_callers_thread_and_written_in_order(tmp_path: Path) -> None:
    threads: set[str] = set()

    def draw(i: int) -> np.ndarray:
        threads.add(threading.current_thread().name)
        return _frame(i)

    out = tmp_path / "a.mp4"
    vw = BackgroundVideoWriter(VideoWriter(out, 30.0), depth=2)
    for i in range(20):
        vw.submit(partial(draw, i))
    vw.close()
    assert vw.frames == 20
    assert threads == {"hiitpi-video-writer"}
    assert _levels(out) == list(range(20))
    assert not list(tmp_path.glob("*.part*"))


def test_a_drawing_failure_reaches_the_caller_and_leaves_no_file(tmp_path: Path) -> None:
    def broken() -> np.ndarray:
        raise RuntimeError("bad frame")

    out = tmp_path / "b.mp4"
    vw = BackgroundVideoWriter(VideoWriter(out, 30.0), depth=2)
    vw.submit(partial(_frame, 0))
    vw.submit(broken)
    with pytest.raises(RuntimeError, match="bad frame"):
        for i in range(50):  # raised by a later submit, or at the latest by close
            vw.submit(partial(_frame, i))
        vw.close()
    vw.close(ok=False)
    assert not out.exists() and not list(tmp_path.glob("*.part*"))


def test_close_not_ok_drops_the_queue_and_the_partial_file(tmp_path: Path) -> None:
    out = tmp_path / "c.mp4"
    vw = BackgroundVideoWriter(VideoWriter(out, 30.0))
    for i in range(5):
        vw.submit(partial(_frame, i))
    vw.close(ok=False)
    assert not out.exists() and not list(tmp_path.glob("*.part*"))


def test_an_unwritable_size_is_a_clear_error(tmp_path: Path) -> None:
    vw = BackgroundVideoWriter(VideoWriter(tmp_path / "d.mp4", 30.0))
    vw.submit(lambda: np.zeros((0, 0, 3), np.uint8))
    with pytest.raises(SourceError, match=r"--annotated: cannot write video .*d\.mp4"):
        vw.close()
    assert not list(tmp_path.iterdir())  # neither the video nor a partial file
