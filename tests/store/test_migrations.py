"""Alembic migrations shipped in the package; opening a store; errors that name the URL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from hiitpi.config import Settings, load_config
from hiitpi.errors import StoreError
from hiitpi.store import HistoryStore, database_url, open_history
from hiitpi.store import db as store_db
from hiitpi.store.models import Base

from .conftest import BACKENDS

TABLES = {"players", "sessions", "reps", "plan_sessions", "corrections"}


def _tables(store: HistoryStore) -> set[str]:
    return set(inspect(store.engine).get_table_names())


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_from_empty_to_head_then_down_to_base(
    backend: str, fresh_url: Callable[[str], str]
) -> None:
    store = HistoryStore(fresh_url(backend), migrate=False)
    try:
        assert _tables(store) == set()
        assert store_db.current_revision(store.engine) is None
        store_db.upgrade(store.engine)
        assert _tables(store) == TABLES | {"alembic_version"}
        assert store_db.current_revision(store.engine) == store_db.head_revision() == "0004"
        store.start_session("ann", "squat")
        store_db.downgrade(store.engine, "base")
        assert _tables(store) == {"alembic_version"}
        assert store_db.current_revision(store.engine) is None
        store_db.upgrade(store.engine)  # and up again
        assert _tables(store) >= TABLES
        assert store.list_players() == []
    finally:
        store.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_match_the_models(backend: str, fresh_url: Callable[[str], str]) -> None:
    with HistoryStore(fresh_url(backend)) as store, store.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []


def test_open_is_idempotent_and_reopens(db_url: str) -> None:
    with HistoryStore(db_url) as a, HistoryStore(db_url) as b:
        sid = a.start_session("ann", "squat")
        assert b.get_session(sid) is not None


def test_migrations_ship_inside_the_package() -> None:
    assert (store_db.MIGRATIONS_DIR / "env.py").is_file()
    assert list((store_db.MIGRATIONS_DIR / "versions").glob("0001_*.py"))
    cfg = store_db.alembic_config("sqlite://")
    assert cfg.config_file_name is None  # no alembic.ini needed
    assert cfg.get_main_option("script_location") == str(store_db.MIGRATIONS_DIR)


def test_open_history_defaults_to_sqlite_under_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert database_url(settings).startswith("sqlite:///")
    with open_history(settings) as store:
        store.start_session("ann", "squat")
    assert (tmp_path / "data" / "history.sqlite3").is_file()


def test_open_history_uses_the_configured_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    settings = load_config(env={"HIITPI_DATABASE_URL": url})
    with open_history(settings) as store:
        assert store.url == url
    assert (tmp_path / "elsewhere.db").is_file()


@pytest.mark.parametrize(
    ("url", "shown", "hint"),
    [
        (
            "postgresql+psycopg://hiitpi:s3cret@127.0.0.1:1/history",
            "postgresql+psycopg://hiitpi:***@127.0.0.1:1/history",
            "connecting",
        ),
        (  # plain postgresql:// means psycopg 3 (the driver shipped)
            "postgresql://hiitpi:s3cret@127.0.0.1:1/history",
            "postgresql+psycopg://hiitpi:***@127.0.0.1:1/history",
            "connecting",
        ),
        ("mysql://root:s3cret@localhost/x", "mysql://root:***@localhost/x", "no driver"),
        ("nope://u:s3cret@host/x", "nope://u:***@host/x", "no driver"),
        ("not a url at all", "not a url at all", "not a valid SQLAlchemy URL"),
        ("sqlite:////nonexistent-dir/h.db", "sqlite:////nonexistent-dir/h.db", "connecting"),
    ],
)
def test_bad_urls_raise_store_error_without_password(url: str, shown: str, hint: str) -> None:
    with pytest.raises(StoreError) as info:
        HistoryStore(url)
    message = str(info.value)
    assert shown in message and hint in message
    assert "s3cret" not in message
    assert "\n" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no chained trace


def test_redact() -> None:
    assert store_db.redact("postgresql://u:p%40ss@h/db") == "postgresql://u:***@h/db"
    assert store_db.redact("sqlite:///x.db") == "sqlite:///x.db"
    assert store_db.redact("garbage://u:pw@") in ("garbage://u:***@", "garbage://u:***@/")


OPEN_AND_WRITE = (
    "import sys\n"
    "from hiitpi.store import HistoryStore\n"
    "with HistoryStore(sys.argv[1]) as h:\n"
    "    h.start_session(sys.argv[2], 'squat')\n"
)


@pytest.mark.parametrize("backend", BACKENDS)
def test_processes_opening_a_new_database_at_once(
    backend: str, fresh_url: Callable[[str], str]
) -> None:
    """Engine and web processes may both be first to open (and so migrate) a database."""
    url = fresh_url(backend)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AND_WRITE, url, f"p{i}"], stderr=subprocess.PIPE
        )
        for i in range(2)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * 2, errors
    with HistoryStore(url) as store:
        assert sorted(p.name for p in store.list_players()) == ["p0", "p1"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_0002_keeps_the_sets_of_a_0001_database(
    backend: str, fresh_url: Callable[[str], str]
) -> None:
    from sqlalchemy import text

    store = HistoryStore(fresh_url(backend), migrate=False)
    try:
        store_db.upgrade(store.engine, "0001")
        with store.engine.begin() as conn:
            conn.execute(text("INSERT INTO players (id, name, created_at) VALUES (1, 'ann', "
                              "CURRENT_TIMESTAMP)"))  # fmt: skip
            conn.execute(text(
                "INSERT INTO sessions (id, player_id, workout, station, started_at, reps, no_reps,"
                " backend, source, status) VALUES (1, 1, 'squat', 'default', CURRENT_TIMESTAMP,"
                " 7, 1, '', '', 'done')"
            ))  # fmt: skip
        store_db.upgrade(store.engine)
        got = store.get_session(1)
        assert got is not None and (got.reps, got.correction, got.plan_session_id) == (7, 0, None)
        assert store.add_correction(1, -1).corrected_reps == 6
        store_db.downgrade(store.engine, "0001")  # and back: the set is still there
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT reps FROM sessions")).scalar() == 7
    finally:
        store.close()


def test_a_new_sqlite_file_locked_by_the_other_first_opener_is_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race above, at its worst: the other process holds the new file locked as this one
    connects ("database is locked", from setting WAL mode: SQLite's busy handler does not always
    wait there). The connect is tried again instead of failing the start-up; an unreachable
    database still fails at once."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    LOCKED = sqlite3.OperationalError("database is locked")
    engine = store_db.make_engine(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    real_connect = engine.connect
    refused = []

    def connect() -> object:
        if len(refused) < 2:  # the other opener still holds it, twice
            refused.append(1)
            raise OperationalError("PRAGMA journal_mode=WAL", {}, LOCKED)
        return real_connect()

    monkeypatch.setattr(engine, "connect", connect)
    store_db.upgrade(engine)
    assert len(refused) == 2 and store_db.current_revision(engine) == store_db.head_revision()

    monkeypatch.setattr(store_db, "LOCKED_WAIT_S", 0.0)  # a lock that never goes: a clear error

    def locked_for_good() -> object:
        raise OperationalError("PRAGMA journal_mode=WAL", {}, LOCKED)

    monkeypatch.setattr(engine, "connect", locked_for_good)
    with pytest.raises(StoreError, match=r"failed while connecting: .*database is locked"):
        store_db.upgrade(engine)
    engine.dispose()
