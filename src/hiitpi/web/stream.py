"""The MJPEG stream: each client waits for a *new* frame; all clients get the same bytes.

One :class:`FrameHub` per web process reads each new frame from the live store once and wakes
every client waiting on it (a latest-frame broadcaster: a buffer plus a ``Condition``, as in
picamera2's ``mjpeg_server_2.py``), so ten viewers cost one Redis read per frame, not ten.
Each client also registers itself as a viewer (a short-lived entry the engine counts, so it
renders only while somebody watches).

A web that runs in the engine's own process (``hiitpi serve``: :class:`hiitpi.app.App`) has a
*local* hub instead: the engine hands each JPEG to it in memory (:meth:`FrameHub.offer`) and
counts its clients itself, so a frame costs no Redis write, no Redis read and no wake of a
reader thread (about 1 ms of CPU a frame with the link's state rounds, BENCHMARKS.md), and the
local viewers keep their picture while Redis is away. Viewers in other processes (another web
on the same Redis) still register in Redis, and for them the engine still writes the frames
there.

A client that disconnects costs nothing: the WSGI server closes its generator, which drops the
viewer; waits are bounded, so a silent disconnect is noticed at the next write. Viewers share a
budget of server threads of their own (:class:`ViewerBudget`), so streams never starve the
request workers.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Generator, Iterator
from typing import NamedTuple

from hiitpi.errors import StoreError
from hiitpi.live.base import LiveStore

log = logging.getLogger(__name__)

BOUNDARY = "frame"
WAIT_S = 1.0  # one blocking wait
VIEWER_TTL_S = 5.0  # a viewer that stops refreshing is forgotten after this
TOUCH_EVERY_S = 1.0
KEEPALIVE_S = 5.0  # with no new frame, resend the last one this often (detects disconnects)
GIVE_UP_S = 15.0  # no frame at all for this long: end the response (the page reconnects)


class Jpeg(NamedTuple):
    """A frame as the hub keeps it: its multipart part is built once, where the frame comes
    in, and every client sends those same bytes."""

    id: str
    jpeg: bytes
    part: bytes

    @classmethod
    def of(cls, frame_id: str, jpeg: bytes) -> Jpeg:
        return cls(frame_id, jpeg, part(frame_id, jpeg))


class FrameHub:
    """Reads new frames from the store on one thread while anyone listens; fans them out.

    ``local``: the engine of this process hands the frames over itself (:meth:`offer`); no
    reader thread, and the clients are counted here (:attr:`clients`), not in Redis.
    """

    def __init__(
        self, store: LiveStore, stopping: threading.Event | None = None, *, local: bool = False
    ) -> None:
        self.store = store
        self.stopping = stopping if stopping is not None else threading.Event()
        self.local = local
        self.reads = 0  # frames read from the store (for tests and stats)
        self.offers = 0  # frames handed over in this process (local)
        self._cond = threading.Condition()
        self._latest: Jpeg | None = None
        self._clients = 0
        self._reader: threading.Thread | None = None
        self._seq = 0

    @property
    def clients(self) -> int:
        """Streams open on this hub now."""
        return self._clients

    def offer(self, jpeg: bytes) -> None:
        """A new frame from this process's engine (local hubs); wakes every waiting client.
        Ids are Redis-shaped (``<ms>-<seq>``), ascending, so they read like the store's."""
        with self._cond:
            self._seq += 1
            self._latest = Jpeg.of(f"{time.time_ns() // 1_000_000}-{self._seq}", jpeg)
            self.offers += 1
            self._cond.notify_all()

    def subscribe(self) -> None:
        with self._cond:
            self._clients += 1
            if self._reader is None and not self.local:
                self._latest = None  # whatever is left from an earlier reader is stale
                self._reader = threading.Thread(
                    target=self._read, name="hiitpi-frames", daemon=True
                )
                self._reader.start()

    def unsubscribe(self) -> None:
        with self._cond:
            self._clients -= 1

    def wait(self, previous_id: str | None, timeout: float) -> Jpeg | None:
        """The newest frame other than ``previous_id``; None after ``timeout`` s."""
        with self._cond:
            self._cond.wait_for(
                lambda: self._latest is not None and self._latest[0] != previous_id, timeout
            )
            latest = self._latest
        return latest if latest is not None and latest[0] != previous_id else None

    def close(self, timeout: float = 2.0) -> None:
        """Stop the reader (``stopping`` must be set) and wait for it, before the store closes."""
        self.stopping.set()
        with self._cond:
            reader = self._reader
        if reader is not None:
            reader.join(timeout)

    def _read(self) -> None:
        last: str | None = None
        while not self.stopping.is_set():
            with self._cond:
                if self._clients <= 0:
                    self._reader = None
                    return
            try:
                got = self.store.wait_frame(last, WAIT_S)
            except StoreError as exc:
                log.warning("frame reader: %s", exc)
                self.stopping.wait(1.0)
                continue
            if got is not None:
                last = got[0]
                self.reads += 1
                frame = Jpeg.of(*got)
                with self._cond:
                    self._latest = frame
                    self._cond.notify_all()
        with self._cond:
            self._reader = None
            self._cond.notify_all()


