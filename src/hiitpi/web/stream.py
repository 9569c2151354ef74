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

Each client holds a server thread for as long as it watches (a WSGI response is pulled by a
thread), but on plain HTTP that thread does not send each frame: once the response has started,
it hands its connection to the hub (:class:`Direct`), and the thread that brings a frame in (the
engine's, or the hub's reader) writes it to every such socket without blocking, then the viewer
threads sleep. Waking ten threads a frame to each send 17 kB cost three times the CPU of one
thread sending all ten (0.10 against 0.03 ms a viewer-frame on a 2-vCPU VM, BENCHMARKS.md). A
viewer whose socket cannot take a whole frame at once (a slow phone) is handed back to its own
thread, which writes the rest with the connection's timeout as before, so one slow client never
holds up the others. Over HTTPS (a TLS socket the hub cannot write records for) or where the
server gives no connection, every client sends its own frames.

A client that disconnects costs nothing: the WSGI server closes its generator, which drops the
viewer; waits are bounded, so a silent disconnect is noticed at the next write. Viewers share a
budget of server threads of their own (:class:`ViewerBudget`), so streams never starve the
request workers.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from enum import Enum
from typing import NamedTuple, Protocol

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


class RawOut(Protocol):
    """The connection under one streaming response, as the server gives it to the app
    (``hiitpi.web.server``: ``environ[RAW_OUT]``)."""

    def direct(self) -> Direct | None:
        """The connection for the hub to write to, once the response's headers are out; None
        where it cannot (TLS, a blocking socket, headers not sent)."""
        ...

    def close_after(self) -> None:
        """Close the connection after this response (its body was cut short)."""
        ...


RAW_OUT = "hiitpi.raw_out"  # the WSGI environ key of a :class:`RawOut`
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)  # Linux, macOS; elsewhere the dup's own mode


class Seat(Enum):
    """Who writes a direct viewer's frames now."""

    HUB = "hub"  # the hub writes each frame
    BACK = "back"  # a frame did not fit: the viewer's thread owes the rest, then goes on itself
    DEAD = "dead"  # the socket failed: the response ends
    OFF = "off"  # the viewer's thread took it back (keep-alive, stop)


