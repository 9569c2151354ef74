"""The live store: engine -> web state, events, metrics, frames; web -> engine commands.

Protocols in :mod:`hiitpi.live.base`, the Redis implementation in ``redis_store``, an in-memory
one with the same semantics in ``memory``, the typed encoding of both in ``codec``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from hiitpi.core.names import DEFAULT_STATION, validate_player
from hiitpi.live.base import (
    Command,
    CommandKind,
    EngineSide,
    EngineStatus,
    LiveSnapshot,
    LiveStore,
    Metric,
    WebSide,
    WriteRefused,
)
from hiitpi.live.memory import MemoryLiveStore
from hiitpi.live.redis_store import RedisLiveStore, connect

if TYPE_CHECKING:
    from hiitpi.config import Settings

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_STATION",
    "Command",
    "CommandKind",
    "EngineSide",
    "EngineStatus",
    "LiveSnapshot",
    "LiveStore",
    "MemoryLiveStore",
    "Metric",
    "RedisLiveStore",
    "WebSide",
    "WriteRefused",
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
