"""Web fixtures: a live store on the real Redis under a fresh station id, and the Flask app.

Every Flask test client here is a :class:`BrowserClient`: like the station's own pages (and
Dash's renderer) it copies the ``_csrf_token`` cookie into the ``X-CSRFToken`` header of each
change. ``tests/web/test_security*.py`` use the plain ``FlaskClient`` to play other sites.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hiitpi.config import Settings
from hiitpi.live import RedisLiveStore
from hiitpi.web import create_app
from hiitpi.web.security import CSRF_COOKIE, CSRF_HEADER


class BrowserClient(FlaskClient):
    """A test client that sends the CSRF token the way the station's pages do."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        method = str(kwargs.get("method", "GET")).upper()
        if method not in ("GET", "HEAD", "OPTIONS"):
            cookie = self.get_cookie(CSRF_COOKIE)
            if cookie is None:  # a page view first: any answer sets the cookie
                super().open("/healthz")
                cookie = self.get_cookie(CSRF_COOKIE)
            headers = dict(kwargs.pop("headers", None) or {})
            if cookie is not None:
                headers.setdefault(CSRF_HEADER, cookie.value)
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


@pytest.fixture(autouse=True)
def browser_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    """``app.test_client()`` in the web tests is a browser on the station's own page."""
    monkeypatch.setattr(Flask, "test_client_class", BrowserClient)


@pytest.fixture
def store(external_store: RedisLiveStore) -> RedisLiveStore:
    """The live store on the real Redis server (tests/conftest.py: fails under CI if down)."""
    return external_store


@pytest.fixture
def app(store: RedisLiveStore) -> Iterator[Flask]:
    flask_app = create_app(store, Settings())
    yield flask_app
    flask_app.extensions["hiitpi_frames"].close()  # the frame reader ends before the store closes


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
