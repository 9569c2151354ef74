"""Reading a whole video in order, optionally decoded a few frames ahead on a thread.

Offline analysis must see every frame in order (unlike live video, which drops), so the
read-ahead is a bounded queue, not a latest-frame slot: the decoder blocks when it is ``depth``
frames ahead. OpenCV releases the GIL while it decodes, so decoding runs on the second core
while the model runs on the first, and the model's thread no longer waits for it.
"""

from __future__ import annotations

import logging
import queue
import threading
from types import TracebackType

from hiitpi.core.frame import Frame
from hiitpi.errors import SourceError
from hiitpi.sources.base import VideoSource

log = logging.getLogger(__name__)

# frames decoded ahead: enough to ride out one slow frame, little memory (4 x 6 MB at 1080p)
DEPTH = 4
_POLL_S = 0.25
_JOIN_S = 5.0


class _End:
    """Queued after the last frame; carries the decoder's failure, if any."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class FrameReader:
    """The frames of an open ``source``, in order; ``prefetch`` > 0 decodes that many ahead on
    a thread that starts at once (so it decodes while the model loads).

    It owns the source: the source is closed at the end of the stream, on a read failure and
    on ``close`` (idempotent; also on leaving a ``with`` block). A failed read is raised in the
    consumer, after the frames decoded before it. ``close`` stops the decoder and waits for it
    before closing the source, so a source is never closed under a read in progress.
    """

    def __init__(self, source: VideoSource, prefetch: int = 0) -> None:
        if prefetch < 0:
            raise ValueError(f"prefetch must be >= 0, got {prefetch}")
        self.source = source
        self._closed = False
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._handover = threading.Lock()  # who closes the source: close() or, late, the decoder
        self._decoder_closes = False
        self._decoding = prefetch > 0
        self._queue: queue.Queue[Frame | _End] = queue.Queue(maxsize=max(prefetch, 1))
        if prefetch:
            self._thread = threading.Thread(
                target=self._decode, name=f"hiitpi-decode-{source.id}", daemon=True
            )
            self._thread.start()

    def __iter__(self) -> FrameReader:
        return self

    def __next__(self) -> Frame:
        if self._closed:
            raise StopIteration
        try:
            frame = self._next_prefetched() if self._thread is not None else self.source.read()
        except BaseException:
            self.close()
            raise
        if frame is None:
            self.close()
            raise StopIteration
        return frame

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join(_JOIN_S)
            with self._handover:
                if self._decoding:
                    # A read blocked in a driver (a stalled stream): closing under it could
                    # crash, so the decoder closes the source itself when the read returns.
                    self._decoder_closes = True
                    log.warning(
                        "decoder of %s still in read() after %.0f s: it closes the source "
                        "when the read returns",
                        self.source.id,
                        _JOIN_S,
                    )
                    return
        self.source.close()

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- the decoder thread and its consumer -------------------------------------------------
    def _decode(self) -> None:
        error: BaseException | None = None
        try:
            while not self._stop.is_set():
                frame = self.source.read()
                if frame is None or not self._put(frame):
                    break
        except BaseException as exc:  # handed to the consumer, never lost in this thread
            error = exc
        self._put(_End(error))
        with self._handover:
            if self._decoder_closes:
                self.source.close()
            self._decoding = False

    def _put(self, item: Frame | _End) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _next_prefetched(self) -> Frame | None:
        assert self._thread is not None
        while True:
            try:
                item = self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    raise SourceError(f"the decoder of {self.source.id} stopped") from None
                continue
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return None
            return item
