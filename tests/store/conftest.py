"""History-store fixtures: every test runs on SQLite (a temporary file) and on PostgreSQL.

PostgreSQL: ``HIITPI_TEST_POSTGRES_URL`` (default: the server on 127.0.0.1:5432, database
``test``, user postgres or root) is only used to create a fresh database per test run
(``hiitpi_test_<random>``), dropped afterwards. When no server answers, the PostgreSQL half is
skipped with the reason, except under CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from hiitpi.core.events import EventKind, RepEvent
from hiitpi.store import HistoryStore

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_CANDIDATES = (
    [os.environ["HIITPI_TEST_POSTGRES_URL"]]
    if os.environ.get("HIITPI_TEST_POSTGRES_URL")
    else [
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        "postgresql+psycopg://root@127.0.0.1:5432/test",
    ]
)
BACKENDS = ["sqlite", "postgresql"]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class PostgresServer:
    """Creates throw-away databases on the test server and drops them at the end."""

    def __init__(self, admin_url: URL) -> None:
        self.admin_url = admin_url
        self.engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create_database(self) -> str:
        name = f"hiitpi_test_{uuid.uuid4().hex[:12]}"
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.engine.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.engine.dispose()


def _connect_postgres() -> tuple[PostgresServer | None, str]:
    errors = []
    for candidate in PG_CANDIDATES:
        url = make_url(candidate)
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return PostgresServer(url), ""
        except SQLAlchemyError as exc:
            first = str(getattr(exc, "orig", exc)).strip().splitlines()
            errors.append(f"{url.render_as_string()}: {first[0] if first else exc}")
        finally:
            engine.dispose()
    return None, "no PostgreSQL for the store tests (" + "; ".join(errors) + ")"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server, reason = _connect_postgres()
    if server is None:
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    yield server
    server.drop_all()


@pytest.fixture
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    """``fresh_url(backend)``: the URL of a new, empty database."""

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / f'history-{uuid.uuid4().hex[:8]}.sqlite3'}"
        server: PostgresServer = request.getfixturevalue("postgres")
        return server.create_database()

    return make


def new_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, name: str
) -> str:
    """The URL of a new, empty database on the backend ``request.param`` names."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp(name) / f'{name}.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


@pytest.fixture(scope="session", params=BACKENDS)
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One migrated database per backend for the whole run (tables emptied after each test)."""
    url = new_database_url(request, tmp_path_factory, "history")
    HistoryStore(url).close()  # migrate once
    yield url


@pytest.fixture
def history(db_url: str) -> Iterator[HistoryStore]:
    store = HistoryStore(db_url)
    yield store
    with store.engine.begin() as conn:
        for table in ("corrections", "reps", "sessions", "plan_sessions", "players"):
            conn.execute(text(f"DELETE FROM {table}"))
    store.close()


# --- builders ------------------------------------------------------------------------------------
def rep(index: int, t: float, *, quality: float = 0.9, duration: float = 1.5) -> RepEvent:
    return RepEvent(EventKind.REP, index, t, t - duration, duration, quality, 1.0)


def no_rep(
    index: int, t: float, code: str = "shallow", reason: str = "not deep enough"
) -> RepEvent:
    return RepEvent(EventKind.NO_REP, index, t, t - 1.0, 1.0, 0.3, 0.6, code, reason)


def add_session(
    history: HistoryStore,
    player: str,
    workout: str,
    started_at: datetime,
    reps: int,
    no_reps: int = 0,
    *,
    pace: float | None = None,
    finish: bool = True,
) -> int:
    """A session with ``reps`` reps (every 2 s) then ``no_reps`` no-reps, finished after 60 s."""
    sid = history.start_session(player, workout, "fake", "clip.mp4", started_at=started_at)
    events = [rep(i, 2.0 * i) for i in range(1, reps + 1)]
    events += [no_rep(i, 2.0 * (reps + i)) for i in range(1, no_reps + 1)]
    for e in events:
        history.record_event(sid, e, recorded_at=started_at + timedelta(seconds=e.t))
    if finish:
        history.finish_session(sid, pace, ended_at=started_at + timedelta(seconds=60))
    return sid
