"""History: players, sessions and every rep, in SQLAlchemy (SQLite file or PostgreSQL).

``open_history(settings)`` opens ``settings.database_url`` (``HIITPI_DATABASE_URL``), or the
SQLite file ``history.sqlite3`` under ``settings.data_dir`` when it is unset, and migrates it
to the newest schema (Alembic, migrations shipped in this package).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hiitpi.core.names import DEFAULT_STATION
from hiitpi.store.db import default_url, redact
from hiitpi.store.models import SessionStatus
from hiitpi.store.records import (
    BlockSummary,
    BoardRow,
    PlanSessionSummary,
    PlayerInfo,
    RepRecord,
    SessionSummary,
    WeeklyTotal,
    good_share,
)
from hiitpi.store.repository import HistoryStore, RepConflict

if TYPE_CHECKING:
    from hiitpi.config import Settings

__all__ = [
    "DEFAULT_STATION",
    "BlockSummary",
    "BoardRow",
    "HistoryStore",
    "PlanSessionSummary",
    "PlayerInfo",
    "RepConflict",
    "RepRecord",
    "SessionStatus",
    "SessionSummary",
    "WeeklyTotal",
    "database_url",
    "good_share",
    "open_history",
    "redact",
]


def database_url(settings: Settings) -> str:
    """The configured URL, or the default SQLite file under ``data_dir``."""
    return settings.database_url or default_url(settings.data_dir)


def open_history(settings: Settings) -> HistoryStore:
    """The history store of ``settings``, migrated; StoreError (URL named) when unavailable."""
    return HistoryStore(database_url(settings))
