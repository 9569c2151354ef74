"""The whole station over real HTTP: App (embedded Redis, a real clip, the real model, the
engine) behind the web server; two MJPEG clients at once get the same bytes for the same frame."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from engine.clips import write_clip
from hiitpi.app import App, public_url
from hiitpi.config import PoseConfig, Settings, SourceConfig, WebConfig
from hiitpi.engine.recorder import GUEST_PLAYER
from hiitpi.errors import SourceError


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def read_parts(port: int, n: int, out: dict[str, bytes], ready: threading.Barrier) -> None:
    """Read ``n`` multipart parts from /videostream into {frame id: jpeg}."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/videostream")
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.getheader("Content-Type", "").startswith("multipart/x-mixed-replace")
    ready.wait(10)
    fp = resp  # decodes the chunked transfer encoding
    for _ in range(n):
        assert fp.readline() == b"--frame\r\n"
        headers = {}
        while (line := fp.readline()) != b"\r\n":
            key, _, value = line.decode().partition(":")
            headers[key.strip().lower()] = value.strip()
        body = fp.read(int(headers["content-length"]))
        assert fp.read(2) == b"\r\n"
        out[headers["x-frame-id"]] = body
    conn.close()


def _get_json(port: int, path: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path)
    resp = conn.getresponse()
    body = json.loads(resp.read())
    conn.close()
    return resp.status, body


def _post_json(port: int, body: dict) -> int:
    """A command from a new browser: its first page view gives it the CSRF cookie."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/healthz")
    first = conn.getresponse()
    first.read()
    token = SimpleCookie(first.headers["Set-Cookie"])["_csrf_token"].value
    headers = {
        "Content-Type": "application/json",
        "Cookie": f"_csrf_token={token}",
        "X-CSRFToken": token,
    }
    conn.request("POST", "/api/command", json.dumps(body), headers)
    status = conn.getresponse().status
    conn.close()
    return status


def _wait_status(port: int, pred: Callable[[dict], bool], timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = _get_json(port, "/api/status")[1]
        if pred(body) or time.monotonic() > deadline:
            assert pred(body), body
            return body
        time.sleep(0.05)


@pytest.mark.model
def test_two_viewers_share_frames_over_http(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", frames=60)
    settings = Settings(
        source=SourceConfig(uri=str(clip), loop=True),
        web=WebConfig(host="127.0.0.1", port=_free_port(), threads=8),
        data_dir=tmp_path / "data",
        pose=PoseConfig(),  # the machine's models folder, not under the temporary data_dir
    )
    app = App(settings, station="server-test")
    app.start()
    try:
        assert app.url == f"http://127.0.0.1:{app.port}/"
        a: dict[str, bytes] = {}
        b: dict[str, bytes] = {}
        ready = threading.Barrier(2)
        threads = [
            threading.Thread(target=read_parts, args=(app.port, 8, out, ready)) for out in (a, b)
        ]
        for t in threads:
            t.start()
        # while both streams are open, other requests are answered at once
        t0 = time.monotonic()
        status, body = _get_json(app.port, "/api/status")
        assert status == 200 and time.monotonic() - t0 < 1.0
        for t in threads:
            t.join(20)
        assert len(a) == 8 and len(b) == 8
        common = a.keys() & b.keys()
        assert len(common) >= 4, (sorted(a), sorted(b))
        assert all(a[i] == b[i] and a[i][:2] == b"\xff\xd8" for i in common)
        status, body = _get_json(app.port, "/api/status")
        assert body["engine_running"] and body["redis"]["ok"]
        assert body["source"] == str(clip) and body["backend"].startswith("blazepose")
        assert _get_json(app.port, "/healthz")[0] == 200

        # a set started and stopped from the web is recorded in the history database (unless
        # it is empty); each request here is a new browser (no cookies): ending the set the
        # first one started needs a confirmation
        assert _post_json(app.port, {"action": "start", "exercise": "squat"}) == 200  # answered
        _wait_status(app.port, lambda s: s["active"] and s["workout"] == "squat")
        assert _post_json(app.port, {"action": "stop", "confirm": True}) == 200
        _wait_status(app.port, lambda s: not s["active"])
        assert app.history is not None
        sessions = app.history.player_history(GUEST_PLAYER)
        assert all(s.workout == "squat" and s.ended_at is not None for s in sessions)
        assert all(not s.empty for s in sessions)
    finally:
        t0 = time.monotonic()
        app.stop()
        stop_s = time.monotonic() - t0
    assert stop_s < 5
    assert not (settings.data_dir / "redis" / "redis.sock").exists()  # embedded server stopped


def test_public_url_uses_the_lan_address_for_all_interfaces() -> None:
    url = public_url("0.0.0.0", 8050)
    assert url.startswith("http://") and url.endswith(":8050/") and "0.0.0.0" not in url
    assert public_url("192.168.1.5", 80) == "http://192.168.1.5:80/"


def test_a_failed_start_stops_what_was_started(tmp_path: Path) -> None:
    settings = Settings(source=SourceConfig(uri=str(tmp_path / "missing.mp4")), data_dir=tmp_path)
    app = App(settings, station="failed-start")
    with pytest.raises(SourceError, match=r"missing\.mp4"):
        app.start()
    assert app.store is None and app.engine is None and app.server is None
    assert not (tmp_path / "redis" / "redis.sock").exists()  # the embedded Redis was stopped
