"""The HTTP(S) server: cheroot, one thread pool with a budget for viewers beside the workers.

Why cheroot, not waitress: waitress has no TLS, and HTTPS mode (the browser camera needs a
secure context) would need a second server; cheroot has a builtin TLS adapter, so one server
serves both modes. It also keeps idle keep-alive connections in a selector, not in a thread,
and each socket has a timeout, so a viewer whose socket does not drain is dropped after
``web.timeout_s`` instead of holding its thread forever (waitress blocked a worker per idle
MJPEG reader without end: 32 of them stopped the whole server, issue 13 finding 7).

An MJPEG viewer holds a thread for as long as it watches (a WSGI response is pulled by a
thread). So the pool has ``web.threads`` request workers *plus* ``web.max_viewers`` threads,
and the stream route takes a viewer slot first (``hiitpi.web.stream.ViewerBudget``): extras
get 503 "too many viewers", and streams can never take the workers that answer ``/healthz``,
``/api/status`` and the pages. BENCHMARKS.md has the measurement behind the choice.

On plain HTTP the gateway also gives the app the connection under each response
(:class:`RawConnection`, ``environ[RAW_OUT]``): a video stream's thread hands it to the frame hub,
which writes each frame to every viewer's socket from one thread (``hiitpi.web.stream``).
"""

from __future__ import annotations

import functools
import logging
import socket
import ssl
import threading
from pathlib import Path
from typing import Any

from cheroot import wsgi
from cheroot.server import HTTPConnection
from cheroot.ssl.builtin import BuiltinSSLAdapter

from hiitpi.config import WebConfig
from hiitpi.errors import ConfigError
from hiitpi.web.stream import RAW_OUT, Direct

log = logging.getLogger(__name__)

LISTEN_BACKLOG = 128  # 50 viewers that (re)connect at once are not refused
# Each connection's kernel send buffer (Linux doubles it; accepted sockets inherit it from the
# listening one). Left to autotune it grows to megabytes: seconds of stale video queued for a
# slow viewer, and an idle one that takes that long to fill it before its timeout even starts.
SEND_BUFFER_BYTES = 128 * 1024
MAX_HEADER_BYTES = 32 * 1024


class LazyHandshakeTLS(BuiltinSSLAdapter):
    """cheroot's builtin TLS adapter, with the handshake moved off the accepting thread.

    cheroot wraps each accepted socket on its one selector thread; with the handshake done
    there, one client that connects and says nothing stalls every other connection for the
    socket timeout. Deferred, the handshake runs in a worker (:class:`TLSConnection`).
    """

    def __init__(self, cert: Path, key: Path) -> None:
        super().__init__(str(cert), str(key))
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2

    def wrap(self, sock: Any) -> tuple[Any, dict[str, Any]]:
        s = self.context.wrap_socket(sock, do_handshake_on_connect=False, server_side=True)
        return s, self.get_environ(s)

    def get_environ(self, sock: Any) -> dict[str, Any]:  # type: ignore[override]
        # the parent's reads the cipher, which needs the handshake done: not yet, here
        return {"wsgi.url_scheme": "https", "HTTPS": "on"}


class TLSConnection(HTTPConnection):
    """A connection whose TLS handshake is done by the worker, before the first request.

    A client that fails it (plain HTTP on the HTTPS port, an untrusted certificate, a silent
    socket that times out) costs one log line and the connection, never a traceback.
    """

    _handshake_done = False

    def communicate(self) -> bool:
        if not self._handshake_done:
            try:
                self.socket.do_handshake()
            except (OSError, ValueError) as exc:
                log.info("TLS handshake with %s failed: %s", self.remote_addr, exc)
                return False
            self._handshake_done = True
        return bool(super().communicate())  # type: ignore[no-untyped-call]


