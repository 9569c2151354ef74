"""OpenCV sources: webcam index, video file, RTSP/HTTP stream."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

import cv2
import numpy as np
from numpy.typing import NDArray

from hiitpi.core.frame import Frame
from hiitpi.errors import SourceError

log = logging.getLogger(__name__)

_DEV_VIDEO = re.compile(r"/dev/video(\d+)")


def _is_url(uri: str) -> bool:
    return "://" in uri


def _camera_index(uri: str) -> int | None:
    """``"0"`` or ``"/dev/video0"`` -> 0; anything else -> None."""
    if uri.isdigit():
        return int(uri)
    m = _DEV_VIDEO.fullmatch(uri)
    return int(m.group(1)) if m else None


_quiet_lock = threading.Lock()
_quiet_depth = 0
_saved_level = 0


@contextmanager
def _quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's and FFmpeg's own stderr chatter while probing a source.

    A bad file or a missing camera makes them print lines like "moov atom not found" or
    "can't open camera by index"; our SourceError already says it once, in words a user can act
    on. Setting OPENCV_LOG_LEVEL or OPENCV_FFMPEG_LOGLEVEL in the environment keeps them.
    """
    global _quiet_depth, _saved_level
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # read when FFmpeg is first used
    if "OPENCV_LOG_LEVEL" in os.environ:
        yield
        return
    with _quiet_lock:
        if _quiet_depth == 0:
            _saved_level = cv2.getLogLevel()
            cv2.setLogLevel(0)  # LOG_LEVEL_SILENT
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                cv2.setLogLevel(_saved_level)


def _ffmpeg_available() -> bool:
    return bool(cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG))