def part(frame_id: str, jpeg: bytes) -> bytes:
    head = (
        f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n"
        f"X-Frame-Id: {frame_id}\r\n\r\n"
    )
    return head.encode("ascii") + jpeg + b"\r\n"


class ViewerBudget:
    """At most ``limit`` streams at once: each holds a server thread from the viewers' share of
    the pool (``hiitpi.web.server``), so they can never take the request workers."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self.active = 0

    def try_acquire(self) -> bool:
        if not self._slots.acquire(blocking=False):
            return False
        with self._lock:
            self.active += 1
        return True

    def release(self) -> None:
        with self._lock:
            self.active -= 1
        self._slots.release()


class MjpegStream:
    """A WSGI response body of multipart parts until the client goes away or the app stops.

    An iterable with ``close`` rather than a generator: the server closes it even when the
    client left before the first part, and that frees the viewer slot (a generator that never
    started would skip its ``finally``).
    """

    def __init__(self, store: LiveStore, hub: FrameHub, budget: ViewerBudget | None) -> None:
        self._budget = budget
        self._closed = False
        self._parts = _parts(store, hub)

    def __iter__(self) -> MjpegStream:
        return self

    def __next__(self) -> bytes:
        return next(self._parts)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._parts.close()
        if self._budget is not None:
            self._budget.release()


def mjpeg(store: LiveStore, hub: FrameHub) -> Iterator[bytes]:
    """The stream without a viewer budget (tests, and callers that hold their own)."""
    return MjpegStream(store, hub, None)


def _parts(store: LiveStore, hub: FrameHub) -> Generator[bytes, None, None]:
    """Yield multipart parts until the client goes away or the app stops."""
    viewer = uuid.uuid4().hex
    last: Jpeg | None = None
    touched = sent_at = 0.0
    hub.subscribe()
    try:
        sent_at = time.monotonic()
        while not hub.stopping.is_set():
            now = time.monotonic()
            if not hub.local and now - touched >= TOUCH_EVERY_S:  # a local hub counts its own
                store.touch_viewer(viewer, VIEWER_TTL_S)
                touched = now
            got = hub.wait(last.id if last else None, WAIT_S)
            now = time.monotonic()
            if got is not None:
                last, sent_at = got, now
                yield got.part
            elif now - sent_at > GIVE_UP_S:
                return
            elif last is not None and now - sent_at > KEEPALIVE_S:
                sent_at = now
                yield last.part
    except StoreError as exc:
        log.warning("video stream ended: %s", exc)
    finally:
        hub.unsubscribe()
        if not hub.local:
            with contextlib.suppress(StoreError):  # else it expires by itself
                store.drop_viewer(viewer)
