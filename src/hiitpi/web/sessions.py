"""Flask sessions kept in Redis, in their own database number, as the original app did.

The browser holds only a random session id (a 128-bit token in an HttpOnly cookie); the data
lives in Redis database :data:`hiitpi.live.redis_store.SESSION_DB` under the station's prefix,
so several stations sharing one Redis keep separate sessions. A Redis failure degrades to a
session that is not saved (the page still works) instead of an error page.

A session is created only when the security guard allows it (:meth:`Guard.may_create_session`:
a login, or with no PIN set a browser's change that passed the CSRF check), never for a
script's cookie-less call, and at most :data:`MAX_SESSIONS` per station exist: an index (a
sorted set by last use) drops the least recently used beyond that, so no flood of requests
can fill Redis with session keys.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any

import redis
from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from hiitpi.live.redis_store import SESSION_DB

log = logging.getLogger(__name__)

SESSION_TTL_S = 30 * 24 * 3600  # a device remembers its player for a month
MAX_SESSIONS = 100  # per station: a household's phones, tablets and TVs, many times over
_SID_LEN = 32  # hex characters of a session id


class RedisSession(CallbackDict[str, Any], SessionMixin):
    def __init__(self, initial: dict[str, Any] | None = None, sid: str = "", new: bool = False):
        def on_update(_: Any) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.sid = sid
        self.new = new
        self.modified = False
        self.replaces: str | None = None  # the id a login replaced (deleted on save)

    def regenerate(self) -> None:
        """A fresh id for the same data (on login: an id known before it grants nothing)."""
        if not self.new:
            self.replaces = self.sid
        self.sid = secrets.token_hex(_SID_LEN // 2)
        self.new = True
        self.modified = True


def session_client(client: redis.Redis) -> redis.Redis:
    """A client for the same server as ``client``, on the sessions' database number."""
    pool = client.connection_pool
    kwargs = {**pool.connection_kwargs, "db": SESSION_DB}
    return redis.Redis(connection_pool=redis.ConnectionPool(pool.connection_class, **kwargs))


def _may_create(app: Flask) -> bool:
    from hiitpi.web.security import guard

    found = guard(app)
    return found is not None and found.may_create_session()


class RedisSessionInterface(SessionInterface):
    def __init__(self, client: redis.Redis, station: str, max_sessions: int = MAX_SESSIONS) -> None:
        self.client = client
        self.prefix = f"hiitpi:{station}:session:"
        self.index = f"hiitpi:{station}:sessions"  # sorted set: session id -> last use
        self.max_sessions = max_sessions

    def _store(self, session: RedisSession, data: str) -> None:
        """Write the session, note its use in the index and drop the least recently used."""
        now = time.time()
        pipe = self.client.pipeline()
        pipe.set(self.prefix + session.sid, data, ex=SESSION_TTL_S)
        pipe.zadd(self.index, {session.sid: now})
        if session.replaces:
            pipe.delete(self.prefix + session.replaces)
            pipe.zrem(self.index, session.replaces)
        pipe.zremrangebyscore(self.index, "-inf", now - SESSION_TTL_S)  # expired by their TTL
        pipe.expire(self.index, SESSION_TTL_S)
        pipe.execute()
        if session.new:
            excess = int(self.client.zcard(self.index)) - self.max_sessions
            if excess > 0:
                for item in self.client.zpopmin(self.index, excess):
                    sid = item[0]  # (member, score)
                    name = sid.decode() if isinstance(sid, bytes) else str(sid)
                    self.client.delete(self.prefix + name)

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
                    self.client.zrem(self.index, session.sid)
                    response.delete_cookie(name, domain=domain, path=path)
                return
            if not self.should_set_cookie(app, session):
                return
            if session.new and not _may_create(app):
                return  # a view or a script's call: nothing stored, no cookie
            self._store(session, json.dumps(dict(session)))
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
    (the engine, scripts) commands pass unchanged. Everything else is the wrapped store's.
    Inside a request a command also needs the guard's ``authorized()`` (the PIN), whatever
    callback sends it."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def send_command(self, command: Any) -> str:
        from dataclasses import replace

        from flask import has_request_context
        from flask import session as flask_session

        if has_request_context():
            from werkzeug.exceptions import Unauthorized

            from hiitpi.web.security import guard

            found = guard()
            if found is None or not found.authorized():  # a backstop: the guard checks first
                raise Unauthorized("this station is locked: log in with its PIN")
            if command.owner is None:
                command = replace(command, owner=owner_token(flask_session))
        return str(self._store.send_command(command))
