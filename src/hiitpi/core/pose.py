"""A single person's pose in frame pixels."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hiitpi.core.keypoints import NUM_KEYPOINTS, Keypoint

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class Pose:
    """Keypoints of one person.

    ``xy`` has shape (NUM_KEYPOINTS, 2): (x, y) in frame pixels, x to the right, y down.
    ``conf`` has shape (NUM_KEYPOINTS,): per-keypoint confidence/visibility in [0, 1]; a
    keypoint the backend does not produce (e.g. heels on a 17-point model) has confidence 0
    and NaN coordinates. ``score`` is the overall pose score in [0, 1].

    ``world`` is optional, shape (NUM_KEYPOINTS, 3): metric 3D landmarks in metres, centred
    between the hips, x to the person's image right, y down, z towards the camera's depth
    (BlazePose's world landmarks). Backends without 3D output leave it ``None``; keypoints the
    model does not produce are NaN rows.
    """

    xy: FloatArray
    conf: FloatArray
    score: float
    width: int
    height: int
    num_model_keypoints: int = NUM_KEYPOINTS
    world: FloatArray | None = None

    def __post_init__(self) -> None:
        if self.xy.shape != (NUM_KEYPOINTS, 2):
            raise ValueError(f"expected xy of shape ({NUM_KEYPOINTS}, 2), got {self.xy.shape}")
        if self.conf.shape != (NUM_KEYPOINTS,):
            raise ValueError(f"expected conf of shape ({NUM_KEYPOINTS},), got {self.conf.shape}")
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"frame size must be positive, got {self.width}x{self.height}")
        if self.world is not None:
            if self.world.shape != (NUM_KEYPOINTS, 3):
                raise ValueError(
                    f"expected world of shape ({NUM_KEYPOINTS}, 3), got {self.world.shape}"
                )
            self.world.setflags(write=False)
        self.xy.setflags(write=False)
        self.conf.setflags(write=False)

    @classmethod
    def from_points(
        cls,
        points: Mapping[Keypoint, Sequence[float]],
        width: int,
        height: int,
        score: float | None = None,
        num_model_keypoints: int = NUM_KEYPOINTS,
    ) -> Pose:
        """Build a pose from ``{keypoint: (x, y, confidence)}``; missing keypoints get conf 0."""
        xy = np.full((NUM_KEYPOINTS, 2), np.nan)
        conf = np.zeros(NUM_KEYPOINTS)
        for kp, value in points.items():
            if len(value) != 3:
                raise ValueError(f"expected (x, y, confidence) for {kp.snake}, got {value!r}")
            xy[kp] = (float(value[0]), float(value[1]))
            conf[kp] = float(value[2])
        if score is None:
            present = conf[conf > 0]
            score = float(present.mean()) if present.size else 0.0
        return cls(xy, conf, float(score), width, height, num_model_keypoints)

    def point(self, kp: Keypoint) -> FloatArray:
        """(x, y) of one keypoint in frame pixels (NaN when absent)."""
        point: FloatArray = self.xy[kp]
        return point

    def visible(self, kp: Keypoint, floor: float = 0.5) -> bool:
        """True when the keypoint is present with confidence at least ``floor``."""
        return bool(self.conf[kp] >= floor) and bool(np.isfinite(self.xy[kp]).all())

    def visible_mask(self, floor: float = 0.5) -> list[bool]:
        """:meth:`visible` for every keypoint at once, indexed by :class:`Keypoint`."""
        seen: list[bool] = ((self.conf >= floor) & np.isfinite(self.xy).all(axis=1)).tolist()
        return seen

    def all_visible(self, kps: Iterable[Keypoint], floor: float = 0.5) -> bool:
        return all(self.visible(kp, floor) for kp in kps)

    def world_point(self, kp: Keypoint) -> FloatArray | None:
        """Metric (x, y, z) of one keypoint, or ``None`` without world landmarks / when absent."""
        if self.world is None:
            return None
        point: FloatArray = self.world[kp]
        return point if bool(np.isfinite(point).all()) else None

    def world_to_track(self) -> dict[str, list[float]] | None:
        """``{"left_shoulder": [x, y, z], ...}`` in metres (mm precision), or ``None``."""
        if self.world is None:
            return None
        out: dict[str, list[float]] = {}
        for kp in Keypoint:
            if kp.value >= self.num_model_keypoints:
                break
            p = self.world[kp]
            if np.isfinite(p).all():
                out[kp.snake] = [round(float(v), 4) for v in p]
        return out

    def with_world(self, world: Mapping[str, Sequence[float]] | None) -> Pose:
        """A copy with world landmarks from a track's ``"world"`` object (``None``: unchanged)."""
        if not world:
            return self
        arr = np.full((NUM_KEYPOINTS, 3), np.nan)
        for name, value in world.items():
            if len(value) != 3:
                raise ValueError(f"expected (x, y, z) for world {name}, got {value!r}")
            arr[Keypoint.from_name(name)] = [float(v) for v in value]
        return Pose(
            self.xy, self.conf, self.score, self.width, self.height, self.num_model_keypoints, arr
        )

    def to_track(self) -> dict[str, list[float]]:
        """``{"left_shoulder": [x, y, visibility], ...}`` for the keypoints the model produced."""
        out: dict[str, list[float]] = {}
        for kp in Keypoint:
            if kp.value >= self.num_model_keypoints:
                break
            x, y = self.xy[kp]
            if np.isfinite(x) and np.isfinite(y):
                out[kp.snake] = [
                    round(float(x), 2),
                    round(float(y), 2),
                    round(float(self.conf[kp]), 4),
                ]
        return out

    @classmethod
    def from_track(
        cls, keypoints: Mapping[str, Sequence[float]], width: int, height: int
    ) -> Pose | None:
        """Inverse of :meth:`to_track`; ``None`` for a frame with no pose."""
        if not keypoints:
            return None
        points = {Keypoint.from_name(name): value for name, value in keypoints.items()}
        n = 17 if max(points) < 17 else NUM_KEYPOINTS
        return cls.from_points(points, width, height, num_model_keypoints=n)
