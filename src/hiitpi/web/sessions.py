"""Flask sessions kept in Redis, in their own database number, as the original app did.

The browser holds only a random session id (a 128-bit token in an HttpOnly cookie); the data
lives in Redis database :data:`hiitpi.live.redis_store.SESSION_DB` under the station's prefix,
so several stations sharing one Redis keep separate sessions. A Redis failure degrades to a
session that is not saved (the page still works) instead of an error page.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

import redis
from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from hiitpi.live.redis_store import SESSION_DB

log = logging.getLogger(__name__)

SESSION_TTL_S = 30 * 24 * 3600  # a device remembers its player for a month
_SID_LEN = 32  # hex characters of a session id


class RedisSession(CallbackDict[str, Any], SessionMixin):
    def __init__(self, initial: dict[str, Any] | None = None, sid: str = "", new: bool = False):
        def on_update(_: Any) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.sid = sid
        self.new = new
        self.modified = False


def session_client(client: redis.Redis) -> redis.Redis:
    """A client for the same server as ``client``, on the sessions' database number."""
    pool = client.connection_pool
    kwargs = {**pool.connection_kwargs, "db": SESSION_DB}
    return redis.Redis(connection_pool=redis.ConnectionPool(pool.connection_class, **kwargs))


class RedisSessionInterface(SessionInterface):
    def __init__(self, client: redis.Redis, station: str) -> None:
        self.client = client
        self.prefix = f"hiitpi:{station}:session:"

    def _valid(self, sid: str | None) -> bool:
        return (
            bool(sid)
            and len(sid or "") == _SID_LEN
            and all(c in "0123456789abcdef" for c in sid or "")
        )

    def open_session(self, app: Flask, request: Request) -> RedisSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        if sid is not None and self._valid(sid):
            try:
                raw = self.client.get(self.prefix + sid)
            except (redis.RedisError, OSError) as exc:
                log.warning("session store unavailable: %s", exc)
                raw = None
            if raw is not None:
                try:
                    return RedisSession(json.loads(raw), sid=sid)
                except ValueError:
                    pass
        return RedisSession(sid=secrets.token_hex(_SID_LEN // 2), new=True)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, RedisSession)
        name = self.get_cookie_name(app)
        domain, path = self.get_cookie_domain(app), self.get_cookie_path(app)
        try:
            if not session:
                if session.modified:
                    self.client.delete(self.prefix + session.sid)
                    response.delete_cookie(name, domain=domain, path=path)
                return
            if not self.should_set_cookie(app, session):
                return
            data = json.dumps(dict(session))
            self.client.set(self.prefix + session.sid, data, ex=SESSION_TTL_S)
        except (redis.RedisError, OSError) as exc:
            log.warning("session not saved: %s", exc)
            return
        response.set_cookie(
            name,
            session.sid,
            max_age=SESSION_TTL_S,
            httponly=True,
            samesite="Lax",
            domain=domain,
            path=path,
            secure=self.get_cookie_secure(app),
        )


def owner_token(session: SessionMixin) -> str:
    """This browser's owner token (random, kept in its Flask session; created on first use).

    The engine records the token of the browser that started a session: other browsers are
    viewers of it. The token never leaves the server (the API shows the owner's player name).
    """
    token = session.get("owner")
    if not isinstance(token, str) or len(token) != _SID_LEN:
        token = secrets.token_hex(_SID_LEN // 2)
        session["owner"] = token
    return token


class OwnerStampedStore:
    """The live store as a browser's request sees it: its commands carry the browser's owner
    token (from its Flask session), so a page that sends commands itself (the dashboard's
    callbacks) is held to the one-owner rule like ``POST /api/command``. Outside a request
    (the engine, scripts) commands pass unchanged. Everything else is the wrapped store's."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def send_command(self, command: Any) -> str:
        from dataclasses import replace

        from flask import has_request_context
        from flask import session as flask_session

        if command.owner is None and has_request_context():
            command = replace(command, owner=owner_token(flask_session))
        return str(self._store.send_command(command))
