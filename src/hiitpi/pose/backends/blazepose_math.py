"""BlazePose's pre- and post-processing, as MediaPipe's pose graphs do it, in pure numpy.

- :func:`ssd_anchors`: ``SsdAnchorsCalculator`` with the pose detector's options (5 layers,
  strides 8, 16, 32, 32, 32, fixed anchor size, 2 anchors per cell and layer: 2254 anchors).
- :func:`decode_detections`: ``TensorsToDetectionsCalculator`` (reverse output order, scale 224,
  sigmoid scores clipped at +-100) followed by ``NonMaxSuppressionCalculator`` (weighted, IoU
  0.3). A detection is a box plus 4 keypoints: hip centre, full-body scale point, shoulder
  centre, upper-body scale point.
- :func:`roi_from_points`: ``AlignmentPointsRectsCalculator`` (centre = first point, side =
  2 x distance to the second, rotation so that the first->second vector points up) then
  ``RectTransformationCalculator`` (x1.25, square on the long side), in frame pixels.
- :class:`Roi`: the rotated square and its affine maps to and from the model's input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

DETECTOR_SIZE = 224
NUM_ANCHORS = 2254
_STRIDES = (8, 16, 32, 32, 32)
_MIN_SCALE, _MAX_SCALE = 0.1484375, 0.75
SCORE_CLIP = 100.0
NMS_IOU = 0.3
ROI_SCALE = 1.25
TARGET_ANGLE = math.pi / 2  # the hip -> scale-point vector is rotated to point straight up


def ssd_anchors(size: int = DETECTOR_SIZE) -> FloatArray:
    """(2254, 2) anchor centres (x, y) normalised to the detector input, in the model's order.

    Layers that share a stride share one grid: each cell gets 2 anchors per such layer (the
    layer's scale and the interpolated one), which only matters for the count here because the
    pose detector uses a fixed anchor size (width = height = 1).
    """
    centres: list[FloatArray] = []
    layer = 0
    while layer < len(_STRIDES):
        last = layer
        while last < len(_STRIDES) and _STRIDES[last] == _STRIDES[layer]:
            last += 1
        per_cell = 2 * (last - layer)
        cells = math.ceil(size / _STRIDES[layer])
        ys, xs = np.mgrid[0:cells, 0:cells]
        grid = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 2)
        centres.append(np.repeat(grid, per_cell, axis=0))
        layer = last
    anchors = np.concatenate(centres).astype(np.float64)
    if anchors.shape != (NUM_ANCHORS, 2):
        raise ValueError(f"expected ({NUM_ANCHORS}, 2) anchors, got {anchors.shape}")
    return anchors


@dataclass(frozen=True, slots=True)
class Detection:
    """One person found by the detector, normalised to the (letterboxed) detector input.

    ``box`` is (xmin, ymin, xmax, ymax); ``keypoints`` (4, 2) are (x, y).
    """

    score: float
    box: FloatArray
    keypoints: FloatArray


def _iou(box: FloatArray, boxes: FloatArray) -> FloatArray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    out: FloatArray = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return out


def decode_detections(
    raw_boxes: FloatArray, raw_scores: FloatArray, anchors: FloatArray, min_score: float
) -> list[Detection]:
    """The detector's (2254, 12) regressors and (2254,) logits -> people, best score first."""
    if raw_boxes.shape != (len(anchors), 12) or raw_scores.shape != (len(anchors),):
        raise ValueError(
            f"expected ({len(anchors)}, 12) boxes and ({len(anchors)},) scores, "
            f"got {raw_boxes.shape} and {raw_scores.shape}"
        )
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores, -SCORE_CLIP, SCORE_CLIP)))
    keep = np.flatnonzero(scores >= min_score)
    if keep.size == 0:
        return []
    reg = raw_boxes[keep] / DETECTOR_SIZE
    centre = anchors[keep]
    xy = reg[:, 0:2] + centre
    half = reg[:, 2:4] / 2
    boxes = np.concatenate([xy - half, xy + half], axis=1)
    points = reg[:, 4:12].reshape(-1, 4, 2) + centre[:, None, :]
    return _weighted_nms(scores[keep], boxes, points)


def _weighted_nms(scores: FloatArray, boxes: FloatArray, points: FloatArray) -> list[Detection]:
    """MediaPipe's WEIGHTED non-max suppression: each kept detection is the score-weighted
    mean of every detection overlapping it by more than :data:`NMS_IOU`."""
    remaining = np.argsort(-scores, kind="stable")
    out: list[Detection] = []
    while remaining.size:
        top = remaining[0]
        overlap = _iou(boxes[top], boxes[remaining]) > NMS_IOU
        overlap[0] = True
        group = remaining[overlap]
        w = scores[group][:, None]
        box = (boxes[group] * w).sum(axis=0) / w.sum()
        kps = (points[group] * w[:, :, None]).sum(axis=0) / w.sum()
        out.append(Detection(float(scores[top]), box, kps))
        remaining = remaining[~overlap]
    return out


