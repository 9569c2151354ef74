"""The live store: engine -> web state, events, metrics, frames; web -> engine commands."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from hiitpi.live.base import (
    DEFAULT_STATION,
    Command,
    CommandKind,
    EngineStatus,
    LiveSnapshot,
    LiveStore,
    Metric,
    validate_player,
)
from hiitpi.live.redis_store import RedisLiveStore, connect

if TYPE_CHECKING:
    from hiitpi.config import Settings

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_STATION",
    "Command",
    "CommandKind",
    "EngineStatus",
    "LiveSnapshot",
    "LiveStore",
    "Metric",
    "RedisLiveStore",
    "connect",
    "open_live_store",
    "validate_player",
]


def open_live_store(settings: Settings, station: str = DEFAULT_STATION) -> RedisLiveStore:
    """Connect to ``settings.redis_url``, or start the embedded server when it is unset.

    Closing the store stops an embedded server this call started (saving it to disk).
    Raises :class:`hiitpi.errors.StoreError` naming the URL when Redis is unreachable.
    """
    if settings.redis_url:
        return RedisLiveStore.from_url(settings.redis_url, station)
    from hiitpi.live.embedded import EmbeddedRedis

    server = EmbeddedRedis(settings.data_dir / "redis")
    url = server.start()
    try:
        store = RedisLiveStore.from_url(url, station)
    except Exception:
        server.stop()
        raise
    store.on_close(server.stop)
    store.persist_on_set_end = True
    return store
