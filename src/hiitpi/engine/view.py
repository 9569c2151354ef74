"""The live view of one engine: drawn and encoded once per frame, and only while somebody
watches; all viewers share those bytes. Viewers in this process (the web of ``hiitpi serve``)
get them from a local ``FrameHub`` in memory (:attr:`LiveView.local`); viewers elsewhere,
counted in Redis, from the live store through the link, which then gets each frame too.

Either the engine draws and encodes each frame itself (:meth:`LiveView.render`), or a camera
with its own encoder (``hiitpi.sources.picamera_view``, a :class:`CameraView`) draws what
:meth:`LiveView.drawer` gives it onto its own frames. With an exercise running the picture is
the annotated frame; otherwise a blurred greyscale standby picture.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from hiitpi.core.events import WorkoutState
from hiitpi.core.pose import Pose
from hiitpi.engine.link import LiveLink
from hiitpi.render import annotate, encode_jpeg, standby

Draw = Callable[[NDArray[np.uint8]], NDArray[np.uint8]]


class CameraView(Protocol):
    """A camera's own encoder for the live view (``hiitpi.sources.picamera_view``): it draws
    ``show``'s function onto each camera frame and hands each JPEG to ``put``."""

    def start(self, put: Callable[[bytes], None], quality: int = 80) -> None: ...

    def show(self, draw: Draw | None) -> None: ...

    def stop(self) -> None: ...


class LocalFrames(Protocol):
    """Viewers in the engine's own process (``hiitpi.web.stream.FrameHub`` in local mode)."""

    @property
    def clients(self) -> int: ...

    def offer(self, jpeg: bytes) -> None: ...


class LiveView:
    """What the viewers see: handed to :attr:`local` while it has clients, and written to the
    link while the link counts viewers elsewhere (in Redis)."""

    def __init__(self, link: LiveLink, confidence_floor: float, jpeg_quality: int) -> None:
        self.link = link
        self.floor = confidence_floor
        self.quality = jpeg_quality
        self.camera: CameraView | None = None  # set before start: the camera encodes the view
        self.local: LocalFrames | None = None  # set before start: the web in this process
        self.viewers = 0
        self.remote = 0  # of ``viewers``, those counted in Redis (other processes)
        self.frames_rendered = 0

    def start(self) -> None:
        if self.camera is not None:
            self.camera.start(self._put_camera_frame, self.quality)

    def stop(self) -> None:
        if self.camera is not None:
            self.camera.stop()

    def watched(self) -> bool:
        self.remote = self.link.viewers  # the link reads it every VIEWER_CHECK_S
        self.viewers = self.remote + (self.local.clients if self.local is not None else 0)
        return self.viewers > 0

    def _put(self, jpeg: bytes) -> None:
        if self.local is not None and self.local.clients:
            self.local.offer(jpeg)
        if self.remote:
            self.link.put_frame(jpeg)
        self.frames_rendered += 1

    def drawer(self, refereeing: bool, pose: Pose | None, state: WorkoutState | None) -> Draw:
        if not refereeing:
            return standby
        floor = self.floor
        # the camera hands over its own buffer, which it copies into the encoder's
        return lambda image: annotate(image, pose, state, floor, copy=False)

    def show(self, refereeing: bool, pose: Pose | None, state: WorkoutState | None) -> None:
        """A camera with its own encoder draws this frame's picture."""
        assert self.camera is not None
        self.camera.show(self.drawer(refereeing, pose, state))

    def _put_camera_frame(self, jpeg: bytes) -> None:
        """From the camera's encoder thread: stored only while somebody watches."""
        if self.viewers > 0:
            self._put(jpeg)

    def render(
        self,
        image: NDArray[np.uint8],
        refereeing: bool,
        pose: Pose | None,
        state: WorkoutState | None,
    ) -> tuple[float, float, float]:
        """Draw, encode and store the frame; returns those three durations in ms."""
        t0 = time.perf_counter()
        if refereeing:  # drawn on the frame itself: nothing reads it after this
            image = annotate(image, pose, state, self.floor, copy=False)
        else:
            image = standby(image)
        t1 = time.perf_counter()
        jpeg = encode_jpeg(image, self.quality)
        t2 = time.perf_counter()
        self._put(jpeg)
        t3 = time.perf_counter()
        return (t1 - t0) * 1000.0, (t2 - t1) * 1000.0, (t3 - t2) * 1000.0