class RawConnection:
    """One response's connection, for the frame hub to write to (:class:`hiitpi.web.stream.Direct`).

    Only plain sockets in timeout mode qualify: the hub writes with non-blocking sends on a
    duplicate of the socket, which shares its open file and so its non-blocking mode (Python
    keeps a socket with a timeout non-blocking underneath); a TLS socket's records can only
    be written by the thread that owns it.
    """

    def __init__(self, req: Any) -> None:
        self._req = req

    def direct(self) -> Direct | None:
        req = self._req
        sock = getattr(req.conn, "socket", None)
        if not req.sent_headers or not isinstance(sock, socket.socket):
            return None
        if isinstance(sock, ssl.SSLSocket) or not sock.gettimeout():
            return None
        try:
            dup = sock.dup()
        except OSError:  # out of file descriptors: this thread sends, as before
            return None
        dup.setblocking(False)
        return Direct(dup, bool(req.chunked_write), functools.partial(_send_all, sock))

    def close_after(self) -> None:
        self._req.close_connection = True


def _send_all(sock: socket.socket, data: bytes) -> None:
    """``data`` on ``sock`` as cheroot's own writer sends it: each send waits up to the socket's
    timeout, so a slow client that keeps reading is not dropped (``sendall``'s timeout would
    be one deadline for all of it)."""
    view = memoryview(data)
    while view:
        view = view[sock.send(view) :]


class Gateway(wsgi.Gateway_10):
    """cheroot's WSGI 1.0 gateway, with :class:`RawConnection` in the environ."""

    def get_environ(self) -> dict[str, Any]:  # type: ignore[override]  # stubs say None
        env: dict[str, Any] = super().get_environ()  # type: ignore[no-untyped-call]
        env[RAW_OUT] = RawConnection(self.req)
        return env


def decoded_slashes(app: Any) -> Any:
    """``app`` seeing ``%2F`` in a path as ``/``, as every other WSGI server decodes it.

    cheroot alone keeps an encoded slash encoded in ``PATH_INFO``; a player named "a/b" has an
    export URL ``/export/a%2Fb.csv``, which must reach the route as the name it encodes.
    """

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if "%2F" in path:
            environ["PATH_INFO"] = path.replace("%2F", "/")
        return app(environ, start_response)

    return wrapped


class WebServer:
    """``app`` on ``cfg.host:cfg.port`` (HTTPS with ``tls`` = (cert, key)), served on a thread."""

    def __init__(self, app: Any, cfg: WebConfig, tls: tuple[Path, Path] | None = None) -> None:
        self.cfg = cfg
        self.tls = tls is not None
        threads = cfg.threads + cfg.max_viewers
        self.server = wsgi.Server(
            (cfg.host, cfg.port),
            decoded_slashes(app),
            numthreads=threads,
            max=threads,
            request_queue_size=LISTEN_BACKLOG,
            timeout=cfg.timeout_s,  # type: ignore[arg-type]  # a socket timeout: float is fine
            shutdown_timeout=3,
            server_name="hiitpi",
        )
        self.server.gateway = Gateway
        self.server.max_request_body_size = cfg.max_body_bytes  # cheroot answers 413 itself
        self.server.max_request_header_size = MAX_HEADER_BYTES
        self.server.keep_alive_conn_limit = max(10, 2 * cfg.threads)  # idle ones cost no thread
        if tls is not None:
            self.server.ssl_adapter = LazyHandshakeTLS(*tls)
            self.server.ConnectionClass = TLSConnection
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server.bind_addr[1])

    def start(self) -> None:
        """Bind (ConfigError naming ``web.port`` if it cannot) and serve on a thread."""
        try:
            self.server.prepare()
        except OSError as exc:
            self.server.stop()  # the thread pool started before the bind failed
            raise ConfigError(
                f"web.port: cannot listen on {self.cfg.host}:{self.cfg.port}: {exc}"
            ) from None
        self.server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        self._thread = threading.Thread(target=self._serve, name="hiitpi-web", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            self.server.serve()
        except Exception:  # an interrupt raised by a worker: logged, the app's stop still runs
            log.exception("web server stopped")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, end every connection, join the workers (open streams end first)."""
        self.server.stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
