"""Flask sessions in Redis under their own database number (real server on 127.0.0.1:6379)."""

from __future__ import annotations

import pytest
import redis
from flask.testing import FlaskClient

from hiitpi.config import Settings, WebConfig
from hiitpi.live.redis_store import SESSION_DB
from hiitpi.web import create_app
from hiitpi.web.security import Credentials
from hiitpi.web.security.credentials import PIN_FILE


def test_player_is_remembered_server_side_in_the_session_database(store, tmp_path):
    app = create_app(store, Settings(data_dir=tmp_path))
    client = app.test_client()
    resp = client.post("/api/command", json={"action": "set_player", "player": "Ann"})
    assert resp.status_code in (200, 202), resp.get_json()
    cookie = client.get_cookie("session")
    assert cookie is not None and len(cookie.value) == 32  # only an id in the browser
    assert "Ann" not in cookie.value

    kwargs = store.client.connection_pool.connection_kwargs
    sessions_db = redis.Redis(host=kwargs["host"], port=kwargs["port"], db=SESSION_DB)
    key = f"hiitpi:{store.station}:session:{cookie.value}"
    try:
        assert b'"Ann"' in sessions_db.get(key)
        assert 0 < sessions_db.ttl(key) <= 30 * 24 * 3600
        assert store.client.get(key) is None  # not in the live data's database
        assert "Ann" in client.get("/plain").get_data(as_text=True)
    finally:
        sessions_db.delete(key)
        sessions_db.close()


def test_a_forged_session_id_gets_a_fresh_session(store, tmp_path):
    app = create_app(store, Settings(data_dir=tmp_path))
    client = app.test_client()
    client.set_cookie("session", "../../etc/passwd")
    resp = client.post("/api/command", json={"action": "set_player", "player": "Bo"})
    assert resp.status_code in (200, 202)
    assert len(client.get_cookie("session").value) == 32


def test_commands_sent_inside_a_request_carry_the_browsers_owner_token(store, tmp_path):
    from flask import session

    from hiitpi.live import Command, CommandKind
    from hiitpi.web.sessions import OwnerStampedStore

    app = create_app(store, Settings(data_dir=tmp_path))
    stamped = OwnerStampedStore(store)
    pos = store.last_command_id()
    with app.test_request_context("/"):
        stamped.send_command(Command(CommandKind.STOP))
        token = session["owner"]
    stamped.send_command(Command(CommandKind.STOP))  # outside a request: unchanged
    _, cmds = store.read_commands(pos)
    assert [c.owner for c in cmds] == [token, None] and len(token) == 32
    assert stamped.station == store.station  # the rest is the store's
    app.extensions["hiitpi_frames"].close()


# -- when sessions are created (issue 13, finding 10) ---------------------------------------


@pytest.fixture
def sessions_db(store):
    kwargs = store.client.connection_pool.connection_kwargs
    db = redis.Redis(host=kwargs["host"], port=kwargs["port"], db=SESSION_DB)
    yield db
    for key in db.scan_iter(match=f"hiitpi:{store.station}:session*"):
        db.delete(key)
    db.close()


def session_keys(db, store) -> int:
    return sum(1 for _ in db.scan_iter(match=f"hiitpi:{store.station}:session:*", count=1000))


def plain(browser) -> str:
    return browser.get("/plain").get_data(as_text=True)


def test_cookie_less_api_calls_and_views_create_no_session(store, tmp_path, sessions_db):
    app = create_app(store, Settings(data_dir=tmp_path))
    token = Credentials(tmp_path).ensure_api_token()
    script = FlaskClient(app, use_cookies=False)  # curl: no cookies kept
    for i in range(50):
        body = {"action": "set_player", "player": f"p{i}"}
        r = script.post("/api/command", json=body, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 202
        assert "session=" not in r.headers.get("Set-Cookie", "")
        script.get("/api/status")
        script.get("/plain")
    assert session_keys(sessions_db, store) == 0
    app.extensions["hiitpi_frames"].close()


def test_sessions_are_bounded_the_least_recently_used_go(store, tmp_path, sessions_db):
    app = create_app(store, Settings(data_dir=tmp_path, web=WebConfig(max_sessions=5)))
    browsers = [app.test_client() for _ in range(8)]
    for i, b in enumerate(browsers):
        r = b.post("/api/command", json={"action": "set_player", "player": f"b{i}"})
        assert r.status_code == 202
    assert session_keys(sessions_db, store) == 5
    assert sessions_db.zcard(f"hiitpi:{store.station}:sessions") == 5
    # the player field, not the page: a random CSRF token may hold "b0"
    assert 'name="player" maxlength="20" placeholder="player name" value="b7"' in plain(browsers[7])
    assert 'placeholder="player name" value=""' in plain(browsers[0])  # the oldest lost theirs
    app.extensions["hiitpi_frames"].close()


def test_with_a_pin_only_a_login_creates_a_session(store, tmp_path, sessions_db):
    from werkzeug.security import generate_password_hash

    (tmp_path / PIN_FILE).write_text(generate_password_hash("2468", method="scrypt:1024:8:1"))
    app = create_app(store, Settings(data_dir=tmp_path))
    b = app.test_client()
    assert b.post("/api/command", json={"action": "stop"}).status_code == 401
    assert session_keys(sessions_db, store) == 0
    assert b.post("/login", data={"pin": "2468"}).status_code == 303
    assert session_keys(sessions_db, store) == 1
    assert b.post("/api/command", json={"action": "stop"}).status_code == 202
    assert session_keys(sessions_db, store) == 1
    app.extensions["hiitpi_frames"].close()
