"""Database plumbing: engines for a URL, Alembic migrations shipped in the package, errors.

The Alembic configuration is built in code (no alembic.ini on disk), so migrations run the same
from a source checkout and from an installed wheel. Every failure becomes a
:class:`~hiitpi.errors.StoreError` whose message names the URL without its password.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from hiitpi.errors import StoreError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_FILENAME = "history.sqlite3"
CONNECT_TIMEOUT_S = 5
SQLITE_BUSY_TIMEOUT_MS = 10_000
LOCKED_WAIT_S = 10.0  # a new SQLite file locked by the other first opener: tried again so long
_LOCK_KEY = 0x4849495450  # "HIITP": the migration lock on PostgreSQL
_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@]*@")


def redact(url: str | URL) -> str:
    """``url`` for messages: the password replaced by ``***``."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return _PASSWORD_IN_URL.sub(r"\1***@", url)


def default_url(data_dir: Path) -> str:
    """The SQLite file under ``data_dir`` (the folder is created)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(data_dir / SQLITE_FILENAME).resolve()}"


def _message(exc: BaseException, url: URL) -> str:
    """The first line of a driver error, with the password scrubbed should a driver echo it."""
    orig = getattr(exc, "orig", None) or exc
    text = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    if url.password:
        text = text.replace(str(url.password), "***")
    return text


@contextmanager
def translate(url: URL, what: str, passthrough: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """Turn SQLAlchemy errors raised inside into one-line :class:`StoreError`.

    Errors of the ``passthrough`` types (e.g. IntegrityError a caller handles) stay as they are.
    """
    try:
        yield
    except passthrough:
        raise
    except SQLAlchemyError as exc:
        raise StoreError(
            f"database {redact(url)} failed while {what}: {_message(exc, url)}"
        ) from None


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode=WAL")  # the web reads while the engine writes
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; :class:`StoreError` for a malformed URL or a missing driver."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"database URL {redact(url)} is not a valid SQLAlchemy URL") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver we ship (psycopg 3)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False}
        if parsed.database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool  # one shared in-memory database
    elif parsed.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(
            f"database URL {redact(parsed)}: no driver for it ({_message(exc, parsed)})"
        ) from None
    except ArgumentError as exc:
        raise StoreError(f"database URL {redact(parsed)}: {_message(exc, parsed)}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config(url: str | URL | None = None, connection: Any = None) -> Config:
    """An Alembic :class:`Config` for the packaged migrations (what alembic.ini would hold).

    For the Alembic CLI API: ``command.revision(alembic_config(url), "msg", autogenerate=True)``.
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    cfg.set_main_option("path_separator", "os")
    if url is not None:
        text = url.render_as_string(hide_password=False) if isinstance(url, URL) else url
        cfg.set_main_option("sqlalchemy.url", text.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def current_revision(engine: Engine) -> str | None:
    with translate(engine.url, "reading the schema version"), engine.connect() as conn:
        return _current(conn)


def upgrade(engine: Engine, revision: str = "head", *, attempts: int = 3) -> None:
    """Migrate the database to ``revision`` in one transaction.

    Processes opening the same database at once (engine and web) must not both create tables:
    PostgreSQL serialises them with an advisory lock; on SQLite, whose DDL is not transactional
    under pysqlite, the loser of the race retries and then finds the schema up to date.
    """
    for attempt in range(1, attempts + 1):
        conn = _connect_when_free(engine)
        try:
            with conn, translate(engine.url, f"migrating to {revision}"), conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
                if revision == "head" and _current(conn) == head_revision():
                    return  # up to date: the usual case, and quiet
                command.upgrade(alembic_config(engine.url, conn), revision)
            return
        except StoreError:
            if attempt == attempts:
                raise
            time.sleep(0.2 * attempt)


def _connect_when_free(engine: Engine) -> Connection:
    """A connection; an SQLite file that another process holds locked (the other one of two
    first openers, mid-migration, as it sets WAL mode) is tried again for ``LOCKED_WAIT_S``;
    an unreachable database fails at once."""
    deadline = time.monotonic() + LOCKED_WAIT_S
    pause = 0.05
    while True:
        try:
            with translate(engine.url, "connecting"):
                return engine.connect()
        except StoreError as exc:
            locked = engine.dialect.name == "sqlite" and "database is locked" in str(exc)
            if not locked or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 1.0)


def downgrade(engine: Engine, revision: str = "base") -> None:
    with translate(engine.url, f"downgrading to {revision}"), engine.begin() as conn:
        command.downgrade(alembic_config(engine.url, conn), revision)
