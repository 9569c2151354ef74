"""Anti-aliased text drawn from a cache of its coverage, for text that repeats frame after frame.

``cv2.putText`` with ``LINE_AA`` rasterises every Hershey stroke as an anti-aliased thick line:
about 0.35 ms per HUD line on a Zen 3 core, so the HUD's three lines cost more than the JPEG
encode of the whole frame. The HUD's words change a few times a second while the picture
changes 30 times, so each distinct text is rasterised once, white on black, into a coverage mask
(``lru_cache``), and each frame only blends white over the image by that mask.

This gives the pixels of ``putText`` up to rounding (OpenCV blends in fixed point: a few
levels of 255 where strokes overlap): putText blends each stroke over what
is already there (p -> p + (255 - p) * a), so overlapping strokes compound as
255 - (255 - p)(1 - a1)(1 - a2), which is exactly blending once by the mask's own compounded
coverage 1 - (1 - a1)(1 - a2) (what drawing the strokes on black gives).
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray

Image = NDArray[np.uint8]
FONT = cv2.FONT_HERSHEY_SIMPLEX


Floats = NDArray[np.float32]


@lru_cache(maxsize=128)
def _coverage(text: str, scale: float, thickness: int) -> tuple[Floats, Floats, Image, int, int]:
    """The weights of the image (1 - alpha) and of white (alpha), float32 (h, w); a white
    (h, w, 3) image; where the text's origin sits in them (x, baseline y)."""
    (tw, th), base = cv2.getTextSize(text, FONT, scale, thickness)
    pad = thickness + 2  # room for the anti-aliased rim around each stroke
    ox, oy = pad, pad + th
    canvas = np.zeros((oy + base + pad, tw + 2 * pad), np.uint8)
    cv2.putText(canvas, text, (ox, oy), FONT, scale, (255,), thickness, cv2.LINE_AA)
    alpha = canvas.astype(np.float32) / 255.0
    keep = (1.0 - alpha).astype(np.float32)
    white = np.full((*canvas.shape, 3), 255, np.uint8)
    for a in (alpha, keep, white):
        a.flags.writeable = False  # shared by every frame
    return keep, alpha, white, ox, oy


def put_text(image: Image, text: str, org: tuple[int, int], scale: float, thickness: int) -> None:
    """White ``text`` with its baseline's left end at ``org``, as ``cv2.putText`` with
    ``LINE_AA`` draws it (in place); clipped at the image's borders."""
    keep, alpha, white, ox, oy = _coverage(text, float(scale), int(thickness))
    x0, y0 = org[0] - ox, org[1] - oy
    h, w = image.shape[:2]
    top, left = max(0, -y0), max(0, -x0)
    bottom, right = min(keep.shape[0], h - y0), min(keep.shape[1], w - x0)
    if bottom <= top or right <= left:
        return
    rows, cols = slice(top, bottom), slice(left, right)
    region = image[y0 + top : y0 + bottom, x0 + left : x0 + right]
    # keep * image + alpha * white (blendLinear divides by keep + alpha, which is 1)
    cv2.blendLinear(region, white[rows, cols], keep[rows, cols], alpha[rows, cols], dst=region)
