"""Pose estimation behind one protocol; backends live in ``hiitpi.pose.backends``."""

from hiitpi.pose.base import PoseEstimator
from hiitpi.pose.registry import BACKENDS, build_estimator

__all__ = ["BACKENDS", "PoseEstimator", "build_estimator"]