class Direct:
    """A viewer's connection that the hub writes frames to itself, without blocking.

    ``sock`` is a non-blocking duplicate of the server's socket (the same open file, which the
    server's timeout already keeps non-blocking); ``chunked``: the response uses HTTP/1.1
    chunked framing, which the hub then writes around each part itself. ``send`` is the
    server's own blocking (with its timeout) send, for the rest of a frame that did not fit.
    Every write and change of :attr:`seat` is under :attr:`lock`, so the hub and the viewer's
    thread never write to the socket at once.
    """

    def __init__(self, sock: socket.socket, chunked: bool, send: Callable[[bytes], None]) -> None:
        self.sock = sock
        self.chunked = chunked
        self.send = send
        self.lock = threading.Lock()
        self.seat = Seat.HUB
        self.owed = b""  # what the hub could not write of its last frame
        self.last: Jpeg | None = None
        self.sent_at = 0.0
        self.changed = threading.Event()  # the seat left HUB

    def write(self, frame: Jpeg, data: bytes) -> None:
        """One frame from the hub (``data``: its part, framed for this response)."""
        with self.lock:
            if self.seat is not Seat.HUB:
                return
            try:  # MSG_DONTWAIT: never blocks, whatever the socket's mode
                n = self.sock.send(data, _DONTWAIT)
            except BlockingIOError:
                n = 0
            except Exception as exc:  # the client went away (OSError); never the caller's
                if not isinstance(exc, OSError):  # problem: it is the engine's thread
                    log.exception("video stream: writing a frame failed")
                self.seat = Seat.DEAD
                self.changed.set()
                return
            self.last, self.sent_at = frame, time.monotonic()
            if n == len(data):
                return
            self.owed = data[n:]  # the socket is full: its own thread goes on from here
            self.seat = Seat.BACK
            self.changed.set()

    def take_back(self) -> Seat:
        """The viewer's thread writes from now on; the seat the hub left it in."""
        with self.lock:
            seat = self.seat
            self.seat = Seat.OFF if seat is Seat.HUB else seat
            return seat

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


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
        self._direct: list[Direct] = []
        self.direct_frames = 0  # frames written by the hub to direct viewers (tests, stats)
        self.handed_back = 0  # times a direct viewer's full socket went back to its thread

    @property
    def clients(self) -> int:
        """Streams open on this hub now."""
        return self._clients

    def offer(self, jpeg: bytes) -> None:
        """A new frame from this process's engine (local hubs); wakes every waiting client.
        Ids are Redis-shaped (``<ms>-<seq>``), ascending, so they read like the store's."""
        self._publish(None, jpeg)

    def _publish(self, frame_id: str | None, jpeg: bytes) -> None:
        """A new latest frame (``frame_id`` None: offered here, numbered under the lock so ids
        ascend): wake the clients that send their own, then write it to the direct ones
        (outside the lock: a waiting client never waits on a socket)."""
        with self._cond:
            if frame_id is None:
                self._seq += 1
                self.offers += 1
                frame_id = f"{time.time_ns() // 1_000_000}-{self._seq}"
            frame = self._latest = Jpeg.of(frame_id, jpeg)
            self._cond.notify_all()
            direct = list(self._direct)
        self._write_direct(frame, direct)

    def attach(self, direct: Direct, last: Jpeg | None) -> bool:
        """The hub writes ``direct``'s next frames, unless a newer frame than ``last`` is
        already here (False: the viewer's thread sends that one first, then tries again)."""
        with self._cond:
            if self._latest is not None and (last is None or self._latest.id != last.id):
                return False
            direct.last = last
            direct.sent_at = time.monotonic()
            self._direct.append(direct)
            return True

    def detach(self, direct: Direct) -> Seat:
        """The hub stops writing for ``direct``; the seat it left it in (see :class:`Seat`)."""
        with self._cond, contextlib.suppress(ValueError):
            self._direct.remove(direct)
        return direct.take_back()

    def _write_direct(self, frame: Jpeg, direct: list[Direct]) -> None:
        """``frame`` to each direct viewer, on the thread that brought it in; a viewer whose
        socket is full or gone is handed back to its own thread (:meth:`Direct.write`)."""
        if not direct:
            return
        part = frame.part
        chunked = b"%x\r\n%b\r\n" % (len(part), part) if any(d.chunked for d in direct) else b""
        gone = []
        for d in direct:
            d.write(frame, chunked if d.chunked else part)
            if d.seat is not Seat.HUB:
                gone.append(d)
        with self._cond:
            self.direct_frames += len(direct) - len(gone)
            self.handed_back += sum(1 for d in gone if d.seat is Seat.BACK)
            for d in gone:
                with contextlib.suppress(ValueError):
                    self._direct.remove(d)

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
                self._publish(*got)
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
    started would skip its ``finally``). ``out``: the connection, for the hub to write frames
    to itself (:class:`Direct`); None: this thread sends every frame.
    """

    def __init__(
        self,
        store: LiveStore,
        hub: FrameHub,
        budget: ViewerBudget | None,
        out: RawOut | None = None,
    ) -> None:
        self._budget = budget
        self._closed = False
        self._parts = _parts(store, hub, out)

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


def _parts(store: LiveStore, hub: FrameHub, out: RawOut | None) -> Generator[bytes, None, None]:
    """Yield multipart parts until the client goes away or the app stops.

    After a part went out (so the server has sent the headers), the connection is handed to
    the hub where it can be (``out``): the thread then only wakes each ``WAIT_S`` to keep the
    viewer registered, to resend the last frame when none came for ``KEEPALIVE_S``, and to
    take the connection back when the hub hands it back (its socket was full: this thread
    writes the rest with the server's timeout, sends the next frame itself, then hands over
    again) or when it failed (the client left: the response ends).
    """
    viewer = uuid.uuid4().hex
    last: Jpeg | None = None
    direct: Direct | None = None
    touched = sent_at = 0.0
    hub.subscribe()
    try:
        sent_at = time.monotonic()
        while not hub.stopping.is_set():
            now = time.monotonic()
            if not hub.local and now - touched >= TOUCH_EVERY_S:  # a local hub counts its own
                store.touch_viewer(viewer, VIEWER_TTL_S)
                touched = now
            if direct is not None:  # the hub writes the frames
                direct.changed.wait(WAIT_S)
                now = time.monotonic()
                if direct.seat is Seat.HUB and now - max(sent_at, direct.sent_at) <= KEEPALIVE_S:
                    continue
                seat = hub.detach(direct)  # from here on the hub writes nothing more for it
                if direct.last is not None:
                    last, sent_at = direct.last, max(sent_at, direct.sent_at)
                owed, send = direct.owed, direct.send
                direct.close()
                direct = None
                if seat is Seat.DEAD:
                    return
                if owed:  # the rest of the frame the hub could not write, then this thread's;
                    send(owed)  # an OSError (timeout) goes to the server, which closes
                continue
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
            else:
                continue
            direct = out.direct() if out is not None else None
            if direct is not None and not hub.attach(direct, last):
                direct.close()  # a newer frame is here already: this thread sends it first
                direct = None
    except StoreError as exc:
        log.warning("video stream ended: %s", exc)
    except OSError as exc:  # the rest of a frame did not go out within the server's timeout:
        log.info("video stream ended: %s", exc)  # the server must close the connection, not
        raise  # end the response with its last chunk cut short and keep the connection
    finally:
        if direct is not None:
            if hub.detach(direct) is Seat.BACK and direct.owed and out is not None:
                out.close_after()  # a frame cut short: the connection cannot be reused
            direct.close()
        hub.unsubscribe()
        if not hub.local:
            with contextlib.suppress(StoreError):  # else it expires by itself
                store.drop_viewer(viewer)
