"""Writing annotated video files."""

from __future__ import annotations

import contextlib
import os
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
