"""CSRF and the Host allow-list (issue 13, finding 9): another web page cannot drive a station.

Each attack is sent the way a browser sends it for a page of another origin: cookies of the
station included (the victim's browser has them), ``Origin`` of the attacking page, a simple
form or multipart body (no preflight). The station must answer 403 and send no command.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hiitpi.config import Settings, WebConfig
from hiitpi.live import RedisLiveStore
from hiitpi.web import create_app
from hiitpi.web.security import CSRF_COOKIE, CSRF_HEADER
from hiitpi.web.security.hosts import HostAllowList, split_host

EVIL = "http://evil.example"


@pytest.fixture
def app(store: RedisLiveStore, tmp_path) -> Iterator[Flask]:
    flask_app = create_app(store, Settings(data_dir=tmp_path))
    yield flask_app
    flask_app.extensions["hiitpi_frames"].close()


def victim(app: Flask) -> tuple[FlaskClient, str]:
    """A browser that has opened the station's page: it holds the station's CSRF cookie."""
    client = FlaskClient(app, use_cookies=True)
    assert client.get("/plain").status_code == 200
    cookie = client.get_cookie(CSRF_COOKIE)
    assert cookie is not None and len(cookie.value) == 43
    return client, cookie.value


def sent(store: RedisLiveStore, since: str) -> list:
    return store.read_commands(since)[1]


@pytest.mark.parametrize(
    "body, multipart",
    [
        ({"action": "stop", "confirm": "true"}, False),  # the finding: form stop -> 303
        ({"action": "set_player", "player": "Mallory"}, True),
        ({"action": "start", "exercise": "push_up"}, False),
    ],
)
def test_a_cross_origin_form_post_changes_nothing_and_gets_403(app, store, body, multipart):
    client, _ = victim(app)
    pos = store.last_command_id()
    r = client.post(
        "/api/command",
        data=body,
        headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
        content_type="multipart/form-data" if multipart else None,
    )
    assert r.status_code == 403, r.get_data(as_text=True)
    assert "cross-origin" in r.get_json()["error"]
    assert sent(store, pos) == []


def test_without_origin_headers_a_post_still_needs_the_token(app, store):
    """Old browsers and privacy tools drop Origin: the token alone still decides."""
    client, token = victim(app)
    pos = store.last_command_id()
    r = client.post("/api/command", data={"action": "stop"})
    assert r.status_code == 403 and "CSRF token" in r.get_json()["error"]
    assert "Authorization: Bearer <token>" in r.get_json()["error"]  # what a script does
    r = client.post("/api/command", data={"action": "stop", "csrf_token": "x" * 43})
    assert r.status_code == 403
    assert sent(store, pos) == []
    # the station's own page: the same form with its hidden token field, or the header
    r = client.post("/api/command", data={"action": "stop", "csrf_token": token})
    assert r.status_code == 303  # no engine: queued, back to the page
    r = client.post("/api/command", json={"action": "stop"}, headers={CSRF_HEADER: token})
    assert r.status_code == 202
    assert len(sent(store, pos)) == 2


def test_the_right_token_from_the_wrong_origin_is_refused(app, store):
    client, token = victim(app)
    pos = store.last_command_id()
    for headers in (
        {"Origin": EVIL},
        {"Origin": "null"},  # a sandboxed frame or a file: page
        {"Origin": "http://localhost:9999"},  # another port of this machine
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        r = client.post(
            "/api/command", json={"action": "stop"}, headers={CSRF_HEADER: token, **headers}
        )
        assert r.status_code == 403, headers
    assert sent(store, pos) == []
    r = client.post(
        "/api/command",
        json={"action": "stop"},
        headers={CSRF_HEADER: token, "Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
    )
    assert r.status_code == 202  # the station's own origin


def test_a_cross_origin_dash_callback_is_refused(app, store):
    client, _ = victim(app)
    r = client.post("/_dash-update-component", json={"output": "x"}, headers={"Origin": EVIL})
    assert r.status_code == 403


def test_the_csrf_cookie_is_strict_and_readable_by_the_page(app):
    client = FlaskClient(app)
    r = client.get("/plain")
    header = next(h for h in r.headers.getlist("Set-Cookie") if h.startswith(CSRF_COOKIE))
    assert "SameSite=Strict" in header and "HttpOnly" not in header
    token = client.get_cookie(CSRF_COOKIE).value
    assert f'name="csrf_token" value="{token}"' in r.get_data(as_text=True)  # the page's forms
    r = client.get("/api/status")  # a valid cookie is kept, not replaced
    assert not any(h.startswith(CSRF_COOKIE) for h in r.headers.getlist("Set-Cookie"))


# -- the Host allow-list (DNS rebinding) ------------------------------------------------------


def test_a_foreign_host_name_gets_400_in_one_line(app):
    client = FlaskClient(app)
    for path in ("/plain", "/api/status", "/videostream", "/healthz"):
        r = client.get(path, headers={"Host": "evil.example:8050"})
        assert r.status_code == 400, path
        body = r.get_data(as_text=True)
        assert "host not allowed: evil.example:8050" in body and body.count("\n") <= 1
    r = client.post("/api/command", json={"action": "stop"}, headers={"Host": "evil.example"})
    assert r.status_code == 400


def test_the_machines_own_names_and_addresses_are_allowed(app):
    client = FlaskClient(app)
    hostname = socket.gethostname().split(".")[0]
    for host in ("localhost:8050", "127.0.0.1:8050", "[::1]:8050", hostname, f"{hostname}.local"):
        assert client.get("/api/status", headers={"Host": host}).status_code == 200, host


def test_configured_hosts_and_domains(store, tmp_path):
    web = WebConfig(allowed_hosts=["hiit.example.org", ".home.lan"])
    app = create_app(store, Settings(data_dir=tmp_path, web=web))
    try:
        client = FlaskClient(app)
        for host, code in (
            ("hiit.example.org", 200),
            ("gym.home.lan:8050", 200),
            ("home.lan", 200),
            ("evilhome.lan", 400),
            ("example.org", 400),
        ):
            assert client.get("/api/status", headers={"Host": host}).status_code == code, host
    finally:
        app.extensions["hiitpi_frames"].close()


def test_host_parsing_and_addresses():
    assert split_host("Pi.Local:8050") == ("pi.local", 8050)
    assert split_host("[fe80::1]:80") == ("fe80::1", 80)
    assert split_host("::1") == ("::1", None)
    for bad in ("", "a:b", "x:99999", "[::1", "evil.example@pi", "a b"):
        assert split_host(bad) is None, bad
    hosts = HostAllowList()
    assert hosts.allows("127.0.0.1") and hosts.allows("::1")
    assert not hosts.allows("192.0.2.77")  # TEST-NET-1: no machine's address
    assert not hosts.allows("localhost.evil.example")
    assert HostAllowList(["*"]).allows("anything.example")
