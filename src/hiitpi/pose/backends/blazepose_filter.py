"""MediaPipe's landmark smoothing for BlazePose (``pose_landmark_filtering.pbtxt``), in numpy.

The legacy mediapipe backend ran with ``smooth_landmarks=True``, and the referee's thresholds
were set on its output, so the LiteRT backend smooths the same way:

- visibility: a low-pass filter, alpha 0.1 (``VisibilitySmoothingCalculator``);
- image landmarks: a One-Euro filter in pixels (min cutoff 0.05, beta 80, derivative cutoff 1),
  velocities divided by the person's size (``LandmarksSmoothingCalculator`` with
  ``OBJECT_SCALE_ROI``). That size is :func:`object_scale`: MediaPipe's filtering graph takes it
  from this frame's raw auxiliary landmarks through ``AlignmentPointsRectsCalculator`` alone,
  i.e. 2 x |scale point - hip centre|, without the x1.25 margin of the landmark model's region;
- world landmarks: One-Euro (0.1, 40, 1) without value scaling;
- the auxiliary landmarks that place the next region: One-Euro (0.01, 10, 1), same scale.

Dividing by the x1.25 region instead makes every velocity 20% smaller, so the region follows a
moving person later: on close-ups that is enough to lose the person (squat__jrplatin__2 lost 51
frames that mediapipe 0.10.14 tracked).

Every filter starts over when the person is lost, as MediaPipe's do on an empty frame.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
DEFAULT_FREQUENCY = 30.0
VISIBILITY_ALPHA = 0.1
MIN_OBJECT_SCALE = 1e-6  # pixels; guards the division when the two points coincide


class OneEuro:
    """MediaPipe's ``OneEuroFilter`` over an array of values sharing one clock."""

    def __init__(self, min_cutoff: float, beta: float, derivate_cutoff: float) -> None:
        self.min_cutoff, self.beta, self.derivate_cutoff = min_cutoff, beta, derivate_cutoff
        self.reset()

    def reset(self) -> None:
        self._frequency = DEFAULT_FREQUENCY
        self._last_t: float | None = None
        self._raw: Floats | None = None
        self._x: Floats | None = None
        self._dx: Floats | None = None

    def _alpha(self, cutoff: Floats | float) -> Floats:
        te = 1.0 / self._frequency
        tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff, dtype=np.float64))
        out: Floats = 1.0 / (1.0 + tau / te)
        return out

    def __call__(self, value: Floats, t: float, value_scale: float = 1.0) -> Floats:
        if self._last_t is not None and t <= self._last_t:
            return value  # MediaPipe skips a timestamp that does not advance
        if self._last_t is not None:
            self._frequency = 1.0 / (t - self._last_t)
        self._last_t = t
        dvalue = (
            np.zeros_like(value)
            if self._raw is None
            else (value - self._raw) * value_scale * self._frequency
        )
        self._raw = value
        if self._dx is None:
            self._dx = dvalue
        else:
            a = self._alpha(self.derivate_cutoff)
            self._dx = a * dvalue + (1.0 - a) * self._dx
        if self._x is None:
            self._x = value
        else:
            a = self._alpha(self.min_cutoff + self.beta * np.abs(self._dx))
            self._x = a * value + (1.0 - a) * self._x
        return self._x


def object_scale(aux: Floats) -> float:
    """The person's size in pixels for the filters' velocity scaling, from the (2, 2) raw
    auxiliary landmarks (hip centre, scale point): the side of MediaPipe's unexpanded
    alignment rectangle, 2 x their distance (its width and height in pixels are equal)."""
    return 2.0 * math.hypot(float(aux[1, 0] - aux[0, 0]), float(aux[1, 1] - aux[0, 1]))


class LandmarkSmoother:
    """The four filters of MediaPipe's pose landmark filtering, applied per frame."""

    def __init__(self) -> None:
        self._image = OneEuro(0.05, 80.0, 1.0)
        self._world = OneEuro(0.1, 40.0, 1.0)
        self._aux = OneEuro(0.01, 10.0, 1.0)
        self._visibility: Floats | None = None

    def reset(self) -> None:
        self._image.reset()
        self._world.reset()
        self._aux.reset()
        self._visibility = None

    def __call__(self, image: Floats, world: Floats, t: float) -> tuple[Floats, Floats]:
        """(39, 3) raw image landmarks (x, y in pixels, visibility) and (39, 3) world
        landmarks -> the same, smoothed (landmarks 33 and 34 with the auxiliary filter)."""
        scale = 1.0 / max(object_scale(image[33:35, :2]), MIN_OBJECT_SCALE)
        vis = image[:, 2]
        if self._visibility is not None:
            vis = VISIBILITY_ALPHA * vis + (1.0 - VISIBILITY_ALPHA) * self._visibility
        self._visibility = vis
        out = np.empty_like(image)
        out[:33, :2] = self._image(image[:33, :2], t, scale)
        out[33:35, :2] = self._aux(image[33:35, :2], t, scale)
        out[35:, :2] = image[35:, :2]
        out[:, 2] = vis
        smoothed_world = world.copy()
        smoothed_world[:33] = self._world(world[:33], t)
        return out, smoothed_world
