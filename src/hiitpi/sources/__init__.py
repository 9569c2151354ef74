"""Video sources behind one protocol."""

from hiitpi.sources.base import VideoSource
from hiitpi.sources.factory import open_source

__all__ = ["VideoSource", "open_source"]
