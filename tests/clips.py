"""Small synthetic video files for tests that need a decodable clip but no person in it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def write_test_clip(path: Path, frames: int = 30, size: tuple[int, int] = (160, 120)) -> Path:
    """A short MP4 of a square moving across a grey background."""
    w, h = size
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (w, h))
    for i in range(frames):
        img = np.full((h, w, 3), 90, np.uint8)
        x = (i * 4) % (w - 20)
        cv2.rectangle(img, (x, 40), (x + 20, 60), (255, 255, 255), -1)
        out.write(img)
    out.release()
    return path
