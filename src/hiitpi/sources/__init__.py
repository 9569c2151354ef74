"""Video sources behind one protocol, and the live latest-frame slot they feed."""

from hiitpi.sources.base import VideoSource
from hiitpi.sources.factory import find_camera, open_source
from hiitpi.sources.live import CaptureThread, LatestFrameSlot

__all__ = ["CaptureThread", "LatestFrameSlot", "VideoSource", "find_camera", "open_source"]
