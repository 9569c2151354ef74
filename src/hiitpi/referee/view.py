"""The camera's view of the body: side, front, three-quarter or overhead, said out loud.

One frame's geometry (:func:`measure_view`):

- ``turn``: how far the body is turned away from facing the camera, 0 (front or back) to 90
  degrees (side). From the 3D world landmarks where the backend has them (BlazePose: metric,
  hip-centred, camera-aligned axes): the body's left-right axis (shoulder and hip lines) against
  the image plane, ``asin(|z|)``. Without them (17-keypoint models), from the 2D shoulder and hip
  widths relative to the torso length, ``acos(width / width facing the camera)``.
- ``toward``: how much the torso points along the camera's axis (1 = straight at it): a prone
  body filmed from its head, the "front" of a push-up.
- ``tilt``: the torso's angle from the image vertical (0 upright, 90 lying across the image).

Seen facing the camera, a standing body is a front view and a body lying on the floor (the
definition's ``[views] lying``, or a torso lying across the image) an overhead one.
:class:`ViewEstimator` smooths ``turn`` over time (an exponential filter), classifies it with
hysteresis (a class is left only past its boundary by a margin) and publishes a new view only
after it has held for ``hold_s``, so the view does not flicker; its confidence is the share of
recent frames that agree with the published view, times the torso keypoints' visibility.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from hiitpi.core.keypoints import Keypoint
from hiitpi.core.pose import Pose


class View(StrEnum):
    SIDE = "side"
    FRONT = "front"
    THREE_QUARTER = "three_quarter"
    OVERHEAD = "overhead"


ALL_VIEWS = tuple(View)
VIEW_PHRASES = {
    View.SIDE: "from the side",
    View.FRONT: "from the front",
    View.THREE_QUARTER: "at three-quarters",
    View.OVERHEAD: "from above",
}

# Boundaries of the body's turn (degrees). BlazePose's depth is compressed, so a body turned
# 45 degrees reads as about 35-40: the side boundary sits below the geometric 67.5.
FRONT_MAX_DEG = 25.0
SIDE_MIN_DEG = 50.0
MARGIN_DEG = 4.0  # hysteresis: a class is left only this far past its boundary
TOWARD_MIN = 0.6  # torso this much along the camera axis: filmed from the head (or feet)
TILT_LYING_DEG = 55.0  # a torso this far from the image vertical is lying (upright camera)
# 2D fallback: shoulder and hip widths of a body facing the camera, in torso lengths
FACING_SHOULDER = 0.72
FACING_HIP = 0.42
MIN_VISIBILITY = 0.3  # mean visibility of shoulders and hips needed to measure a frame

_TORSO = (Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER, Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP)
_TORSO_IDX = [int(k) for k in _TORSO]


@dataclass(frozen=True, slots=True)
class ViewGeometry:
    """One frame's measurements (degrees; ``toward`` in [0, 1]); ``source`` world or image."""

    turn: float
    toward: float
    tilt: float
    visibility: float
    source: str


@dataclass(frozen=True, slots=True)
class ViewReading:
    """The published view (``None`` until one has held) and how sure it is, in [0, 1]."""

    view: View | None = None
    confidence: float = 0.0
    turn: float = math.nan  # the smoothed turn, degrees


def _unit_z(v: Sequence[float]) -> float | None:
    """The z component of ``v`` made a unit vector (None when ``v`` is degenerate or unknown)."""
    x, y, z = v
    n = math.sqrt(x * x + y * y + z * z)
    finite = math.isfinite(x) and math.isfinite(y) and math.isfinite(z)
    return z / n if n > 1e-9 and finite else None


def _image_geometry(xy: Sequence[Sequence[float]]) -> tuple[float, float, float] | None:
    """Shoulder and hip widths per torso length and the torso's tilt, from the four torso
    points (left/right shoulder, left/right hip) in pixels."""
    if not all(math.isfinite(v) for p in xy for v in p):
        return None
    ls, rs, lh, rh = xy
    ax = (ls[0] + rs[0] - lh[0] - rh[0]) / 2.0
    ay = (ls[1] + rs[1] - lh[1] - rh[1]) / 2.0
    torso = math.hypot(ax, ay)
    if torso < 1e-6:
        return None
    shoulders = math.hypot(ls[0] - rs[0], ls[1] - rs[1]) / torso
    hips = math.hypot(lh[0] - rh[0], lh[1] - rh[1]) / torso
    return shoulders, hips, math.degrees(math.atan2(abs(ax), abs(ay)))


def measure_view(pose: Pose | None) -> ViewGeometry | None:
    """The view geometry of one pose; ``None`` without a usable torso."""
    if pose is None:
        return None
    conf: list[float] = pose.conf[_TORSO_IDX].tolist()
    visibility = sum(conf) / len(conf)
    image = _image_geometry(pose.xy[_TORSO_IDX].tolist())
    if visibility < MIN_VISIBILITY or image is None:
        return None
    shoulders, hips, tilt = image
    if pose.world is not None:
        ls, rs, lh, rh = pose.world[_TORSO_IDX].tolist()
        lateral_z = _unit_z([ls[i] - rs[i] + lh[i] - rh[i] for i in range(3)])
        axis_z = _unit_z([ls[i] + rs[i] - lh[i] - rh[i] for i in range(3)])
        if lateral_z is not None and axis_z is not None:
            turn = math.degrees(math.asin(min(1.0, abs(lateral_z))))
            return ViewGeometry(turn, abs(axis_z), tilt, visibility, "world")
    facing = (shoulders / FACING_SHOULDER + hips / FACING_HIP) / 2.0
    turn = math.degrees(math.acos(min(max(facing, 0.0), 1.0)))
    # a torso much shorter than the shoulders are wide points at the camera
    toward = min(max((shoulders - 1.0) / 0.5, 0.0), 1.0)
    return ViewGeometry(turn, toward, tilt, visibility, "image")


