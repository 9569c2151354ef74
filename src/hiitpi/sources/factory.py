"""Choose a source from a URI: a camera index, a file, a URL, ``picamera`` or ``auto``."""

from __future__ import annotations

import glob
import logging

from hiitpi.config import SourceConfig
from hiitpi.errors import SourceError
from hiitpi.sources.base import VideoSource

log = logging.getLogger(__name__)


def find_camera() -> str:
    """The first V4L2 camera index that delivers a frame; SourceError with advice when none."""
    import cv2

    # Numeric order: /dev/video10.. (on a Pi: the codec and ISP nodes) come after /dev/video2.
    suffixes = (dev.removeprefix("/dev/video") for dev in glob.glob("/dev/video*"))
    for index in sorted(int(s) for s in suffixes if s.isdigit()):
        cap = cv2.VideoCapture(index)
        try:
            if cap.isOpened() and cap.read()[0]:
                return str(index)
        finally:
            cap.release()
    raise SourceError(
        "no camera found (no working /dev/video*); pass a video file or URL, e.g. "
        "--source ~/workout.mp4 or --source rtsp://phone.local:8554/live, "
        "or --source picamera on a Raspberry Pi"
    )


def open_source(cfg: SourceConfig, *, paced: bool = False, live: bool = False) -> VideoSource:
    """Build and open the configured source. ``paced`` plays files at native speed (live use).

    ``live`` (the station): a camera or stream comes back when it drops and may be down at
    start (:class:`hiitpi.sources.reconnect.ReconnectingSource`); a file is opened as it is,
    so an unreadable one is still one clear error.
    """
    uri = cfg.uri
    if uri == "auto":
        uri = find_camera()
        log.info("using camera %s", uri)
    source: VideoSource
    if uri in ("picamera", "picamera2"):
        from hiitpi.sources.picamera import PiCameraSource

        source = PiCameraSource(width=cfg.width, height=cfg.height, fps=cfg.fps)
        if live:
            _check_picamera2()  # not installed is no outage: one clear error
    else:
        from hiitpi.sources.opencv import OpenCVSource

        source = OpenCVSource(
            uri,
            width=cfg.width,
            height=cfg.height,
            fps=cfg.fps,
            paced=paced,
            loop=cfg.loop,
            open_timeout_s=cfg.open_timeout_s,
        )
    if live and not getattr(source, "is_file", False):
        from hiitpi.sources.reconnect import ReconnectingSource, ReconnectPolicy

        policy = ReconnectPolicy(backoff_max_s=cfg.reconnect_backoff_s)
        source = ReconnectingSource(source, policy)
    source.open()
    return source


def _check_picamera2() -> None:
    from hiitpi.sources.picamera import PiCameraSource

    try:
        import picamera2  # noqa: F401
    except ImportError:
        PiCameraSource().open()  # raises the SourceError with the install hint
