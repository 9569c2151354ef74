"""Pure data and math: no I/O, no clock."""

from hiitpi.core.frame import Frame
from hiitpi.core.keypoints import COCO_KEYPOINTS, NUM_KEYPOINTS, Keypoint
from hiitpi.core.pose import Pose

__all__ = ["COCO_KEYPOINTS", "NUM_KEYPOINTS", "Frame", "Keypoint", "Pose"]
