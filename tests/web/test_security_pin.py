"""The optional station PIN: required for every change, for viewing too if set so, rate-limited.

PINs here are hashed with a low scrypt cost (the hash names its own cost), so a test can try
a few without seconds of key stretching; the CLI and the page use werkzeug's default cost.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from hiitpi.config import Settings, WebConfig
from hiitpi.live import RedisLiveStore
from hiitpi.web import create_app
from hiitpi.web.security import CSRF_COOKIE, CSRF_HEADER, PIN_HEADER, Credentials
from hiitpi.web.security.credentials import PIN_FILE
from hiitpi.web.security.throttle import FREE_TRIES, PinThrottle

PIN = "2468"


def cheap_hash(pin: str) -> str:
    return generate_password_hash(pin, method="scrypt:1024:8:1")


def make_app(store: RedisLiveStore, data_dir: Path, **web: object) -> Flask:
    return create_app(store, Settings(data_dir=data_dir, web=WebConfig(**web)))  # type: ignore[arg-type]


@pytest.fixture
def locked(store: RedisLiveStore, tmp_path: Path) -> Iterator[Flask]:
    (tmp_path / PIN_FILE).write_text(cheap_hash(PIN))
    app = make_app(store, tmp_path)
    yield app
    app.extensions["hiitpi_frames"].close()


def browser(app: Flask) -> tuple[FlaskClient, dict[str, str]]:
    """A browser on the station's page, and the header its page scripts send."""
    client = FlaskClient(app)
    client.get("/login")
    return client, {CSRF_HEADER: client.get_cookie(CSRF_COOKIE).value}


def login(client: FlaskClient, headers: dict[str, str], pin: str = PIN, **kw: str):
    return client.post("/login", data={"pin": pin, **kw}, headers=headers)


def test_every_change_needs_the_pin(locked, store):
    client, headers = browser(locked)
    pos = store.last_command_id()
    for body in (
        {"action": "start", "exercise": "push_up"},
        {"action": "stop"},
        {"action": "set_player", "player": "Ann"},
        {"action": "adjust", "delta": 1},
    ):
        r = client.post("/api/command", json=body, headers=headers)
        assert r.status_code == 401, body
        assert "locked" in r.get_json()["error"]
    assert store.read_commands(pos)[1] == []
    assert client.get("/api/status").status_code == 200  # watching stays open by default
    assert login(client, headers, "1357").status_code == 401
    r = login(client, headers, next="/plain")
    assert r.status_code == 303 and r.headers["Location"] == "/plain"
    r = client.post("/api/command", json={"action": "stop"}, headers=headers)
    assert r.status_code == 202
    assert len(store.read_commands(pos)[1]) == 1


def test_login_gives_a_fresh_session_id(locked):
    client, headers = browser(locked)
    client.set_cookie("session", "a" * 32)  # an id an attacker planted before the login
    login(client, headers)
    sid = client.get_cookie("session").value
    assert sid != "a" * 32 and len(sid) == 32
    assert login(client, headers, next="//evil.example").headers["Location"] == "/"


def test_scripts_authenticate_with_the_pin_header_or_the_api_token(locked, store, tmp_path):
    script = FlaskClient(locked, use_cookies=False)
    pos = store.last_command_id()
    assert script.post("/api/command", json={"action": "stop"}).status_code == 403
    r = script.post("/api/command", json={"action": "stop"}, headers={PIN_HEADER: "0000"})
    assert r.status_code == 401
    r = script.post("/api/command", json={"action": "stop"}, headers={PIN_HEADER: PIN})
    assert r.status_code == 202
    token = Credentials(tmp_path).ensure_api_token()
    bearer = {"Authorization": f"Bearer {token}"}
    assert script.post("/api/command", json={"action": "stop"}, headers=bearer).status_code == 202
    wrong = {"Authorization": "Bearer nope"}
    assert script.post("/api/command", json={"action": "stop"}, headers=wrong).status_code == 401
    assert len(store.read_commands(pos)[1]) == 2
    # a credential does not let another site in: it cannot send these headers without a
    # preflight, and an Origin that is not the station's is refused all the same
    r = script.post(
        "/api/command", json={"action": "stop"}, headers={**bearer, "Origin": "http://evil.example"}
    )
    assert r.status_code == 403


