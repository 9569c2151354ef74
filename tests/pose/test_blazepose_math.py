"""BlazePose's anchors, detection decoding, weighted NMS, regions and heatmap refinement."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from hiitpi.pose.backends.blazepose import pick_person
from hiitpi.pose.backends.blazepose_math import (
    NUM_ANCHORS,
    Detection,
    Roi,
    decode_detections,
    refine_from_heatmap,
    roi_from_points,
    ssd_anchors,
)


def test_anchors_are_mediapipes_pose_grid():
    a = ssd_anchors()
    assert a.shape == (NUM_ANCHORS, 2)
    # stride 8: a 28x28 grid, 2 anchors a cell, row by row
    np.testing.assert_allclose(a[0], a[1])
    np.testing.assert_allclose(a[0], (0.5 / 28, 0.5 / 28))
    np.testing.assert_allclose(a[2], (1.5 / 28, 0.5 / 28))
    np.testing.assert_allclose(a[2 * 28], (0.5 / 28, 1.5 / 28))
    # stride 16 starts after 28*28*2; the three stride-32 layers share a 7x7 grid, 6 a cell
    np.testing.assert_allclose(a[1568], (0.5 / 14, 0.5 / 14))
    np.testing.assert_allclose(a[1568 + 392 : 1568 + 392 + 6], [(0.5 / 7, 0.5 / 7)] * 6)
    np.testing.assert_allclose(a[-1], (6.5 / 7, 6.5 / 7))


def _raw(anchor: int, dx: float, size: float, logit: float, boxes, scores) -> None:
    boxes[anchor, 0:4] = (dx, 0.0, size, size)
    boxes[anchor, 4:12] = np.arange(8)  # keypoints relative to the anchor, in 224 px
    scores[anchor] = logit


def test_decode_scales_boxes_and_keypoints_and_merges_overlaps_by_score():
    anchors = ssd_anchors()
    boxes = np.zeros((NUM_ANCHORS, 12))
    scores = np.full(NUM_ANCHORS, -10.0)
    _raw(1000, 0.0, 44.8, 2.0, boxes, scores)  # a 0.2-wide box on anchor 1000
    _raw(1001, 4.48, 44.8, 1.0, boxes, scores)  # the same cell, shifted 0.02: overlaps
    _raw(100, 0.0, 22.4, 3.0, boxes, scores)  # elsewhere
    _raw(5, 0.0, 22.4, -1.0, boxes, scores)  # below the threshold
    found = decode_detections(boxes, scores, anchors, min_score=0.5)
    assert [round(d.score, 4) for d in found] == [round(1 / (1 + math.exp(-3)), 4),
                                                  round(1 / (1 + math.exp(-2)), 4)]  # fmt: skip
    merged = found[1]
    w1, w2 = 1 / (1 + math.exp(-2)), 1 / (1 + math.exp(-1))
    cx = anchors[1000, 0] + 0.02 * w2 / (w1 + w2)
    np.testing.assert_allclose((merged.box[0] + merged.box[2]) / 2, cx, atol=1e-9)
    np.testing.assert_allclose(merged.box[2] - merged.box[0], 0.2, atol=1e-9)
    np.testing.assert_allclose(merged.keypoints[1], anchors[1000] + np.array([2, 3]) / 224)


def test_decode_refuses_wrong_shapes():
    with pytest.raises(ValueError, match=r"expected \(2254, 12\) boxes"):
        decode_detections(np.zeros((10, 12)), np.zeros(10), ssd_anchors(), 0.5)


@pytest.mark.parametrize(
    ("scale_point", "rotation"),
    [((100.0, 50.0), 0.0), ((150.0, 100.0), math.pi / 2), ((50.0, 100.0), -math.pi / 2),
     ((100.0, 150.0), math.pi)],
)  # fmt: skip
def test_region_is_centred_on_the_hips_and_turned_upright(scale_point, rotation):
    roi = roi_from_points(np.array([100.0, 100.0]), np.array(scale_point))
    assert (roi.cx, roi.cy) == (100.0, 100.0)
    assert roi.side == pytest.approx(2 * 50 * 1.25)
    assert math.remainder(roi.rotation - rotation, 2 * math.pi) == pytest.approx(0.0, abs=1e-9)
    # the top centre of the model's input is where the scale point (the head's side) is
    top = roi.project(np.array([[128.0, 128.0 - 128.0 / 1.25]]), 256)[0]
    np.testing.assert_allclose(top, scale_point, atol=1e-9)


def test_region_crop_and_projection_are_inverse():
    """A marker drawn in the frame is found in the rotated crop where from_input says."""
    image = np.zeros((300, 400, 3), np.uint8)
    cv2.circle(image, (260, 90), 3, (255, 255, 255), -1)
    roi = Roi(200.0, 150.0, 240.0, math.radians(30))
    crop = cv2.warpAffine(image, roi.from_input(256), (256, 256),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)  # fmt: skip
    ys, xs = np.nonzero(crop[:, :, 0] > 128)
    found = roi.project(np.array([[xs.mean(), ys.mean()]]), 256)[0]
    np.testing.assert_allclose(found, (260, 90), atol=0.5)


def test_world_landmarks_turn_with_the_region():
    roi = Roi(0.0, 0.0, 1.0, math.pi / 2)
    out = roi.rotate(np.array([[1.0, 0.0, 0.3]]))
    np.testing.assert_allclose(out, [[0.0, 1.0, 0.3]], atol=1e-12)


def test_heatmap_refinement_moves_a_landmark_to_its_peak_only_when_confident():
    heatmap = np.full((64, 64, 2), -10.0)
    heatmap[20, 30, 0] = 5.0  # a confident peak for landmark 0, two cells off its estimate
    heatmap[20, 30, 1] = -1.0  # landmark 1: weak (sigmoid 0.27 < 0.5): left alone
    points = np.array([[32 / 64, 21 / 64], [32 / 64, 21 / 64]])
    out = refine_from_heatmap(points, heatmap)
    np.testing.assert_allclose(out[0], (30 / 64, 20 / 64), atol=1e-3)
    np.testing.assert_allclose(out[1], points[1])


def _refine_one_by_one(points, heatmap, kernel=7, min_confidence=0.5):  # type: ignore[no-untyped-def]
    """MediaPipe's calculator as it reads, one landmark at a time (the reference)."""
    hm_h, hm_w, channels = heatmap.shape
    out = points.copy()
    half = (kernel - 1) // 2
    for i in range(channels):
        if not np.isfinite(points[i]).all():
            continue
        col, row = int(points[i, 0] * hm_w), int(points[i, 1] * hm_h)
        if not (0 <= col < hm_w and 0 <= row < hm_h):
            continue
        r0, r1 = max(0, row - half), min(hm_h, row + half + 1)
        c0, c1 = max(0, col - half), min(hm_w, col + half + 1)
        conf = 1.0 / (1.0 + np.exp(-heatmap[r0:r1, c0:c1, i].astype(np.float64)))
        total = float(conf.sum())
        if float(conf.max()) >= min_confidence and total > 0:
            rows, cols = np.mgrid[r0:r1, c0:c1]
            out[i, 0] = float((cols * conf).sum()) / hm_w / total
            out[i, 1] = float((rows * conf).sum()) / hm_h / total
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_heatmap_refinement_of_all_landmarks_at_once_is_the_calculators_one_by_one(
    dtype: type,
) -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        heatmap = rng.normal(-1.0, 3.0, (64, 64, 39)).astype(dtype)
        # inside, at every border (windows cut by it), outside, and not a number
        points = rng.uniform(-0.05, 1.05, (39, 2))
        points[:4] = [[0.0, 0.0], [0.999, 0.999], [0.01, 0.5], [0.5, 0.995]]
        points[4] = np.nan
        out = refine_from_heatmap(points, heatmap)
        want = _refine_one_by_one(points, heatmap)
        np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)
        finite = np.isfinite(points).all(axis=1)
        assert (np.abs(out - points)[finite] > 1e-6).any(axis=1).sum() > 10  # it did move some
        assert np.isnan(out[4]).all()