class OpenCVSource:
    """Reads frames with ``cv2.VideoCapture``.

    For files, ``t`` is media time (position / fps) so offline analysis is independent of
    how fast frames are processed. For cameras and streams ``t`` is the monotonic time since
    ``open``. ``paced=True`` makes a file play at its native frame rate (a file as a camera),
    with the clock starting at the first ``read``. ``loop=True`` restarts a file at its end;
    ``index`` and ``t`` keep increasing across loops. ``frame_count`` is the file's frame
    count as its container reports it (0 when unknown or not a file).
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
        self._pending: NDArray[np.uint8] | None = None  # first frame, read by open() to validate
        self._index = 0  # frames returned since open
        self._pos = 0  # frames returned since the file (re)started
        self._t0: float | None = None
        self._loop_offset = 0.0
        self.fps = 0.0
        self._camera = _camera_index(uri)
        self.is_file = self._camera is None and not _is_url(uri)
        self._path = Path(uri).expanduser() if self.is_file else None
        self.frame_count = 0

    def open(self) -> None:
        self.close()
        with _quiet_opencv():
            if self._camera is not None:
                self._open_camera(self._camera)
            elif _is_url(self.uri):
                self._open_stream()
            else:
                self._open_file()
        self._t0 = None if self.is_file and self._paced else time.monotonic()
        self._index = self._pos = 0
        self._loop_offset = 0.0

    def _file_capture(self) -> cv2.VideoCapture:
        # FFmpeg explicitly when built in, so every build decodes files the same way (CAP_ANY
        # may try GStreamer or the image-sequence backend, which reads '%d' as a pattern).
        path = str(self._path)
        # A paced file is a camera: each frame is decoded on the capture thread while the model
        # runs on the others, so FFmpeg's frame threads buy nothing but their hand-over (one
        # thread: 10-20 % less CPU a frame at 640x360, paced or not; process_time, Zen 3).
        threads = getattr(cv2, "CAP_PROP_N_THREADS", None)
        params = [threads, 1] if self._paced and threads is not None else []
        cap = (
            cv2.VideoCapture(path, cv2.CAP_FFMPEG, params)
            if _ffmpeg_available()
            else cv2.VideoCapture(path)
        )
        # Phone videos carry their rotation as metadata (a portrait clip stored landscape); a
        # player shows them upright, and so must the pose model: a sideways person is not
        # standing up. OpenCV leaves the frames as stored unless asked.
        cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
        return cap

    def _open_file(self) -> None:
        path = self._path
        assert path is not None
        if not path.exists():
            raise SourceError(f"video file not found: {self.uri}")
        if not path.is_file():
            raise SourceError(f"not a file: {self.uri}")
        cap = self._file_capture()
        ok, image = cap.read() if cap.isOpened() else (False, None)
        if not ok or image is None:
            cap.release()
            raise SourceError(f"cannot read {self.uri}: not a video file OpenCV can decode")
        self._cap, self._pending = cap, cast(NDArray[np.uint8], image)
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 1.0 <= fps <= 240.0 else 30.0
        # FFmpeg reports -2**63 for "unknown" (e.g. a still image).
        self.frame_count = max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0))

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
        # VideoCapture on a URL can block for a long time. FFmpeg gets the deadline itself (so
        # the attempt really ends); the thread + join enforces it for any other backend. A
        # capture that opens after we gave up is released by the worker, never leaked.
        ms = int(self._timeout * 1000)
        lock = threading.Lock()
        result: list[cv2.VideoCapture] = []
        abandoned = False

        def attempt() -> None:
            if _ffmpeg_available():
                params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
                cap = cv2.VideoCapture(self.uri, cv2.CAP_FFMPEG, params)
            else:
                cap = cv2.VideoCapture(self.uri)
            ok = cap.isOpened() and cap.read()[0]
            with lock:
                if ok and not abandoned:
                    result.append(cap)
                    return
            cap.release()

        started = time.monotonic()
        worker = threading.Thread(target=attempt, daemon=True, name="hiitpi-open-stream")
        worker.start()
        worker.join(self._timeout)
        with lock:
            abandoned = not result
        if abandoned:
            elapsed = time.monotonic() - started
            why = "timed out" if elapsed >= self._timeout * 0.9 else "failed"
            raise SourceError(
                f"stream {self.uri} {why} after {elapsed:.1f} s "
                f"(open timeout {self._timeout:g} s): no video received"
            )
        self._cap = result[0]
        self.fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0) or 30.0

    def _restart_file(self) -> bool:
        """Reopen the file at its start (more robust than seeking); False if that fails."""
        assert self._cap is not None
        self._cap.release()
        self._cap = self._file_capture()
        self._loop_offset += self._pos / self.fps
        self._pos = 0
        return bool(self._cap.isOpened())

    def _next_image(self) -> NDArray[np.uint8] | None:
        assert self._cap is not None
        if self._pending is not None:
            pending, self._pending = self._pending, None
            return pending
        ok, image = self._cap.read()
        if not ok and self.is_file and self._loop and self._pos > 0 and self._restart_file():
            ok, image = self._cap.read()
        return cast(NDArray[np.uint8], image) if ok else None

    def read(self) -> Frame | None:
        if self._cap is None:
            raise SourceError(f"source {self.id} is not open")
        image = self._next_image()
        if image is None:
            return None
        if image.ndim == 2:
            image = cast(NDArray[np.uint8], cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))
        if self.is_file:
            t = self._loop_offset + self._pos / self.fps
            if self._paced:
                self._wait_until(t)
        else:
            assert self._t0 is not None
            t = time.monotonic() - self._t0
        frame = Frame(image, self._index, t, self.id)
        self._index += 1
        self._pos += 1
        return frame

    def delay(self, seconds: float) -> None:
        """A paced file resumes ``seconds`` later: the frames still to come are due that much
        later, so after a pause (the bench holds the app's capture to time the bare model in
        between its windows) the file goes on at its rate instead of catching up in a burst.
        Nothing for an unpaced file or a camera, whose frames come when they come."""
        if self._paced and self._t0 is not None:
            self._t0 += seconds

    def _wait_until(self, t: float) -> None:
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now - t
        delay = self._t0 + t - now
        if delay > 0:
            time.sleep(delay)

    def close(self) -> None:
        self._pending = None
        if self._cap is not None:
            self._cap.release()
            self._cap = None
