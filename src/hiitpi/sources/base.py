"""The video-source protocol."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from hiitpi.core.frame import Frame


@runtime_checkable
class VideoSource(Protocol):
    """A stream of frames.

    ``open`` acquires the device/file and raises :class:`hiitpi.errors.SourceError` naming the
    source when it cannot. ``read`` returns the next frame, or ``None`` at the end of the stream
    (a file's end, or a camera that stopped delivering). ``close`` is idempotent.
    ``fps`` is the nominal frame rate (0.0 when unknown); ``id`` names the source for messages.
    """

    id: str
    fps: float

    def open(self) -> None: ...

    def read(self) -> Frame | None: ...

    def close(self) -> None: ...