def _detection(x0: float, y0: float, x1: float, y1: float) -> Detection:
    return Detection(0.9, np.array([x0, y0, x1, y1]), np.zeros((4, 2)))


def test_main_person_is_largest_and_central_then_nearest_the_lost_track():
    small_centre = _detection(0.45, 0.45, 0.55, 0.55)
    big_centre = _detection(0.3, 0.2, 0.7, 0.9)
    big_corner = _detection(0.0, 0.0, 0.45, 0.7)

    def roi_of(d: Detection) -> Roi:
        return Roi(float(d.box[0] + d.box[2]) * 50, float(d.box[1] + d.box[3]) * 50, 10.0, 0.0)

    dets = [small_centre, big_corner, big_centre]
    assert pick_person(dets, roi_of, None) == roi_of(big_centre)
    lost = Roi(20.0, 30.0, 10.0, 0.0)  # near the corner person
    assert pick_person(dets, roi_of, lost) == roi_of(big_corner)


def test_one_euro_holds_still_values_and_follows_fast_moves_as_mediapipe_tunes_it():
    from hiitpi.pose.backends.blazepose_filter import OneEuro

    f = OneEuro(0.05, 80.0, 1.0)
    assert f(np.array([100.0]), 0.0, 1 / 200)[0] == 100.0  # the first value passes through
    jitter = [f(np.array([100.0 + (-1) ** i]), (i + 1) / 30, 1 / 200)[0] for i in range(30)]
    assert max(abs(v - 100.0) for v in jitter[5:]) < 0.3  # a still landmark's jitter is damped
    moved = [f(np.array([100.0 + 10 * i]), 1 + i / 30, 1 / 200)[0] for i in range(1, 10)]
    assert moved[-1] > 100.0 + 10 * 9 - 25  # a fast move is followed within a few frames
    assert f(np.array([0.0]), 0.5, 1 / 200)[0] == 0.0  # a timestamp going back is not filtered