def test_wrong_pins_are_rate_limited(locked):
    client, headers = browser(locked)
    for _ in range(FREE_TRIES + 1):
        assert login(client, headers, "0000").status_code == 401
    r = login(client, headers)  # even the right PIN waits now, and is not checked
    assert r.status_code == 429 and "try again" in r.get_data(as_text=True)
    script = FlaskClient(locked, use_cookies=False)
    r = script.post("/api/command", json={"action": "stop"}, headers={PIN_HEADER: PIN})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1  # same address


def test_the_throttle_backs_off_per_client_and_overall():
    now = [0.0]
    t = PinThrottle(clock=lambda: now[0])
    for _ in range(FREE_TRIES):
        t.failed("a")
    assert t.wait_s("a") == 0
    t.failed("a")
    assert t.wait_s("a") == 1.0 and t.wait_s("b") == 0
    now[0] += 1.0
    t.failed("a")
    assert t.wait_s("a") == 2.0
    t.succeeded("a")
    assert t.wait_s("a") == 0
    for i in range(200):  # many addresses: the global window stops them all
        t.failed(f"ip{i}")
    assert t.wait_s("fresh") > 0


def test_viewing_can_need_the_pin_too(store, tmp_path):
    (tmp_path / PIN_FILE).write_text(cheap_hash(PIN))
    app = make_app(store, tmp_path, pin_to_view=True)
    try:
        client, headers = browser(app)
        r = client.get("/plain?x=1")
        assert r.status_code == 302 and r.headers["Location"] == "/login?next=/plain%3Fx%3D1"
        assert client.get("/api/status").status_code == 401
        assert client.get("/videostream").status_code == 401
        assert client.get("/healthz").status_code in (200, 503)  # liveness stays open
        assert client.get("/api/status", headers={PIN_HEADER: PIN}).status_code == 200
        login(client, headers)
        assert client.get("/plain").status_code == 200
    finally:
        app.extensions["hiitpi_frames"].close()


def test_first_run_set_then_change_then_clear_from_the_page(store, tmp_path):
    app = make_app(store, tmp_path)
    try:
        client, headers = browser(app)
        page = client.get("/login").get_data(as_text=True)
        assert "Set a station PIN" in page
        r = client.post(
            "/login/pin", data={"action": "set", "pin": "12", "pin2": "12"}, headers=headers
        )
        assert r.status_code == 400 and "at least 4" in r.get_data(as_text=True)
        data = {"action": "set", "pin": "4321", "pin2": "4321"}
        assert client.post("/login/pin", data=data, headers=headers).status_code == 303
        stored = (tmp_path / PIN_FILE).read_text()
        assert stored.startswith("scrypt:") and "4321" not in stored  # only the hash
        assert (tmp_path / PIN_FILE).stat().st_mode & 0o077 == 0
        assert "This device is unlocked" in client.get("/login").get_data(as_text=True)

        other, other_headers = browser(app)  # a second device cannot replace the PIN
        r = other.post("/login/pin", data=data, headers=other_headers)
        assert r.status_code == 401
        login(other, other_headers, "4321")
        change = {"action": "change", "current": "4321", "pin": "98765", "pin2": "98765"}
        assert client.post("/login/pin", data=change, headers=headers).status_code == 303
        # a new PIN logs every other device out
        r = other.post("/api/command", json={"action": "stop"}, headers=other_headers)
        assert r.status_code == 401
        clear = {"action": "clear", "current": "98765"}
        assert client.post("/login/pin", data=clear, headers=headers).status_code == 200
        assert not (tmp_path / PIN_FILE).exists()
        r = other.post("/api/command", json={"action": "stop"}, headers=other_headers)
        assert r.status_code == 202  # open again
    finally:
        app.extensions["hiitpi_frames"].close()


def test_the_cli_sets_and_clears_the_pin(tmp_path, monkeypatch, capsys):
    import io

    from hiitpi.cli import main

    monkeypatch.setenv("HIITPI_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("sys.stdin", io.StringIO("5555\n"))
    assert main(["pin", "set", "--stdin"]) == 0
    creds = Credentials(tmp_path)
    assert creds.verify_pin("5555") and not creds.verify_pin("5556")
    monkeypatch.setattr("sys.stdin", io.StringIO("1\n"))
    assert main(["pin", "set", "--stdin"]) == 2
    assert "at least 4 characters" in capsys.readouterr().err
    assert main(["pin", "token"]) == 0
    token = capsys.readouterr().out.strip()
    assert creds.check_api_token(token) and len(token) >= 40
    assert main(["pin", "clear"]) == 0 and not creds.has_pin()
