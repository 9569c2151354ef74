"""JPEG encoding for the MJPEG stream."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray


def encode_jpeg(image: NDArray[np.uint8], quality: int = 80) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()