def turn_class(turn: float, current: View | None = None) -> View:
    """Front / three-quarter / side from the turn, leaving ``current`` only past a margin."""
    front_max, side_min = FRONT_MAX_DEG, SIDE_MIN_DEG
    if current in (View.FRONT, View.OVERHEAD):
        front_max += MARGIN_DEG
    elif current is View.SIDE:
        side_min -= MARGIN_DEG
    elif current is View.THREE_QUARTER:
        front_max -= MARGIN_DEG
        side_min += MARGIN_DEG
    if turn <= front_max:
        return View.FRONT
    if turn >= side_min:
        return View.SIDE
    return View.THREE_QUARTER


def classify(turn: float, toward: float, tilt: float, lying: bool, current: View | None) -> View:
    """The view for smoothed measurements; facing the camera splits into front and overhead
    (with hysteresis too: overhead stays overhead until the torso clearly points at the
    camera or clearly stands up in the image, and the reverse)."""
    view = turn_class(turn, current)
    if view is not View.FRONT:
        return view
    stay = 0.0 if current not in (View.FRONT, View.OVERHEAD) else 1.0
    sign = 1.0 if current is View.OVERHEAD else -1.0
    head_on = toward >= TOWARD_MIN + sign * stay * 0.1
    across = tilt >= TILT_LYING_DEG - sign * stay * 5.0
    if head_on:
        return View.FRONT
    return View.OVERHEAD if lying or across else View.FRONT


class ViewEstimator:
    """Smoothed, hysteretic view of one person over time (pure: feed it poses and times).

    ``lying``: the exercise is done on the floor (push-ups, planks, sit-ups), so a body facing
    the camera means the camera looks down on it. ``tau_s``: the smoothing time constant;
    ``hold_s``: how long a new view must hold before it is published; ``forget_s``: after this
    long without a measurable pose the estimate starts over.
    """

    def __init__(
        self,
        lying: bool = False,
        tau_s: float = 0.5,
        hold_s: float = 1.0,
        window_s: float = 3.0,
        forget_s: float = 5.0,
    ) -> None:
        self.lying = lying
        self.tau_s = tau_s
        self.hold_s = hold_s
        self.window_s = window_s
        self.forget_s = forget_s
        self.reset()

    def reset(self) -> None:
        self._smooth: tuple[float, float, float] | None = None
        self._t: float | None = None
        self._view: View | None = None
        self._candidate: View | None = None
        self._since = 0.0
        # the last window_s of frames: their times, instant views and torso visibilities
        self._recent_t: deque[float] = deque()
        self._recent_view: deque[View] = deque()
        self._recent_vis: deque[float] = deque()
        self._reading = ViewReading()

    @property
    def reading(self) -> ViewReading:
        return self._reading

    def update(self, pose: Pose | None, t: float) -> ViewReading:
        geometry = measure_view(pose)
        if geometry is None:
            if self._t is not None and t - self._t > self.forget_s:
                self.reset()
            return self._reading
        if self._smooth is None or self._t is None:
            turn, toward, tilt = geometry.turn, geometry.toward, geometry.tilt
        else:
            a = 1.0 - math.exp(-max(t - self._t, 0.0) / self.tau_s)
            turn, toward, tilt = self._smooth
            turn += a * (geometry.turn - turn)
            toward += a * (geometry.toward - toward)
            tilt += a * (geometry.tilt - tilt)
        self._smooth = (turn, toward, tilt)
        self._t = t
        view = classify(turn, toward, tilt, self.lying, self._view)
        self._publish(view, t)
        instant = classify(geometry.turn, geometry.toward, geometry.tilt, self.lying, None)
        self._recent_t.append(t)
        self._recent_view.append(instant)
        self._recent_vis.append(geometry.visibility)
        while self._recent_t and self._recent_t[0] < t - self.window_s:
            self._recent_t.popleft()
            self._recent_view.popleft()
            self._recent_vis.popleft()
        self._reading = ViewReading(self._view, self._confidence(), round(turn, 1))
        return self._reading

    def _publish(self, view: View, t: float) -> None:
        if view == self._view:
            self._candidate = None
            return
        if view != self._candidate:
            self._candidate, self._since = view, t
        if t - self._since >= self.hold_s:
            self._view, self._candidate = view, None

    def _confidence(self) -> float:
        n = len(self._recent_t)
        if self._view is None or not n:
            return 0.0
        agree = self._recent_view.count(self._view) / n
        visibility = sum(self._recent_vis) / n
        return round(agree * min(1.0, visibility), 3)
