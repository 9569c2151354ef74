"""Flask sessions in Redis under their own database number (real server on 127.0.0.1:6379)."""

from __future__ import annotations

import redis

from hiitpi.config import Settings
from hiitpi.live.redis_store import SESSION_DB
from hiitpi.web import create_app


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
