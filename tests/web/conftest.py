"""Web fixtures: a live store on the real Redis under a fresh station id, and the Flask app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hiitpi.config import Settings
from hiitpi.live import RedisLiveStore
from hiitpi.web import create_app


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
