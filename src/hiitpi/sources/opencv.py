"""OpenCV sources: webcam index, video file, RTSP/HTTP stream."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import cv2

from hiitpi.core.frame import Frame
from hiitpi.errors import SourceError

log = logging.getLogger(__name__)


def _is_url(uri: str) -> bool:
    return "://" in uri


class OpenCVSource:
    """Reads frames with ``cv2.VideoCapture``.

    For files, ``t`` is media time (frame index / fps) so offline analysis is independent of
    how fast frames are processed. For cameras and streams ``t`` is the monotonic time since
    ``open``. ``paced=True`` makes a file play at its native frame rate (a file as a camera).
    """

    def __init__(
        self,
        uri: str,
        *,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        paced: bool = False,
        loop: bool = False,
        open_timeout_s: float = 10.0,
    ) -> None:
        self.uri = uri
        self.id = uri
        self._width, self._height, self._req_fps = width, height, fps
        self._paced = paced
        self._loop = loop
        self._timeout = open_timeout_s
        self._cap: cv2.VideoCapture | None = None
        self._index = 0
        self._t0 = 0.0
        self._loop_offset = 0.0
        self.fps = 0.0
        self.is_file = not uri.isdigit() and not _is_url(uri)
        self.frame_count = 0

    def open(self) -> None:
        if self.uri.isdigit():
            self._open_camera(int(self.uri))
        elif _is_url(self.uri):
            self._open_stream()
        else:
            self._open_file()
        self._t0 = time.monotonic()
        self._index = 0

    def _open_file(self) -> None:
        path = Path(self.uri)
        if not path.exists():
            raise SourceError(f"video file not found: {self.uri}")
        if not path.is_file():
            raise SourceError(f"not a file: {self.uri}")
        cap = cv2.VideoCapture(str(path))
        ok, _ = (cap.read() if cap.isOpened() else (False, None))
        if not ok:
            cap.release()
            raise SourceError(f"cannot read {self.uri}: not a video file OpenCV can decode")
        cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
        self._cap = cap
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 1.0 <= fps <= 240.0 else 30.0
        self.frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)

    def _open_camera(self, index: int) -> None:
        cap = cv2.VideoCapture(index)
        if not cap.isOpened():
            cap.release()
            raise SourceError(
                f"camera {index} not found or busy (no /dev/video{index}?); "
                "pass a video file or URL with --source"
            )
        if self._width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self._width)
        if self._height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self._height)
        if self._req_fps:
            cap.set(cv2.CAP_PROP_FPS, self._req_fps)
        ok, _ = cap.read()
        if not ok:
            cap.release()
            raise SourceError(f"camera {index} opened but delivers no frames")
        self._cap = cap
        self.fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0) or 30.0

    def _open_stream(self) -> None:
        # VideoCapture on a URL can block for a long time; open it in a thread with a deadline.
        result: dict[str, cv2.VideoCapture] = {}

        def attempt() -> None:
            cap = cv2.VideoCapture(self.uri)
            if cap.isOpened() and cap.read()[0]:
                result["cap"] = cap
            else:
                cap.release()

        worker = threading.Thread(target=attempt, daemon=True, name="hiitpi-open-stream")
        worker.start()
        worker.join(self._timeout)
        if "cap" not in result:
            why = "timed out" if worker.is_alive() else "failed"
            raise SourceError(
                f"stream {self.uri} {why} after {self._timeout:.0f} s: no video received"
            )
        self._cap = result["cap"]
        self.fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0) or 30.0

    def read(self) -> Frame | None:
        if self._cap is None:
            raise SourceError(f"source {self.id} is not open")
        ok, image = self._cap.read()
        if not ok and self.is_file and self._loop and self._index > 0:
            self._loop_offset += self._index / self.fps
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            self._index = 0
            ok, image = self._cap.read()
        if not ok or image is None:
            return None
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        if self.is_file:
            t = self._loop_offset + self._index / self.fps
            if self._paced:
                delay = self._t0 + t - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
        else:
            t = time.monotonic() - self._t0
        frame = Frame(image, self._index, t, self.id)
        self._index += 1
        return frame

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
