"""The MJPEG stream: each client waits for a *new* frame; all clients get the same bytes.

A client registers itself as a viewer (a short-lived entry the engine counts, so it renders only
while somebody watches) and refreshes it while it streams. A client that disconnects costs
nothing: the WSGI server closes the generator, which drops the viewer; the generator only ever
blocks for a bounded time, so a silent disconnect is noticed at the next write.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Iterator

from hiitpi.errors import StoreError
from hiitpi.live.base import LiveStore

log = logging.getLogger(__name__)

BOUNDARY = "frame"
WAIT_S = 1.0  # one blocking read; then the viewer entry is refreshed
VIEWER_TTL_S = 5.0  # a viewer that stops refreshing is forgotten after this
KEEPALIVE_S = 5.0  # with no new frame, resend the last one this often (detects disconnects)
GIVE_UP_S = 15.0  # no frame at all for this long: end the response (the page reconnects)


def part(frame_id: str, jpeg: bytes) -> bytes:
    head = (
        f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n"
        f"X-Frame-Id: {frame_id}\r\n\r\n"
    )
    return head.encode("ascii") + jpeg + b"\r\n"


def mjpeg(store: LiveStore, stopping: threading.Event) -> Iterator[bytes]:
    """Yield multipart parts until the client goes away or the app stops."""
    viewer = uuid.uuid4().hex
    last: tuple[str, bytes] | None = None
    sent_at = time.monotonic()
    try:
        while not stopping.is_set():
            store.touch_viewer(viewer, VIEWER_TTL_S)
            got = store.wait_frame(last[0] if last else None, WAIT_S)
            now = time.monotonic()
            if got is not None:
                last, sent_at = got, now
                yield part(*got)
            elif now - sent_at > GIVE_UP_S:
                return
            elif last is not None and now - sent_at > KEEPALIVE_S:
                sent_at = now
                yield part(*last)
    except StoreError as exc:
        log.warning("video stream ended: %s", exc)
    finally:
        with contextlib.suppress(StoreError):  # else it expires by itself
            store.drop_viewer(viewer)
