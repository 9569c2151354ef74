"""A small MJPEG-over-HTTP camera for tests: a clip's frames as multipart/x-mixed-replace JPEGs
(what phone camera apps and ESP32 cameras serve), on 127.0.0.1, that a test stops (every open
connection is cut, as when the phone's Wi-Fi drops) and starts again on the same port."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2

BOUNDARY = "frame"


def clip_jpegs(clip: Path, limit: int = 90) -> list[bytes]:
    """Up to ``limit`` frames of ``clip``, JPEG-encoded."""
    cap = cv2.VideoCapture(str(clip))
    out: list[bytes] = []
    try:
        while len(out) < limit:
            ok, image = cap.read()
            if not ok:
                break
            out.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    finally:
        cap.release()
    assert out, f"no frames in {clip}"
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MjpegServer:
    """``url`` serves the frames in a loop at ``fps`` to every client while started."""

    def __init__(self, jpegs: list[bytes], fps: float = 15.0, port: int | None = None) -> None:
        self.jpegs = jpegs
        self.fps = fps
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/stream.mjpg"
        self.sent = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._running = threading.Event()
        self._clients: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> MjpegServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                with server._lock:
                    server._clients.add(self.connection)
                try:
                    self.send_response(200)
                    self.send_header(
                        "Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}"
                    )
                    self.end_headers()
                    i = 0
                    while server._running.is_set():
                        jpeg = server.jpegs[i % len(server.jpegs)]
                        head = (
                            f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                            f"Content-Length: {len(jpeg)}\r\n\r\n"
                        )
                        self.wfile.write(head.encode() + jpeg + b"\r\n")
                        server.sent += 1
                        i += 1
                        time.sleep(1.0 / server.fps)
                except OSError:
                    pass  # the client went away, or stop() cut the connection
                finally:
                    with server._lock:
                        server._clients.discard(self.connection)

        ThreadingHTTPServer.allow_reuse_address = True
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        self._running.set()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every open stream at once."""
        self._running.clear()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        with self._lock:
            for conn in list(self._clients):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
