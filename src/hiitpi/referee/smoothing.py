"""Keypoint smoothing independent of the pose backend: One-Euro filter, EMA, or none.

Coordinates are filtered in torso-independent units (fractions of the frame's larger side) so
the same parameters suit any resolution. A keypoint that disappears restarts its filter.
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
    """

    def __init__(
        self,
        method: Smoothing = "one_euro",
        min_cutoff_hz: float = 0.5,
        beta: float = 20.0,
        d_cutoff_hz: float = 3.0,
        ema_alpha: float = 0.5,
    ) -> None:
        self.method = method
        self.min_cutoff_hz = min_cutoff_hz
        self.beta = beta
        self.d_cutoff_hz = d_cutoff_hz
        self.ema_alpha = ema_alpha
        self.reset()

    def reset(self) -> None:
        self._x: FloatArray | None = None
        self._dx: FloatArray | None = None
        self._t: float | None = None

    def __call__(self, pose: Pose, t: float) -> Pose:
        if self.method == "none":
            return pose
        scale = float(max(pose.width, pose.height))
        x = pose.xy / scale
        fresh = ~np.isfinite(x).all(axis=1)
        if self._x is None or self._t is None or self._dx is None or t <= self._t:
            out = x.copy()
            dx = np.zeros_like(x)
        else:
            dt = t - self._t
            prev = self._x
            restart = ~np.isfinite(prev).all(axis=1) | fresh
            if self.method == "ema":
                out = self.ema_alpha * x + (1.0 - self.ema_alpha) * prev
                dx = np.zeros_like(x)
            else:
                raw_dx = (x - prev) / dt
                dx = self._dx + _alpha(self.d_cutoff_hz, dt) * (raw_dx - self._dx)
                speed = np.hypot(dx[:, 0], dx[:, 1])
                cutoff = self.min_cutoff_hz + self.beta * speed
                tau = 1.0 / (2.0 * math.pi * cutoff)
                a = (1.0 / (1.0 + tau / dt))[:, None]
                out = prev + a * (x - prev)
            out[restart] = x[restart]
            dx[restart] = 0.0
        self._x, self._dx, self._t = out, dx, t
        xy = out * scale
        return Pose(
            xy,
            pose.conf.copy(),
            pose.score,
            pose.width,
            pose.height,
            pose.num_model_keypoints,
            pose.world,
        )