def test_smoothing_scales_velocities_by_the_unexpanded_hip_to_scale_point_box():
    """MediaPipe's pose_landmark_filtering divides landmark velocities by the size of the
    AlignmentPointsRectsCalculator box of this frame's raw auxiliary landmarks, 2 x |scale
    point - hip centre| (no x1.25 margin): that is what lets the next region keep up with a
    moving person."""
    from hiitpi.pose.backends.blazepose_filter import LandmarkSmoother, OneEuro, object_scale

    def landmarks(dy: float) -> np.ndarray:
        image = np.zeros((39, 3))
        image[:, 1] = np.arange(39.0) + dy
        image[33, :2] = (100.0, 300.0 + dy)  # hip centre
        image[34, :2] = (100.0, 200.0 + dy)  # scale point, 100 px above
        return image

    assert object_scale(landmarks(0.0)[33:35, :2]) == pytest.approx(200.0)
    smoother, aux, body = LandmarkSmoother(), OneEuro(0.01, 10.0, 1.0), OneEuro(0.05, 80.0, 1.0)
    world = np.zeros((39, 3))
    for i, dy in enumerate([0.0, 40.0, 80.0]):  # a person moving down 40 px a frame
        out, _ = smoother(landmarks(dy), world, i / 30)
        want_aux = aux(landmarks(dy)[33:35, :2], i / 30, 1 / 200)
        want_body = body(landmarks(dy)[:33, :2], i / 30, 1 / 200)
    np.testing.assert_allclose(out[33:35, :2], want_aux)
    np.testing.assert_allclose(out[:33, :2], want_body)
    lagging = OneEuro(0.01, 10.0, 1.0)  # scaled by the 1.25x region: follows later
    for i, dy in enumerate([0.0, 40.0, 80.0]):
        late = lagging(landmarks(dy)[33:35, :2], i / 30, 1 / 250)
    assert out[33, 1] > late[0, 1] + 1.0
