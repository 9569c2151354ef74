"""Writing annotated video files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from hiitpi.errors import SourceError


class VideoWriter:
    """An MP4 (mp4v) writer that opens on the first frame, when the size is known."""

    def __init__(self, path: str | Path, fps: float) -> None:
        self.path = Path(path)
        self.fps = fps if fps > 0 else 30.0
        self._writer: cv2.VideoWriter | None = None
        self.frames = 0
        if not self.path.parent.exists():
            raise SourceError(f"--annotated: folder does not exist: {self.path.parent}")

    def write(self, image: NDArray[np.uint8]) -> None:
        if self._writer is None:
            h, w = image.shape[:2]
            fourcc = cv2.VideoWriter_fourcc(*"mp4v")
            self._writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, (w, h))
            if not self._writer.isOpened():
                raise SourceError(f"cannot write video {self.path}")
        self._writer.write(image)
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
