"""Live capture: a latest-frame slot (size 1, drop oldest) filled by a capture thread.

Live video drops, never queues: the capture thread overwrites the slot at the source's rate and
the consumer (the engine) always gets the newest frame it has not seen yet. The shape follows
picamera2's ``examples/mjpeg_server_2.py`` (one buffer + a ``Condition`` notified on write) and
``examples/frame_server.py`` (wait for a frame newer than the previous one, so a spurious
wake-up never returns the same frame twice).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

from hiitpi.core.frame import Frame
from hiitpi.errors import SourceError
from hiitpi.sources.base import VideoSource

log = logging.getLogger(__name__)


class LatestFrameSlot:
    """Holds at most one frame; ``put`` replaces it, ``get`` waits for one not yet returned.

    Meant for one consumer: "not yet returned" is tracked per slot. A frame replaced before
    anyone took it counts in ``dropped``. ``close`` wakes waiting consumers; after it, ``get``
    still hands out a frame that is pending, then returns ``None`` at once.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._seq = 0  # number of frames put
        self._taken = 0  # value of _seq when a frame was last returned
        self._closed = False
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        with self._cond:
            if self._seq > self._taken:
                self.dropped += 1
            self._frame = frame
            self._seq += 1
            self._cond.notify_all()

    def get(self, timeout: float | None = None) -> Frame | None:
        """The newest frame not returned before; ``None`` after ``timeout`` s or once closed."""
        with self._cond:
            ready = self._cond.wait_for(lambda: self._seq > self._taken or self._closed, timeout)
            if not ready or self._seq == self._taken:
                return None
            self._taken = self._seq
            return self._frame

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def frames_put(self) -> int:
        return self._seq


class CaptureThread:
    """Reads ``source`` into ``slot`` on a daemon thread until stopped or the source ends.

    When reading stops for any reason, ``ended`` becomes true and the slot is closed, so a
    consumer blocked in ``slot.get`` wakes up. A failed read is kept in ``error`` (always a
    :class:`SourceError`, with the original exception as its cause) and logged, never lost;
    ``raise_if_failed`` re-raises it in the consumer's thread. The owner opens the source before
    ``start`` and closes it after ``stop``.
    """

    def __init__(self, source: VideoSource, slot: LatestFrameSlot) -> None:
        self.source = source
        self.slot = slot
        self.error: SourceError | None = None
        self.frames = 0
        self._stop = threading.Event()
        self._ended = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"hiitpi-capture-{source.id}", daemon=True
        )

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to stop and wait up to ``timeout`` s for its current read to return."""
        self._stop.set()
        cancel = getattr(self.source, "cancel", None)  # a reconnecting camera waits in read()
        if cancel is not None:
            cancel()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning(
                    "capture of %s still blocked in read() after %.1f s", self.source.id, timeout
                )

    def wait_ended(self, timeout: float | None = None) -> bool:
        return self._ended.wait(timeout)

    def raise_if_failed(self) -> None:
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        started = time.monotonic()
        try:
            while not self._stop.is_set():
                frame = self.source.read()
                if frame is None:
                    log.info("%s ended after %d frames", self.source.id, self.frames)
                    break
                self.frames += 1
                self.slot.put(replace(frame, captured=time.monotonic()))
        except SourceError as exc:
            self.error = exc
            log.error("capture of %s failed: %s", self.source.id, exc)
        except Exception as exc:  # any other failure must surface too, as a SourceError
            self.error = SourceError(f"reading {self.source.id} failed: {exc!r}")
            self.error.__cause__ = exc
            log.exception("capture of %s failed", self.source.id)
        finally:
            self._ended.set()
            self.slot.close()
            log.debug(
                "capture of %s: %d frames in %.1f s, %d dropped",
                self.source.id,
                self.frames,
                time.monotonic() - started,
                self.slot.dropped,
            )