@dataclass(frozen=True, slots=True)
class Roi:
    """A rotated square in frame pixels: centre (cx, cy), side, rotation (radians)."""

    cx: float
    cy: float
    side: float
    rotation: float

    def from_input(self, size: int) -> FloatArray:
        """(2, 3) affine matrix: the model's input pixel coordinates -> frame pixels.

        A point ``u`` in [0, size] of the input maps to ``centre + R(rotation) @ (u / size -
        0.5) * side`` (MediaPipe's ``LandmarkProjectionCalculator``). Like MediaPipe's image
        cropping (``cv::warpPerspective`` from the box corners), coordinates are pixel indices
        on both sides, so the same matrix crops (``cv2.WARP_INVERSE_MAP``) and un-projects.
        """
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        k = self.side / size
        linear = np.array([[c * k, -s * k], [s * k, c * k]])
        offset = np.array([self.cx, self.cy]) - linear @ np.array([size / 2, size / 2])
        return np.concatenate([linear, offset[:, None]], axis=1)

    def project(self, points: FloatArray, size: int) -> FloatArray:
        """(n, 2) points in the model's input pixels -> (n, 2) frame pixels."""
        m = self.from_input(size)
        out: FloatArray = points @ m[:, :2].T + m[:, 2]
        return out

    def rotate(self, vectors: FloatArray) -> FloatArray:
        """(n, 3) world vectors rotated about z by the ROI's rotation (x, y only)."""
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        out = vectors.copy()
        out[:, 0] = c * vectors[:, 0] - s * vectors[:, 1]
        out[:, 1] = s * vectors[:, 0] + c * vectors[:, 1]
        return out


def normalize_radians(angle: float) -> float:
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def roi_from_points(centre: FloatArray, scale_point: FloatArray) -> Roi:
    """The landmark model's region from two points in frame pixels: a square centred on
    ``centre``, side 2 x |scale_point - centre| x 1.25, rotated so the vector points up."""
    dx, dy = float(scale_point[0] - centre[0]), float(scale_point[1] - centre[1])
    side = 2.0 * math.hypot(dx, dy) * ROI_SCALE
    rotation = normalize_radians(TARGET_ANGLE - math.atan2(-dy, dx))
    return Roi(float(centre[0]), float(centre[1]), side, rotation)


def refine_from_heatmap(
    points: FloatArray, heatmap: FloatArray, kernel: int = 7, min_confidence: float = 0.5
) -> FloatArray:
    """MediaPipe's ``RefineLandmarksFromHeatmapCalculator``: each landmark (normalised to the
    model input, (n, 2)) moves to the confidence-weighted mean cell of a ``kernel`` x
    ``kernel`` window of its heatmap channel ((h, w, n) logits) around it, when the window's
    best sigmoid confidence reaches ``min_confidence``. Cell coordinates are used as MediaPipe
    does (a cell's index over the heatmap size, no half-cell offset); a window at the border is
    cut by it.

    All landmarks at once (it runs on every frame: a loop over the 39 channels cost ~0.5 ms
    of a Zen 4 core in numpy calls): only the n x kernel x kernel cells of the windows are read
    (in float64, whatever the heatmap's type), cells outside the heatmap weigh nothing."""
    hm_h, hm_w, channels = heatmap.shape
    if points.shape != (channels, 2):
        raise ValueError(f"expected ({channels}, 2) points, got {points.shape}")
    out = np.array(points, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # a NaN landmark is left where it is
        cell = np.trunc(points * (hm_w, hm_h))  # C++ truncation
    inside = np.isfinite(cell).all(axis=1)
    inside[inside] = ((cell[inside] >= 0) & (cell[inside] < (hm_w, hm_h))).all(axis=1)
    if not inside.any():
        return out
    which = np.flatnonzero(inside)
    half = (kernel - 1) // 2
    offsets = np.arange(-half, half + 1)
    cols = cell[which, 0].astype(np.intp)[:, None] + offsets  # (m, kernel)
    rows = cell[which, 1].astype(np.intp)[:, None] + offsets
    col_ok = (cols >= 0) & (cols < hm_w)
    row_ok = (rows >= 0) & (rows < hm_h)
    logits = heatmap[
        np.clip(rows, 0, hm_h - 1)[:, :, None],
        np.clip(cols, 0, hm_w - 1)[:, None, :],
        which[:, None, None],
    ].astype(np.float64)  # (m, kernel rows, kernel cols)
    conf = (1.0 / (1.0 + np.exp(-logits))) * (row_ok[:, :, None] & col_ok[:, None, :])
    total = conf.sum(axis=(1, 2))
    sure = (conf.max(axis=(1, 2)) >= min_confidence) & (total > 0)
    if not sure.any():
        return out
    x = (conf.sum(axis=1) * cols).sum(axis=1) / hm_w
    y = (conf.sum(axis=2) * rows).sum(axis=1) / hm_h
    moved = which[sure]
    out[moved, 0] = x[sure] / total[sure]
    out[moved, 1] = y[sure] / total[sure]
    return out
