"""Web fixtures: a live store on the real Redis under a fresh station id, and the Flask app."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hiitpi.config import Settings
from hiitpi.errors import StoreError
from hiitpi.live import RedisLiveStore
from hiitpi.web import create_app

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def store() -> Iterator[RedisLiveStore]:
    try:
        s = RedisLiveStore.from_url(REDIS_URL, f"test-web-{uuid.uuid4().hex[:12]}")
    except StoreError as exc:
        pytest.skip(f"no Redis on 127.0.0.1:6379: {exc}")
    yield s
    s.clear()
    s.close()


@pytest.fixture
def app(store: RedisLiveStore) -> Iterator[Flask]:
    flask_app = create_app(store, Settings())
    yield flask_app
    flask_app.extensions["hiitpi_frames"].close()  # the frame reader ends before the store closes


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
