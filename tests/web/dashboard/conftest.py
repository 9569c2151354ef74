"""Dashboard fixtures: a fake live store (no Redis), a history store on a temporary SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hiitpi.config import Settings
from hiitpi.core.events import WorkoutState
from hiitpi.live.base import Command, EngineStatus, LiveSnapshot, Metric
from hiitpi.store import HistoryStore
from hiitpi.web.dashboard.context import Dashboard

EVIL = "<svg/onload=alert()>"  # 20 characters: a valid name that would run as HTML
SCRIPT = "<script>alert(1)</script>"  # 25 characters: refused, and the refusal is text
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@dataclass
class FakeLiveStore:
    """The read side of a LiveStore plus a command list: enough for the dashboard."""

    station: str = "test"
    snapshot: LiveSnapshot | None = None
    metric_rows: list[tuple[str, Metric]] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)

    def get_state(self) -> LiveSnapshot | None:
        return self.snapshot

    def metrics(self, since_id: str = "0-0", count: int = 500) -> list[tuple[str, Metric]]:
        after = tuple(int(x) for x in since_id.split("-"))
        rows = [(i, m) for i, m in self.metric_rows if tuple(int(x) for x in i.split("-")) > after]
        return rows[:count]

    def send_command(self, command: Command) -> str:
        self.commands.append(command)
        return f"{len(self.commands)}-0"

    def ping(self) -> bool:
        return True

    def publish(self, state: WorkoutState | None, **status: object) -> None:
        self.snapshot = LiveSnapshot(state, EngineStatus(**status), 0.0)  # type: ignore[arg-type]


@pytest.fixture
def live() -> FakeLiveStore:
    return FakeLiveStore()


@pytest.fixture
def history(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore(f"sqlite:///{tmp_path / 'history.sqlite3'}") as h:
        yield h


@pytest.fixture
def ctx(live: FakeLiveStore, history: HistoryStore, tmp_path: Path) -> Dashboard:
    return Dashboard(store=live, history=history, settings=Settings(data_dir=tmp_path))  # type: ignore[arg-type]
