"""Inference on a camera's low-resolution stream, poses in the main stream's pixels.

A Pi camera frame (``hiitpi.sources.picamera.PiFrame``) may carry ``lores``: the same exposure
scaled by the ISP to the model's input size. :class:`LoresEstimator` runs its backend on that
image and scales the keypoints to the frame's own size (both streams see the same field of
view, so x and y scale by the width and height ratios). Frames without ``lores`` go to the
backend unchanged.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from hiitpi.core.frame import Frame
from hiitpi.core.pose import Pose
from hiitpi.pose.base import PoseEstimator


def scale_pose(pose: Pose, width: int, height: int) -> Pose:
    """``pose`` (in its own frame size) in a ``width`` x ``height`` frame of the same view."""
    factor = np.array([width / pose.width, height / pose.height])
    return replace(pose, xy=pose.xy * factor, width=width, height=height)


class LoresEstimator:
    """Wraps a backend so that it reads ``frame.lores`` when the frame has one."""

    def __init__(self, inner: PoseEstimator) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def reason(self) -> str:
        return str(getattr(self.inner, "reason", ""))

    def estimate(self, frame: Frame) -> Pose | None:
        lores = getattr(frame, "lores", None)
        if lores is None:
            return self.inner.estimate(frame)
        small = Frame(lores, frame.index, frame.t, frame.source_id, frame.captured)
        pose = self.inner.estimate(small)
        return None if pose is None else scale_pose(pose, frame.width, frame.height)

    def reset(self) -> None:
        self.inner.reset()

    def close(self) -> None:
        self.inner.close()
