"""Dashboard fixtures: the live store on the real Redis, a history store on a temporary SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hiitpi.config import Settings
from hiitpi.core.events import WorkoutState
from hiitpi.live import RedisLiveStore
from hiitpi.live.base import Command, EngineStatus
from hiitpi.store import HistoryStore
from hiitpi.web.dashboard.context import Dashboard

EVIL = "<svg/onload=alert()>"  # 20 characters: a valid name that would run as HTML
SCRIPT = "<script>alert(1)</script>"  # 25 characters: refused, and the refusal is text
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class LiveForTests:
    """The real live store on Redis (``external_store``), plus helpers that set the scene.

    Reads and writes go to the real server: the dashboard under test sees exactly what the
    engine would publish.
    """

    def __init__(self, store: RedisLiveStore) -> None:
        self.store = store
        self.station = store.station

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def publish(self, state: WorkoutState | None, **status: Any) -> None:
        self.store.publish_state(state, EngineStatus(**status))

    @property
    def commands(self) -> list[Command]:
        """Every command the dashboard sent, in order."""
        return self.store.read_commands("0-0")[1]


@pytest.fixture
def live(external_store: RedisLiveStore) -> LiveForTests:
    return LiveForTests(external_store)


@pytest.fixture
def history(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore(f"sqlite:///{tmp_path / 'history.sqlite3'}") as h:
        yield h


@pytest.fixture
def ctx(live: LiveForTests, history: HistoryStore, tmp_path: Path) -> Dashboard:
    return Dashboard(store=live.store, history=history, settings=Settings(data_dir=tmp_path))
