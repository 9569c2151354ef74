"""The Raspberry Pi camera through picamera2 (libcamera). picamera2 is imported only in ``open``.

Colour order: picamera2 names formats the libcamera/DRM way, so ``"RGB888"`` delivers pixels
ordered ``[B, G, R]`` in the numpy array (Picamera2 manual, "Image formats"; maintainer comment
in raspberrypi/picamera2#191). That is OpenCV's BGR, which ``Frame`` wants, so no conversion is
done here. Some sensors have shipped with red and blue swapped by a driver bug
(raspberrypi/picamera2#848, #1325); that is a camera fault, not something to paper over here.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from hiitpi.core.frame import Frame
from hiitpi.errors import SourceError

log = logging.getLogger(__name__)

DEFAULT_SIZE = (640, 480)
DEFAULT_FPS = 30.0

_INSTALL_HINT = (
    "on Raspberry Pi OS run `sudo apt install python3-picamera2` (and create the virtual "
    "environment with --system-site-packages so it can see it), or `pip install picamera2` "
    "where libcamera's Python bindings are already installed"
)


class PiCameraSource:
    """Frames from a Raspberry Pi camera module.

    ``t`` is the monotonic time since ``open``. The image is the ``main`` stream in ``RGB888``,
    which picamera2 stores as BGR bytes (see the module docstring).
    """

    def __init__(
        self,
        *,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        camera_num: int = 0,
    ) -> None:
        self.id = "picamera" if camera_num == 0 else f"picamera:{camera_num}"
        self.fps = float(fps) if fps else DEFAULT_FPS
        self._size = (width or DEFAULT_SIZE[0], height or DEFAULT_SIZE[1])
        self._camera_num = camera_num
        self._cam: Any = None
        self._t0 = 0.0
        self._index = 0

    def open(self) -> None:
        if self._cam is not None:
            self.close()
        try:
            from picamera2 import Picamera2
        except ImportError as exc:
            raise SourceError(
                f"{self.id}: the picamera2 package cannot be imported ({exc}); {_INSTALL_HINT}"
            ) from exc
        cameras = Picamera2.global_camera_info()
        if len(cameras) <= self._camera_num:
            raise SourceError(
                f"{self.id}: no Raspberry Pi camera found (libcamera sees {len(cameras)}); check "
                "the ribbon cable and `rpicam-hello --list-cameras`, or pass a camera index, "
                "video file or URL with --source"
            )
        cam = None
        try:
            cam = Picamera2(self._camera_num)
            config = cam.create_video_configuration(
                main={"size": self._size, "format": "RGB888"},
                controls={"FrameRate": self.fps},
            )
            cam.configure(config)
            cam.start()
        except (RuntimeError, IndexError, OSError, ValueError) as exc:
            if cam is not None:
                _quietly_close(cam)
            raise SourceError(f"{self.id}: cannot start the camera: {exc}") from exc
        self._cam = cam
        self._t0 = time.monotonic()
        self._index = 0
        log.info("%s started at %dx%d, %.0f fps", self.id, *self._size, self.fps)

    def read(self) -> Frame | None:
        if self._cam is None:
            raise SourceError(f"source {self.id} is not open")
        try:
            array = self._cam.capture_array("main")
        except RuntimeError as exc:
            raise SourceError(f"{self.id}: capture failed: {exc}") from exc
        t = time.monotonic() - self._t0
        if array is None:
            return None
        image = np.asarray(array)
        if image.ndim == 3 and image.shape[2] == 4:  # an XRGB8888 stream: [B, G, R, X]
            image = np.ascontiguousarray(image[:, :, :3])
        frame = Frame(image, self._index, t, self.id)
        self._index += 1
        return frame

    def close(self) -> None:
        cam, self._cam = self._cam, None
        if cam is not None:
            _quietly_close(cam)


def _quietly_close(cam: Any) -> None:
    """Stop and release the camera; a failure here is logged, never raised (close is cleanup)."""
    try:
        cam.stop()
    except RuntimeError as exc:
        log.warning("picamera2 stop failed: %s", exc)
    finally:
        try:
            cam.close()
        except RuntimeError as exc:
            log.warning("picamera2 close failed: %s", exc)
