"""Keypoint smoothing independent of the pose backend: One-Euro filter, EMA, or none.

Coordinates are filtered in torso-independent units (fractions of the frame's larger side) so
the same parameters suit any resolution; the 3D world landmarks (metres, a body is about
1.7 m) are filtered the same way with their own state. A keypoint that disappears restarts
its filter.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from hiitpi.core.pose import FloatArray, Pose

Smoothing = Literal["one_euro", "ema", "none"]


def _alpha(cutoff_hz: float, dt: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


class PoseSmoother:
    """Smooths every keypoint of successive poses; :meth:`reset` forgets the history.

    One-Euro (Casiez et al. 2012): the cutoff rises with speed, so slow jitter is removed
    while fast movements keep little lag. ``min_cutoff_hz`` and ``beta`` are per frame-size unit.
    ``world = False`` leaves out the world landmarks (for a referee that measures nothing in 3D).
    """

    def __init__(
        self,
        method: Smoothing = "one_euro",
        min_cutoff_hz: float = 0.5,
        beta: float = 20.0,
        d_cutoff_hz: float = 3.0,
        ema_alpha: float = 0.5,
        world: bool = True,
    ) -> None:
        self.method = method
        self.world = world  # smooth the 3D world landmarks too (False: the output has none)
        self.min_cutoff_hz = min_cutoff_hz
        self.beta = beta
        self.d_cutoff_hz = d_cutoff_hz
        self.ema_alpha = ema_alpha
        self.reset()

    def reset(self) -> None:
        self._image = _Track()
        self._world = _Track()

    def __call__(self, pose: Pose, t: float) -> Pose:
        if self.method == "none":
            return pose
        scale = float(max(pose.width, pose.height))
        xy = self._filter(self._image, pose.xy / scale, t) * scale
        world = pose.world if self.world else None
        if world is not None:
            world = self._filter(self._world, world, t)
        else:
            self._world = _Track()
        return Pose(
            xy,
            pose.conf.copy(),
            pose.score,
            pose.width,
            pose.height,
            pose.num_model_keypoints,
            world,
        )

    def _filter(self, track: _Track, x: FloatArray, t: float) -> FloatArray:
        """One step of the filter on rows of coordinates (any dimension)."""
        if track.x is None or track.t is None or track.dx is None or t <= track.t:
            out = x.copy()
            dx = np.zeros_like(x)
        else:
            dt = t - track.t
            prev = track.x
            restart = ~(np.isfinite(prev).all(axis=1) & np.isfinite(x).all(axis=1))
            if self.method == "ema":
                out = self.ema_alpha * x + (1.0 - self.ema_alpha) * prev
                dx = np.zeros_like(x)
            else:
                raw_dx = (x - prev) / dt
                dx = track.dx + _alpha(self.d_cutoff_hz, dt) * (raw_dx - track.dx)
                speed = np.sqrt((dx * dx).sum(axis=1))  # the rows' norms
                cutoff = self.min_cutoff_hz + self.beta * speed
                tau = 1.0 / (2.0 * math.pi * cutoff)
                a = (1.0 / (1.0 + tau / dt))[:, None]
                out = prev + a * (x - prev)
            if restart.any():  # a keypoint that (re)appears starts from itself
                out[restart] = x[restart]
                dx[restart] = 0.0
        track.x, track.dx, track.t = out, dx, t
        return out


class _Track:
    """One filter's state: the last output, its derivative and time."""

    def __init__(self) -> None:
        self.x: FloatArray | None = None
        self.dx: FloatArray | None = None
        self.t: float | None = None
