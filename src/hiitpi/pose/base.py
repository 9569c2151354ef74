"""The pose-estimator protocol every backend implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from hiitpi.core.frame import Frame
from hiitpi.core.pose import Pose


@runtime_checkable
class PoseEstimator(Protocol):
    """Estimates one person's pose per frame.

    ``estimate`` returns a :class:`Pose` in frame pixels, or ``None`` when nobody is found.
    Backends may track across calls (feed frames in order); ``reset`` forgets that state
    (call it between unrelated videos). ``name`` identifies backend and settings, e.g.
    ``"mediapipe-full"``; it is recorded in reports and keys the pose-track cache.
    """

    name: str

    def estimate(self, frame: Frame) -> Pose | None: ...

    def reset(self) -> None: ...

    def close(self) -> None: ...
