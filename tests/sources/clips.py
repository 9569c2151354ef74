"""A real, small video clip written with cv2.VideoWriter, and a probe of its content."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

CLIP_FRAMES = 64
CLIP_SIZE = (160, 120)  # (width, height)
CLIP_FPS = 30.0
SQUARE = 16


def square_x(image: NDArray[np.uint8]) -> int:
    """Left edge of the bright square drawn by ``write_clip`` (tolerant of codec ringing)."""
    columns = np.flatnonzero(image[:, :, 2].max(axis=0) > 128)
    return int(columns[0]) if columns.size else -1


def write_clip(
    path: Path, frames: int = CLIP_FRAMES, size: tuple[int, int] = CLIP_SIZE, fps: float = CLIP_FPS
) -> Path:
    """An MPEG-4 clip of a red square moving 2 px right per frame on black."""
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height))
    assert writer.isOpened(), "OpenCV cannot write mp4v here"
    for i in range(frames):
        image = np.zeros((height, width, 3), np.uint8)
        x = (2 * i) % (width - SQUARE)
        cv2.rectangle(image, (x, 40), (x + SQUARE - 1, 40 + SQUARE - 1), (0, 0, 255), -1)
        writer.write(image)
    writer.release()
    return path
