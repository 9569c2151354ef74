"""Small real video clips written on the fly."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def write_clip(
    path: Path, frames: int = 60, fps: float = 30.0, size: tuple[int, int] = (160, 120)
) -> Path:
    """A real MP4 (mp4v) of a square moving over a gradient."""
    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    assert writer.isOpened()
    base = np.tile(np.linspace(0, 255, w, dtype=np.uint8), (h, 1))
    for i in range(frames):
        img = cv2.cvtColor(base, cv2.COLOR_GRAY2BGR)
        x = (i * 3) % (w - 20)
        cv2.rectangle(img, (x, 40), (x + 20, 60), (0, 0, 255), -1)
        writer.write(img)
    writer.release()
    return path
