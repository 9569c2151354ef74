"""Writing annotated video files."""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from hiitpi.errors import SourceError


class VideoWriter:
    """An MP4 (mp4v) writer that opens on the first frame, when the size is known.

    Frames go to a temporary file renamed into place by ``close(ok=True)``, so an interrupted
    or failed run never leaves a truncated video under the requested name.
    """

    def __init__(self, path: str | Path, fps: float) -> None:
        self.path = Path(path)
        self.fps = fps if fps > 0 else 30.0
        self._writer: cv2.VideoWriter | None = None
        self.frames = 0
        if self.path.suffix.lower() not in (".mp4", ".m4v", ".mov"):
            raise SourceError(f"--annotated: {self.path} must end in .mp4 (an MP4 file is written)")
        if not self.path.parent.is_dir():
            raise SourceError(f"--annotated: folder does not exist: {self.path.parent}")
        if not os.access(self.path.parent, os.W_OK):
            raise SourceError(f"--annotated: cannot write into {self.path.parent}")
        self._tmp = self.path.with_name(f".{self.path.stem}.{os.getpid()}.part{self.path.suffix}")

    def write(self, image: NDArray[np.uint8]) -> None:
        if self._writer is None:
            h, w = image.shape[:2]
            fourcc = cv2.VideoWriter_fourcc(*"mp4v")
            self._writer = cv2.VideoWriter(str(self._tmp), fourcc, self.fps, (w, h))
            if not self._writer.isOpened():
                raise SourceError(f"--annotated: cannot write video {self.path}")
        self._writer.write(image)
        self.frames += 1

    def close(self, ok: bool = True) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
            if ok:
                os.replace(self._tmp, self.path)
        with contextlib.suppress(FileNotFoundError):
            self._tmp.unlink()


Render = Callable[[], NDArray[np.uint8]]  # draws one output frame when called


class BackgroundVideoWriter:
    """Draws and writes frames on its own thread, up to ``depth`` frames behind the caller.

    ``submit`` takes a callable that draws the frame (e.g. a ``functools.partial`` of
    ``annotate``), so the drawing and the encoding both leave the caller's (the model's)
    thread. Frames are written in submission order. A failure on the writer thread is raised
    by the next ``submit`` or by ``close``; ``close(ok=False)`` drops what is queued and
    removes the partial file, like :class:`VideoWriter`.
    """

    _POLL_S = 0.25

    def __init__(self, writer: VideoWriter, depth: int = 8) -> None:
        self.writer = writer
        self._jobs: queue.Queue[Render | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._abort = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hiitpi-video-writer", daemon=True)
        self._thread.start()

    @property
    def frames(self) -> int:
        return self.writer.frames

    def submit(self, render: Render) -> None:
        self._put(render)

    def close(self, ok: bool = True) -> None:
        if not ok:
            self._abort.set()
        if self._thread.is_alive():
            self._put(None, raise_error=False)
            self._thread.join()
        failed = self._error is not None
        self.writer.close(ok=ok and not failed)
        if ok and failed:
            assert self._error is not None
            raise self._error

    def _put(self, job: Render | None, raise_error: bool = True) -> None:
        while True:
            if self._error is not None and raise_error:
                raise self._error
            if not self._thread.is_alive():
                return
            try:
                self._jobs.put(job, timeout=self._POLL_S)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        try:
            while (job := self._jobs.get()) is not None:
                if not self._abort.is_set():
                    self.writer.write(job())
        except BaseException as exc:  # raised in the caller's thread, never lost here
            self._error = exc
