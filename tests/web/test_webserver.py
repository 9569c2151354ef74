"""The web server over real sockets (no engine, no model): the viewer budget, dropping a viewer
that never reads, HTTPS with the station's own certificate, and a clean stop."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from hiitpi.config import Settings, WebConfig
from hiitpi.live import EngineStatus, RedisLiveStore
from hiitpi.web import create_app
from hiitpi.web.server import WebServer
from hiitpi.web.tls import ensure_certificate


class Station:
    """create_app on a WebServer, with frames published by a thread as an engine would."""

    def __init__(self, store: RedisLiveStore, web: WebConfig, tls: tuple[Path, Path] | None):
        self.store = store
        self.app = create_app(store, Settings(web=web))
        self.server = WebServer(self.app, web, tls)
        self.stop_frames = threading.Event()
        self.frames = threading.Thread(target=self._publish, daemon=True)

    JPEG = b"\xff\xd8" + bytes(range(256)) * 100 + b"\xff\xd9"  # ~25 kB, a frame's size

    def _publish(self) -> None:
        while not self.stop_frames.wait(1 / 30):
            self.store.publish_state(None, EngineStatus(source="cam0", running=True, fps=30))
            self.store.put_frame(self.JPEG)

    def start(self) -> Station:
        self.store.publish_state(None, EngineStatus(source="cam0", running=True, fps=30))
        self.server.start()
        self.frames.start()
        return self

    def close(self) -> None:
        self.stop_frames.set()
        self.frames.join(2)
        self.app.extensions["hiitpi_stopping"].set()
        self.server.stop()
        self.app.extensions["hiitpi_frames"].close()


@pytest.fixture
def station(store: RedisLiveStore) -> Iterator[Station]:
    web = WebConfig(host="127.0.0.1", port=_free_port(), threads=4, max_viewers=2, timeout_s=2)
    st = Station(store, web, None).start()
    yield st
    st.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stream(port: int) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/videostream")
    return conn, conn.getresponse()


def _read_parts(stream: Any, count: int) -> list[tuple[str, bytes]]:
    """``count`` multipart parts of an MJPEG body (a file-like: an HTTPResponse or a socket's
    makefile), each checked to be whole: boundary, headers, exactly Content-Length bytes."""
    out = []
    for _ in range(count):
        assert stream.readline() == b"--frame\r\n"
        headers = {}
        while (line := stream.readline()) != b"\r\n":
            name, value = line.decode("ascii").split(":", 1)
            headers[name.lower()] = value.strip()
        jpeg = stream.read(int(headers["content-length"]))
        assert stream.read(2) == b"\r\n"
        out.append((headers["x-frame-id"], jpeg))
    return out


def _ids(frames: list[tuple[str, bytes]]) -> list[tuple[int, int]]:
    return [tuple(int(x) for x in i.split("-")) for i, _ in frames]  # type: ignore[misc]


def test_plain_http_viewers_get_whole_frames_written_by_the_hub(station: Station) -> None:
    """Over plain HTTP the hub writes each frame to the viewers' sockets itself (one thread,
    not one wake per viewer), in HTTP/1.1 chunks or, for an HTTP/1.0 client, raw."""
    port = station.server.port
    hub = station.app.extensions["hiitpi_frames"]
    (c1, r1) = _stream(port)
    old = socket.create_connection(("127.0.0.1", port), timeout=5)
    old.sendall(b"GET /videostream HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
    raw = old.makefile("rb")
    while raw.readline() != b"\r\n":  # the response's headers
        pass
    for got in (_read_parts(r1, 30), _read_parts(raw, 30)):
        assert all(jpeg == Station.JPEG for _, jpeg in got)
        ids = _ids(got)
        assert ids == sorted(set(ids))  # each frame once, in order
    assert hub.direct_frames >= 2 * 25  # all but the first frame of each, give or take a retry
    c1.close()
    raw.close()
    old.close()
    viewers = station.app.extensions["hiitpi_viewers"]
    deadline = time.monotonic() + 5
    while viewers.active and time.monotonic() < deadline:  # both noticed at the hub's next write
        time.sleep(0.05)
    assert viewers.active == 0


def test_a_slow_viewer_does_not_hold_up_the_others_and_keeps_a_whole_stream(
    station: Station,
) -> None:
    """A viewer that stops reading for a while: its socket fills, the hub hands it back to its
    own thread (which waits on it with the server's timeout), the other viewer keeps its rate,
    and when the slow one reads again its stream is still whole frames, in order."""
    port = station.server.port
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(("127.0.0.1", port))
    slow.settimeout(5)
    slow.sendall(b"GET /videostream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    fast_conn, fast = _stream(port)
    _read_parts(fast, 3)
    t0 = time.monotonic()
    # about 0.7 s while the slow one reads nothing (its server-side buffer, 256 kB, is full
    # after about 10 frames), well inside the 2 s timeout that would drop it
    during = _read_parts(fast, 20)
    assert time.monotonic() - t0 < 1.4
    assert all(j == Station.JPEG for _, j in during)
    hub = station.app.extensions["hiitpi_frames"]
    assert hub.handed_back >= 1  # the slow one's socket filled: its thread took it over
    # the slow one reads again within the 2 s timeout: chunked, so decode it with http.client
    response = http.client.HTTPResponse(slow)
    response.begin()
    assert response.status == 200
    after = _read_parts(response, 40)
    assert all(j == Station.JPEG for _, j in after)
    ids = _ids(after)
    assert ids == sorted(set(ids))
    fast_conn.close()  # now only the slow one: once it caught up, the hub writes for it again
    viewers = station.app.extensions["hiitpi_viewers"]
    deadline = time.monotonic() + 5
    while viewers.active > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert viewers.active == 1
    before = hub.direct_frames
    _read_parts(response, 20)
    assert hub.direct_frames - before >= 15
    slow.close()


def test_a_viewer_stalled_past_the_timeout_loses_its_connection_not_its_framing(
    station: Station,
) -> None:
    """A frame the hub could not finish, whose rest then times out too (2 s here): the server
    closes the connection, as for a viewer that sends its own frames, instead of ending the
    response after a cut-short chunk and keeping the connection for another request."""
    port = station.server.port
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(("127.0.0.1", port))
    stalled.sendall(b"GET /videostream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    time.sleep(3.5)  # buffers full within a second, then more than the timeout
    stalled.settimeout(5)
    stalled.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    received = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := stalled.recv(65536):  # until the server closes it
            received += chunk
    assert b"HTTP/1.1 200 OK" not in received.split(b"\r\n\r\n", 1)[1]  # no second answer
    assert station.app.extensions["hiitpi_frames"].handed_back >= 1
    stalled.close()


def test_viewers_beyond_the_budget_get_503_and_requests_still_answer(station: Station) -> None:
    port = station.server.port
    (c1, r1), (c2, r2) = _stream(port), _stream(port)
    assert r1.status == 200 and r2.status == 200
    assert r1.readline() == b"--frame\r\n"
    c3, r3 = _stream(port)
    assert r3.status == 503 and r3.getheader("Retry-After") == "10"
    assert "too many viewers" in json.loads(r3.read())["error"]
    # the request workers are not the viewers': health answers while both slots stream
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    conn.request("GET", "/healthz")
    assert conn.getresponse().status == 200
    c1.close()  # a viewer that leaves frees its slot (noticed at its next write)
    deadline = time.monotonic() + 5
    while station.app.extensions["hiitpi_viewers"].active > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    c4, r4 = _stream(port)
    assert r4.status == 200
    for c in (c2, c3, c4):
        c.close()


def test_a_viewer_that_never_reads_is_dropped_after_the_timeout(station: Station) -> None:
    port = station.server.port
    idle = socket.socket()
    idle.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    idle.connect(("127.0.0.1", port))
    idle.sendall(b"GET /videostream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    viewers = station.app.extensions["hiitpi_viewers"]
    deadline = time.monotonic() + 2
    while viewers.active == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert viewers.active == 1
    # its buffers fill in about a second at 30 frames of 25 kB; then a 2 s write timeout
    deadline = time.monotonic() + 10
    while viewers.active and time.monotonic() < deadline:
        time.sleep(0.1)
    assert viewers.active == 0  # waitress held it (and its thread) for good
    idle.close()


def test_https_with_a_self_signed_certificate_made_once(
    store: RedisLiveStore, tmp_path: Path
) -> None:
    cert, key = ensure_certificate(tmp_path / "tls", "192.168.1.23")
    assert key.stat().st_mode & 0o777 == 0o600
    san = x509.load_pem_x509_certificate(cert.read_bytes()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert "localhost" in san.value.get_values_for_type(x509.DNSName)
    ips = {str(ip) for ip in san.value.get_values_for_type(x509.IPAddress)}
    assert {"127.0.0.1", "192.168.1.23"} <= ips
    first = cert.read_bytes()
    assert ensure_certificate(tmp_path / "tls", "192.168.1.23") == (cert, key)
    assert cert.read_bytes() == first  # reused, so a browser's accepted exception stays valid
    ensure_certificate(tmp_path / "tls", "10.0.0.7")  # a new LAN address: a new certificate
    assert cert.read_bytes() != first

    web = WebConfig(host="127.0.0.1", port=_free_port(), threads=4, max_viewers=2, timeout_s=2)
    st = Station(store, web, (cert, key)).start()
    try:
        silent = socket.create_connection(("127.0.0.1", web.port))  # connects, says nothing
        ctx = ssl.create_default_context(cafile=str(cert))
        t0 = time.monotonic()
        conn = http.client.HTTPSConnection("127.0.0.1", web.port, timeout=5, context=ctx)
        conn.request("GET", "/healthz")
        resp = conn.getresponse()
        assert resp.status == 200 and json.loads(resp.read())["ok"] is True
        assert time.monotonic() - t0 < 1.5  # the silent client did not stall the handshake
        # a TLS viewer sends its own frames (the hub cannot write TLS records for it)
        conn.request("GET", "/videostream")
        frames = _read_parts(conn.getresponse(), 10)
        assert len(frames) == 10 and all(j == Station.JPEG for _, j in frames)
        assert st.app.extensions["hiitpi_frames"].direct_frames == 0
        conn.close()
        plain = http.client.HTTPConnection("127.0.0.1", web.port, timeout=3)
        with pytest.raises((OSError, http.client.HTTPException)):
            plain.request("GET", "/healthz")
            plain.getresponse().read()
        silent.close()
    finally:
        t0 = time.monotonic()
        st.close()
    assert time.monotonic() - t0 < 5


def test_stop_ends_open_streams_quickly(station: Station) -> None:
    conn, resp = _stream(station.server.port)
    assert resp.status == 200 and resp.readline() == b"--frame\r\n"
    t0 = time.monotonic()
    station.close()
    assert time.monotonic() - t0 < 5
    conn.close()


def test_an_encoded_slash_reaches_the_route_decoded(store: RedisLiveStore) -> None:
    """A player named "a/b" exports from /export/a%2Fb.csv (cheroot alone kept it encoded)."""
    web = WebConfig(host="127.0.0.1", port=_free_port(), threads=4, max_viewers=1)
    st = Station(store, web, None)
    st.app.add_url_rule("/echo/<path:name>", "echo", lambda name: name)
    st.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=5)
        conn.request("GET", "/echo/%3Csvg%2Fonload%3Dalert()%3E")
        assert conn.getresponse().read() == b"<svg/onload=alert()>"
    finally:
        st.close()


def test_the_app_serves_https_from_its_data_dir(tmp_path: Path) -> None:
    """``web.https``: the App makes the certificate on first start and reuses it after."""
    from flask import Flask

    from hiitpi.app import App

    web = WebConfig(host="127.0.0.1", port=_free_port(), threads=4, max_viewers=1, https=True)
    app = App(Settings(web=web, data_dir=tmp_path))
    flask_app = Flask("ping")
    flask_app.add_url_rule("/ping", "ping", lambda: "pong")
    made = None
    for _ in range(2):  # the second start reuses the first one's certificate
        app._start_server(flask_app)
        try:
            assert app.url.startswith("https://127.0.0.1:")
            cert = tmp_path / "tls" / "cert.pem"
            made = made or cert.read_bytes()
            assert cert.read_bytes() == made
            ctx = ssl.create_default_context(cafile=str(cert))
            conn = http.client.HTTPSConnection("127.0.0.1", app.port, timeout=5, context=ctx)
            conn.request("GET", "/ping")
            assert conn.getresponse().read() == b"pong"
            conn.close()
        finally:
            app._stop_server()
        assert app.server is None
