"""Body geometry: joint angles, distances and torso-relative lengths. Pure numpy, NaN-safe."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from hiitpi.core.keypoints import Keypoint
from hiitpi.core.pose import Pose


def angle(a: ArrayLike, b: ArrayLike, c: ArrayLike) -> float:
    """The angle ABC at joint ``b`` in degrees, in [0, 180]; NaN when a point is missing."""
    pa, pb, pc = (np.asarray(p, dtype=np.float64) for p in (a, b, c))
    v1 = pa - pb
    v2 = pc - pb
    n1 = float(np.hypot(*v1))
    n2 = float(np.hypot(*v2))
    if not (n1 > 1e-9 and n2 > 1e-9):
        return math.nan
    cos = float(np.dot(v1, v2)) / (n1 * n2)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def distance(a: ArrayLike, b: ArrayLike) -> float:
    """Euclidean distance between two points (NaN when either is missing)."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    return float(np.hypot(*d))


def midpoint(a: ArrayLike, b: ArrayLike) -> tuple[float, float]:
    m = (np.asarray(a, dtype=np.float64) + np.asarray(b, dtype=np.float64)) / 2.0
    return float(m[0]), float(m[1])


def incline(a: ArrayLike, b: ArrayLike) -> float:
    """Angle of the segment a->b from the horizontal in degrees, in [0, 90] (0 = level)."""
    d = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)
    if not np.isfinite(d).all() or float(np.hypot(*d)) < 1e-9:
        return math.nan
    return math.degrees(math.atan2(abs(float(d[1])), abs(float(d[0]))))


def torso_length(pose: Pose, floor: float = 0.3) -> float:
    """Shoulder-midpoint to hip-midpoint distance in pixels, using whichever sides are visible.

    Falls back to a single side when only one shoulder/hip pair is visible; NaN when neither is.
    """
    pairs = []
    for sh, hip in (
        (Keypoint.LEFT_SHOULDER, Keypoint.LEFT_HIP),
        (Keypoint.RIGHT_SHOULDER, Keypoint.RIGHT_HIP),
    ):
        if pose.visible(sh, floor) and pose.visible(hip, floor):
            pairs.append(distance(pose.point(sh), pose.point(hip)))
    if not pairs:
        return math.nan
    return max(pairs)


def normalised(length: float, torso: float) -> float:
    """A length divided by the torso length (NaN when the torso is unknown)."""
    if not (torso > 1e-6) or not math.isfinite(length):
        return math.nan
    return length / torso
