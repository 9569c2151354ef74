"""Keypoint identities: the 17 COCO keypoints first (in COCO order), then BlazePose's extras."""

from __future__ import annotations

from enum import IntEnum


class Keypoint(IntEnum):
    """A body keypoint. Values 0-16 are the COCO order; 17+ exist only on 33-point models."""

    NOSE = 0
    LEFT_EYE = 1
    RIGHT_EYE = 2
    LEFT_EAR = 3
    RIGHT_EAR = 4
    LEFT_SHOULDER = 5
    RIGHT_SHOULDER = 6
    LEFT_ELBOW = 7
    RIGHT_ELBOW = 8
    LEFT_WRIST = 9
    RIGHT_WRIST = 10
    LEFT_HIP = 11
    RIGHT_HIP = 12
    LEFT_KNEE = 13
    RIGHT_KNEE = 14
    LEFT_ANKLE = 15
    RIGHT_ANKLE = 16
    # BlazePose-only points.
    LEFT_EYE_INNER = 17
    LEFT_EYE_OUTER = 18
    RIGHT_EYE_INNER = 19
    RIGHT_EYE_OUTER = 20
    MOUTH_LEFT = 21
    MOUTH_RIGHT = 22
    LEFT_PINKY = 23
    RIGHT_PINKY = 24
    LEFT_INDEX = 25
    RIGHT_INDEX = 26
    LEFT_THUMB = 27
    RIGHT_THUMB = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32

    @property
    def snake(self) -> str:
        """The snake_case name used in tracks and definition files (``left_shoulder``)."""
        return self.name.lower()

    @classmethod
    def from_name(cls, name: str) -> Keypoint:
        """Look a keypoint up by its snake_case name; the error lists the valid names."""
        try:
            return cls[name.upper()]
        except KeyError:
            valid = ", ".join(k.snake for k in cls)
            raise ValueError(f"unknown keypoint {name!r}; valid: {valid}") from None


NUM_KEYPOINTS = len(Keypoint)
COCO_KEYPOINTS: tuple[Keypoint, ...] = tuple(k for k in Keypoint if k.value < 17)

# Skeleton edges for drawing (COCO limbs plus the BlazePose feet).
SKELETON: tuple[tuple[Keypoint, Keypoint], ...] = (
    (Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER),
    (Keypoint.LEFT_SHOULDER, Keypoint.LEFT_ELBOW),
    (Keypoint.LEFT_ELBOW, Keypoint.LEFT_WRIST),
    (Keypoint.RIGHT_SHOULDER, Keypoint.RIGHT_ELBOW),
    (Keypoint.RIGHT_ELBOW, Keypoint.RIGHT_WRIST),
    (Keypoint.LEFT_SHOULDER, Keypoint.LEFT_HIP),
    (Keypoint.RIGHT_SHOULDER, Keypoint.RIGHT_HIP),
    (Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP),
    (Keypoint.LEFT_HIP, Keypoint.LEFT_KNEE),
    (Keypoint.LEFT_KNEE, Keypoint.LEFT_ANKLE),
    (Keypoint.RIGHT_HIP, Keypoint.RIGHT_KNEE),
    (Keypoint.RIGHT_KNEE, Keypoint.RIGHT_ANKLE),
    (Keypoint.LEFT_ANKLE, Keypoint.LEFT_HEEL),
    (Keypoint.LEFT_HEEL, Keypoint.LEFT_FOOT_INDEX),
    (Keypoint.RIGHT_ANKLE, Keypoint.RIGHT_HEEL),
    (Keypoint.RIGHT_HEEL, Keypoint.RIGHT_FOOT_INDEX),
    (Keypoint.NOSE, Keypoint.LEFT_EYE),
    (Keypoint.NOSE, Keypoint.RIGHT_EYE),
    (Keypoint.LEFT_EYE, Keypoint.LEFT_EAR),
    (Keypoint.RIGHT_EYE, Keypoint.RIGHT_EAR),
)
