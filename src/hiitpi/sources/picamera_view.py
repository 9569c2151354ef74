"""The Pi camera's live view through picamera2's hardware MJPEG encoder (Pi 4 and earlier).

As picamera2's ``examples/mjpeg_server_2.py`` streams the camera: ``MJPEGEncoder`` on the
``main`` stream writes each JPEG to a ``FileOutput``; the skeleton and the workout panel are
drawn onto the main buffer in the camera's ``pre_callback`` (``MappedArray``), as its
``examples/hailo/pose.py`` draws its overlay, so the encoder sees the annotated picture and the
CPU never encodes. ``picamera2.encoders.MJPEGEncoder`` is the V4L2 hardware encoder only where
the ``bcm2835-codec`` device exists; on a Pi 5 picamera2 aliases it to its libav software
encoder, and then this view is not used (the engine's own software JPEG is as fast and draws
the same). Tested against the picamera2 test double only: we have no Pi.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

Drawer = Callable[[NDArray[np.uint8]], NDArray[np.uint8]]


def hardware_mjpeg_available() -> bool:
    """True when picamera2's ``MJPEGEncoder`` is its V4L2 (hardware) encoder."""
    try:
        from picamera2.encoders import MJPEGEncoder
        from picamera2.encoders.v4l2_encoder import V4L2Encoder
    except ImportError:
        return False
    return isinstance(MJPEGEncoder, type) and issubclass(MJPEGEncoder, V4L2Encoder)


class _Sink(io.BufferedIOBase):
    """``FileOutput`` target: each ``write`` is one whole JPEG from the encoder's thread."""

    def __init__(self, put: Callable[[bytes], None]) -> None:
        super().__init__()
        self._put = put

    def write(self, buf: Any) -> int:
        data = bytes(buf)
        try:
            self._put(data)
        except Exception:  # the encoder thread must survive a store outage
            log.warning("camera view: a frame could not be stored", exc_info=True)
        return len(data)


class CameraView:
    """Hardware-encoded view of the main stream with the latest overlay drawn on it.

    ``show(draw)`` sets what the next camera frames get drawn with (a function from the BGR
    main image to the annotated one); ``None`` draws nothing.
    """

    def __init__(self, cam: Any) -> None:
        self._cam = cam
        self._draw: Drawer | None = None
        self._lock = threading.Lock()
        self._encoder: Any = None

    @property
    def running(self) -> bool:
        return self._encoder is not None

    def show(self, draw: Drawer | None) -> None:
        with self._lock:
            self._draw = draw

    def _pre_callback(self, request: Any) -> None:
        from picamera2 import MappedArray

        with self._lock:
            draw = self._draw
        if draw is None:
            return
        with MappedArray(request, "main") as m:
            image = m.array[..., :3]
            image[...] = draw(np.ascontiguousarray(image))

    def start(self, put: Callable[[bytes], None], quality: int = 80) -> None:
        from picamera2.encoders import MJPEGEncoder, Quality
        from picamera2.outputs import FileOutput

        level = (
            Quality.VERY_HIGH if quality >= 90 else Quality.HIGH if quality >= 75
            else Quality.MEDIUM
        )  # fmt: skip
        encoder = MJPEGEncoder()
        self._cam.pre_callback = self._pre_callback
        self._cam.start_encoder(encoder, FileOutput(_Sink(put)), name="main", quality=level)
        self._encoder = encoder
        log.info("camera view: hardware MJPEG encoder on the main stream (%s)", level.name)

    def stop(self) -> None:
        if self._encoder is None:
            return
        try:
            self._cam.stop_encoder(self._encoder)
        except RuntimeError as exc:
            log.warning("camera view: stopping the encoder failed: %s", exc)
        finally:
            self._cam.pre_callback = None
            self._encoder = None
