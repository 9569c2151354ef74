"""MoveNet crop-region tracking (pure geometry; no model)."""

from __future__ import annotations

import numpy as np
import pytest

from hiitpi.core.keypoints import NUM_KEYPOINTS, Keypoint
from hiitpi.pose.crop import (
    BODY_EXPANSION,
    TORSO_EXPANSION,
    CropRegion,
    crop_resize,
    full_frame,
    next_crop,
)

K = Keypoint


def skeleton(
    cx: float, cy: float, scale: float, conf: float = 0.9
) -> tuple[np.ndarray, np.ndarray]:
    """A standing person: hips centred on (cx, cy); ``scale`` = hip-to-shoulder height."""
    offsets = {
        K.NOSE: (0.0, -1.5), K.LEFT_EYE: (0.1, -1.6), K.RIGHT_EYE: (-0.1, -1.6),
        K.LEFT_EAR: (0.2, -1.55), K.RIGHT_EAR: (-0.2, -1.55),
        K.LEFT_SHOULDER: (0.4, -1.0), K.RIGHT_SHOULDER: (-0.4, -1.0),
        K.LEFT_ELBOW: (0.5, -0.5), K.RIGHT_ELBOW: (-0.5, -0.5),
        K.LEFT_WRIST: (0.5, 0.0), K.RIGHT_WRIST: (-0.5, 0.0),
        K.LEFT_HIP: (0.25, 0.0), K.RIGHT_HIP: (-0.25, 0.0),
        K.LEFT_KNEE: (0.25, 1.0), K.RIGHT_KNEE: (-0.25, 1.0),
        K.LEFT_ANKLE: (0.25, 2.0), K.RIGHT_ANKLE: (-0.25, 2.0),
    }  # fmt: skip
    xy = np.full((NUM_KEYPOINTS, 2), np.nan)
    c = np.zeros(NUM_KEYPOINTS)
    for kp, (dx, dy) in offsets.items():
        xy[kp] = (cx + dx * scale, cy + dy * scale)
        c[kp] = conf
    return xy, c


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (1920, 1080, CropRegion(0.0, -420.0, 1920.0)),
        (500, 610, CropRegion(-55.0, 0.0, 610.0)),
        (640, 640, CropRegion(0.0, 0.0, 640.0)),
    ],
)
def test_full_frame_pads_the_short_side_equally(width: int, height: int, expected: CropRegion):
    assert full_frame(width, height) == expected


def test_crop_is_a_square_on_the_hips_sized_by_torso_and_body():
    xy, conf = skeleton(1000, 700, 100)
    region = next_crop(xy, conf, 1920, 1080)
    # torso extent from the hip centre: shoulders 100 px up; body: ankles 200 px down.
    half = max(100 * TORSO_EXPANSION, 200 * BODY_EXPANSION)
    assert region == pytest.approx(CropRegion(1000 - half, 700 - half, 2 * half))
    assert region.x0 == pytest.approx(1000 - half)
    assert region.side == pytest.approx(2 * half)


def test_low_confidence_keypoints_do_not_widen_the_body_extent():
    xy, conf = skeleton(1000, 700, 100)
    xy[K.LEFT_WRIST] = (1800, 100)
    conf[K.LEFT_WRIST] = 0.1
    assert next_crop(xy, conf, 1920, 1080).side == pytest.approx(2 * 240)


@pytest.mark.parametrize("hidden", [(K.LEFT_HIP, K.RIGHT_HIP), (K.LEFT_SHOULDER, K.RIGHT_SHOULDER)])
def test_no_torso_means_the_whole_frame(hidden: tuple[Keypoint, Keypoint]):
    xy, conf = skeleton(1000, 700, 100)
    conf[list(hidden)] = 0.1
    assert next_crop(xy, conf, 1920, 1080) == full_frame(1920, 1080)


def test_a_body_bigger_than_the_frame_means_the_whole_frame():
    xy, conf = skeleton(320, 240, 300)
    assert next_crop(xy, conf, 640, 480) == full_frame(640, 480)


def test_non_finite_keypoints_fall_back_to_the_whole_frame():
    xy, conf = skeleton(1000, 700, 100)
    xy[K.LEFT_HIP] = np.nan
    assert next_crop(xy, conf, 1920, 1080) == full_frame(1920, 1080)


def test_to_frame_maps_crop_coordinates_back_to_pixels():
    region = CropRegion(100.0, -50.0, 200.0)
    out = region.to_frame(np.array([[0.0, 0.0], [0.5, 0.25], [1.0, 1.0]]))
    np.testing.assert_allclose(out, [[100, -50], [200, 0], [300, 150]])


def test_crop_resize_cuts_the_region_and_fills_outside_black():
    image = np.full((100, 200, 3), 255, np.uint8)
    image[40:60, 140:160] = (0, 0, 200)  # a red square centred on (150, 50)
    region = CropRegion(100.0, 0.0, 100.0)  # x 100..200, y 0..100
    out = crop_resize(image, region, 50)
    assert out.shape == (50, 50, 3)
    ys, xs = np.nonzero(out[:, :, 2] == 200)
    assert xs.mean() == pytest.approx(25 - 0.5, abs=0.6)  # (150 - 100) / 2
    assert ys.mean() == pytest.approx(25 - 0.5, abs=0.6)
    # A region hanging off the frame: the outside is black.
    out = crop_resize(image, CropRegion(-50.0, 0.0, 100.0), 10)
    assert out[:, :4].max() == 0
    assert out[:, 6:].min() == 255


def test_crop_side_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        CropRegion(0, 0, 0)
