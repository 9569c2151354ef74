"""The Raspberry Pi camera through picamera2 (libcamera). picamera2 is imported only in ``open``.

Colour order: picamera2 names formats the libcamera/DRM way, so ``"RGB888"`` delivers pixels
ordered ``[B, G, R]`` in the numpy array (Picamera2 manual, "Image formats"; maintainer comment
in raspberrypi/picamera2#191). That is OpenCV's BGR, which ``Frame`` wants, so no conversion is
done here. Some sensors have shipped with red and blue swapped by a driver bug
(raspberrypi/picamera2#848, #1325); that is a camera fault, not something to paper over here.

Two streams, as picamera2's own examples use the camera (``examples/hailo/pose.py``): the
``main`` stream is the live view; a backend that declares a fixed model input
(``input_size``, e.g. YOLOv8-pose's 640x640 on a Hailo) gets a ``lores`` stream sized for it
(:func:`lores_size_for`), scaled by the camera's ISP at no CPU cost, captured from the same
request as ``main`` and carried on the frame as ``PiFrame.lores``. The Pi 5's ISP (PiSP) gives
lores in ``RGB888``; a Pi 4's (VC4) only in ``YUV420``, converted here. Backends that crop
around the person themselves (BlazePose, MoveNet) keep reading ``main``: a smaller image
would only cost them detail.

The view: where the device has picamera2's hardware MJPEG encoder (Pi 4 and earlier), the
main stream is encoded by it (:mod:`hiitpi.sources.picamera_view`); elsewhere (Pi 5 has no
JPEG hardware) the engine encodes in software as for any source.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

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


LORES_ALIGN = 64  # VC4 wants YUV420 widths in multiples of 64 (else rows are padded)


@dataclass(frozen=True, slots=True)
class PiFrame(Frame):
    """A camera frame with the same exposure's low-resolution copy (BGR), when configured."""

    lores: NDArray[np.uint8] | None = None


def lores_size_for(model_input: tuple[int, int], main: tuple[int, int]) -> tuple[int, int]:
    """The lores stream for a model input of (w, h): that size, shrunk (keeping its aspect) to
    fit inside ``main`` as libcamera requires, the width a multiple of 64 and the height even."""
    mw, mh = model_input
    if mw <= 0 or mh <= 0:
        raise ValueError(f"model input must be positive, got {mw}x{mh}")
    scale = min(1.0, main[0] / mw, main[1] / mh)
    width = max(LORES_ALIGN, int(mw * scale) // LORES_ALIGN * LORES_ALIGN)
    height = max(2, round(mh * width / mw) // 2 * 2)
    return width, min(height, main[1] // 2 * 2)


def _is_pisp() -> bool:
    """True on a Pi 5 (the PiSP ISP), as picamera2 itself decides (``picamera2.platform``)."""
    try:
        from picamera2.platform import Platform, get_platform
    except ImportError:
        return False
    return bool(get_platform() == Platform.PISP)


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
        lores_size: tuple[int, int] | None = None,
    ) -> None:
        self.id = "picamera" if camera_num == 0 else f"picamera:{camera_num}"
        self.fps = float(fps) if fps else DEFAULT_FPS
        self._size = (width or DEFAULT_SIZE[0], height or DEFAULT_SIZE[1])
        self._camera_num = camera_num
        self.lores_size = lores_size
        self._lores_format = "YUV420"
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
            self._configure(cam)
            cam.start()
        except (RuntimeError, IndexError, OSError, ValueError) as exc:
            if cam is not None:
                _quietly_close(cam)
            raise SourceError(f"{self.id}: cannot start the camera: {exc}") from exc
        self._cam = cam
        self._t0 = time.monotonic()
        self._index = 0
        lores = ""
        if self.lores_size is not None:
            lores = f", lores {self.lores_size[0]}x{self.lores_size[1]} {self._lores_format}"
        log.info("%s started at %dx%d, %.0f fps%s", self.id, *self._size, self.fps, lores)

    def _configure(self, cam: Any) -> None:
        streams: dict[str, Any] = {"main": {"size": self._size, "format": "RGB888"}}
        if self.lores_size is not None:
            self._lores_format = "RGB888" if _is_pisp() else "YUV420"
            streams["lores"] = {"size": self.lores_size, "format": self._lores_format}
        config = cam.create_video_configuration(**streams, controls={"FrameRate": self.fps})
        cam.configure(config)

    def use_lores(self, model_input: tuple[int, int] | None) -> tuple[int, int] | None:
        """Add (or, with None, drop) a lores stream for this model input; restarts an open
        camera with the new configuration. Returns the lores size."""
        self.lores_size = None if model_input is None else lores_size_for(model_input, self._size)
        if self._cam is not None:
            try:
                self._cam.stop()
                self._configure(self._cam)
                self._cam.start()
            except (RuntimeError, ValueError) as exc:
                raise SourceError(f"{self.id}: cannot add the lores stream: {exc}") from exc
            log.info("%s: lores stream %s for the model", self.id, self.lores_size)
        return self.lores_size

    def hardware_view(self) -> Any:
        """The main stream's hardware MJPEG encoder (a ``CameraView``), or None where the
        device has none (Pi 5): then the engine encodes the view in software."""
        from hiitpi.sources.picamera_view import CameraView, hardware_mjpeg_available

        if self._cam is None or not hardware_mjpeg_available():
            return None
        return CameraView(self._cam)

    def read(self) -> Frame | None:
        if self._cam is None:
            raise SourceError(f"source {self.id} is not open")
        lores: NDArray[np.uint8] | None = None
        try:
            if self.lores_size is None:
                array = self._cam.capture_array("main")
            else:  # both streams of one request: the same exposure
                array, lores = self._capture_both()
        except RuntimeError as exc:
            raise SourceError(f"{self.id}: capture failed: {exc}") from exc
        t = time.monotonic() - self._t0
        if array is None:
            return None
        frame = PiFrame(_bgr(np.asarray(array)), self._index, t, self.id, lores=lores)
        self._index += 1
        return frame

    def _capture_both(self) -> tuple[Any, NDArray[np.uint8] | None]:
        request = self._cam.capture_request()
        try:
            main = request.make_array("main")
            lores = np.asarray(request.make_array("lores"))
        finally:
            request.release()
        if self._lores_format == "YUV420":  # (h * 3 / 2, w) planar I420
            width = self.lores_size[0] if self.lores_size else lores.shape[1]
            lores = cv2.cvtColor(np.ascontiguousarray(lores[:, :width]), cv2.COLOR_YUV2BGR_I420)
        return main, _bgr(lores)

    def close(self) -> None:
        cam, self._cam = self._cam, None
        if cam is not None:
            _quietly_close(cam)


def _bgr(image: NDArray[Any]) -> NDArray[np.uint8]:
    if image.ndim == 3 and image.shape[2] == 4:  # an XRGB8888 stream: [B, G, R, X]
        return np.ascontiguousarray(image[:, :, :3])
    return image


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
