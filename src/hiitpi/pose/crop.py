"""MoveNet's crop-region tracking: where in the frame to look for the person on the next frame.

The single-pose MoveNet models see a small square (192 or 256 px). Letterboxing a whole 16:9
frame into it leaves a distant person a few pixels tall, and the legs are lost. The algorithm
published with MoveNet (TensorFlow Hub tutorial "MoveNet: ultra fast and accurate pose
detection", ``determine_crop_region``) fixes that: the first frame, or a frame after the person
was lost, is the whole frame padded to a square; after that, a square around the last pose,
centred on the hips and sized from the torso and body extents of the confident keypoints.

Pure numpy + one OpenCV warp; regions are in frame pixels and may extend past the frame edges
(the outside is filled with black, as ``tf.image.crop_and_resize`` does).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from hiitpi.core.keypoints import Keypoint

# A keypoint takes part in the crop only above this score (MoveNet's MIN_CROP_KEYPOINT_SCORE).
MIN_CROP_KEYPOINT_SCORE = 0.2
# Half the crop side is at least this many times the torso / body extent from the hip centre.
TORSO_EXPANSION = 1.9
BODY_EXPANSION = 1.2

_TORSO = (Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER, Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP)
_HIPS = (Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP)
_SHOULDERS = (Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER)


@dataclass(frozen=True, slots=True)
class CropRegion:
    """A square ``side`` x ``side`` window with its top-left corner at (x0, y0), in frame px."""

    x0: float
    y0: float
    side: float

    def __post_init__(self) -> None:
        if not self.side > 0:
            raise ValueError(f"crop side must be positive, got {self.side}")

    def to_frame(self, norm_xy: NDArray[np.float64]) -> NDArray[np.float64]:
        """Map (x, y) normalised to the crop (0..1) to frame pixels; shape (n, 2) -> (n, 2)."""
        out: NDArray[np.float64] = np.asarray(norm_xy, dtype=np.float64) * self.side + (
            self.x0,
            self.y0,
        )
        return out


def full_frame(width: int, height: int) -> CropRegion:
    """The whole frame, padded equally on its short side to a square."""
    side = float(max(width, height))
    return CropRegion((width - side) / 2.0, (height - side) / 2.0, side)


def _torso_visible(conf: NDArray[np.float64]) -> bool:
    hips = max(conf[kp] for kp in _HIPS)
    shoulders = max(conf[kp] for kp in _SHOULDERS)
    return bool(hips > MIN_CROP_KEYPOINT_SCORE and shoulders > MIN_CROP_KEYPOINT_SCORE)


def next_crop(
    xy: NDArray[np.float64], conf: NDArray[np.float64], width: int, height: int
) -> CropRegion:
    """The crop for the next frame from this frame's keypoints (COCO order, frame pixels).

    Falls back to :func:`full_frame` when the torso is not confidently visible or the body
    would need a crop larger than the frame.
    """
    if not _torso_visible(conf):
        return full_frame(width, height)
    centre = (xy[Keypoint.LEFT_HIP] + xy[Keypoint.RIGHT_HIP]) / 2.0
    torso = np.abs(xy[list(_TORSO)] - centre)
    confident = conf[:17] > MIN_CROP_KEYPOINT_SCORE
    body = np.abs(xy[:17][confident] - centre)
    half = max(
        float(torso.max()) * TORSO_EXPANSION,
        float(body.max()) * BODY_EXPANSION if body.size else 0.0,
    )
    cx, cy = float(centre[0]), float(centre[1])
    # Never look further from the centre than the farthest frame edge.
    half = min(half, max(cx, width - cx, cy, height - cy))
    if not np.isfinite(half) or half <= 0 or half > max(width, height) / 2.0:
        return full_frame(width, height)
    return CropRegion(cx - half, cy - half, 2.0 * half)


def crop_resize(image: NDArray[np.uint8], region: CropRegion, size: int) -> NDArray[np.uint8]:
    """Cut ``region`` out of ``image`` and resize it to ``size`` x ``size`` (bilinear, black
    outside the frame). Pixel centres are aligned: output pixel i covers input
    ``x0 + (i + 0.5) * side / size``."""
    s = region.side / size
    # Inverse map (output -> input) with pixel-centre alignment.
    m = np.array(
        [[s, 0.0, region.x0 + 0.5 * s - 0.5], [0.0, s, region.y0 + 0.5 * s - 0.5]],
        dtype=np.float64,
    )
    out: NDArray[np.uint8] = cv2.warpAffine(  # type: ignore[assignment]
        image,
        m,
        (size, size),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
    return out
