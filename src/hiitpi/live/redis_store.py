"""The live store on Redis: one station's keys under ``hiitpi:<station>:``.

- ``state``     string, JSON :class:`LiveSnapshot`, overwritten every frame (no TTL: it survives
                an engine crash, so the reps already counted are still there).
- ``events``    stream, capped (MAXLEN ~), read with XRANGE / XREVRANGE: nothing is consumed.
- ``metrics``   stream, capped, same.
- ``frames``    stream of the latest JPEGs (exactly 2 kept); viewers block in XREAD on the id
                they last saw, so each waits for a *new* frame and all get the same bytes.
- ``viewers``   sorted set viewer-id -> expiry time; streaming clients refresh it.
- ``commands``  stream, capped; only the engine reads it, from its own position.

Live data uses the URL's database (0 by default); :data:`SESSION_DB` is left for Flask sessions.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis

from hiitpi.core.events import RepEvent, WorkoutState
from hiitpi.core.names import validate_station
from hiitpi.errors import StoreError
from hiitpi.live import codec
from hiitpi.live.base import (
    Command,
    EngineStatus,
    LiveSnapshot,
    Metric,
    Round,
    RoundResult,
    WriteRefused,
)

log = logging.getLogger(__name__)

SESSION_DB = 1  # reserved for Flask sessions (the web-app issue)
EVENTS_MAXLEN = 1000
METRICS_MAXLEN = 3000  # ~100 s at 30 fps
COMMANDS_MAXLEN = 100
FRAMES_KEPT = 2
MAX_WAIT_S = 5.0  # longest single blocking read; below the socket timeout
# how a live Redis refuses a write (it is up: not "down"); redis-py strips the OOM and READONLY
# prefixes into exception classes and leaves MISCONF in the text
_OOM = "it is out of memory (maxmemory)"
_READONLY = "it is a read-only replica"
_MISCONF = "it cannot save to disk (is the disk full?)"
_PIPELINE_ERROR = "of pipeline caused error: "


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def connect(url: str, *, connect_timeout: float = 2.0) -> redis.Redis:
    """A client for ``url`` that answered PING; :class:`StoreError` naming the URL otherwise."""
    try:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=connect_timeout,
            socket_timeout=MAX_WAIT_S + 5.0,
            health_check_interval=30,
        )
        client.ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        raise StoreError(f"Redis at {redact(url)} is unreachable: {exc}") from None
    return client


def _id(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


class RedisLiveStore:
    """:class:`hiitpi.live.base.LiveStore` on redis-py. Thread-safe (redis-py's pool is)."""

    def __init__(self, client: redis.Redis, station: str, *, url: str = "") -> None:
        validate_station(station)
        self.client = client
        self.station = station
        self.url = redact(url)
        self.prefix = f"hiitpi:{station}:"
        self._on_close: list[Any] = []
        # Save the server's data to disk when a set ends (the original did): on for the
        # embedded server; an external Redis is persisted by whoever runs it.
        self.persist_on_set_end = False

    @classmethod
    def from_url(cls, url: str, station: str) -> RedisLiveStore:
        return cls(connect(url), station, url=url)

    def key(self, name: str) -> str:
        return self.prefix + name

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except redis.ResponseError as exc:
            raise self._error(what, exc) from None
        except (redis.RedisError, OSError) as exc:  # OSError: a connection closed under us
            raise StoreError(f"Redis at {self.url or '?'} failed ({what}): {exc}") from None

    def _error(self, what: str, exc: redis.ResponseError) -> StoreError:
        """A refusal to write (MISCONF, OOM, READONLY) named as such; other errors as they are."""
        text = str(exc)
        # in a pipeline redis-py prefixes "Command # N (...) of pipeline caused error: "
        text = text.rpartition(_PIPELINE_ERROR)[2] if _PIPELINE_ERROR in text else text
        why = None
        if isinstance(exc, redis.exceptions.OutOfMemoryError) or text.startswith("OOM"):
            why = _OOM
        elif isinstance(exc, redis.ReadOnlyError) or text.startswith("READONLY"):
            why = _READONLY
        elif text.startswith("MISCONF"):
            why = _MISCONF
        if why is not None:
            return WriteRefused(f"Redis at {self.url or '?'} refuses writes: {why} ({text})")
        return StoreError(f"Redis at {self.url or '?'} failed ({what}): {text}")

    def probe_write(self, ttl_s: float = 5.0) -> None:
        """Write one short-lived key of this station: raises :class:`WriteRefused` when Redis
        answers but stores nothing (disk full, maxmemory, a read-only replica), StoreError when
        it is down. Tells "Redis refuses writes" apart from "the engine is not publishing"."""
        px = max(1, int(ttl_s * 1000))
        self._call("write check", self.client.set, self.key("write-check"), b"1", px=px)

    def check_writable(self) -> str | None:
        """None when a write goes through; else why not, in words (down, or refusing writes)."""
        try:
            self.probe_write()
        except StoreError as exc:
            return str(exc)
        return None

    # --- state -----------------------------------------------------------------------------
    # Each write and read is queued by one helper on ``c``: the client (a call of its own) or
    # a pipeline (``write_round``), so a key's encoding and cap are written down once.
    def _set_state(self, c: Any, state: WorkoutState | None, status: EngineStatus) -> Any:
        snap = LiveSnapshot(state, status, time.time())
        return c.set(self.key("state"), codec.encode_snapshot(snap))

    def _xadd(
        self, c: Any, name: str, fields: dict[str, bytes], maxlen: int, approximate: bool = True
    ) -> Any:
        return c.xadd(self.key(name), fields, maxlen=maxlen, approximate=approximate)

    def _add_metric(self, c: Any, m: Metric) -> Any:
        return self._xadd(c, "metrics", {"json": codec.encode_metric(m)}, METRICS_MAXLEN)

    def _add_frame(self, c: Any, jpeg: bytes) -> Any:
        return self._xadd(c, "frames", {"jpeg": jpeg}, FRAMES_KEPT, approximate=False)  # exactly

    def _read_commands(self, c: Any, after_id: str) -> Any:
        return c.xread({self.key("commands"): after_id}, 16)

    def _count_viewers(self, pipe: Any) -> None:
        """Two commands on a pipeline: drop expired viewers, then count (the second reply)."""
        pipe.zremrangebyscore(self.key("viewers"), "-inf", time.time())
        pipe.zcard(self.key("viewers"))

    def publish_state(self, state: WorkoutState | None, status: EngineStatus) -> None:
        self._call("publish state", self._set_state, self.client, state, status)

    def get_state(self) -> LiveSnapshot | None:
        raw = self._call("get state", self.client.get, self.key("state"))
        return None if raw is None else codec.decode_snapshot(raw)

    # --- capped streams ----------------------------------------------------------------------
    def _append(self, name: str, payload: bytes, maxlen: int) -> str:
        fields = {"json": payload}
        return _id(self._call(f"append {name}", self._xadd, self.client, name, fields, maxlen))

    def _range(self, name: str, since_id: str, count: int) -> list[tuple[str, Any]]:
        rows = self._call(
            f"read {name}", self.client.xrange, self.key(name), f"({since_id}", "+", count
        )
        return [(_id(i), codec.field(f, "json", name)) for i, f in rows]

    def _recent(self, name: str, count: int) -> list[tuple[str, Any]]:
        rows = self._call(f"read {name}", self.client.xrevrange, self.key(name), count=count)
        return [(_id(i), codec.field(f, "json", name)) for i, f in reversed(rows)]

    def append_event(self, event: RepEvent) -> str:
        return self._append("events", codec.encode_event(event), EVENTS_MAXLEN)

    def events(self, since_id: str = "0-0", count: int = 100) -> list[tuple[str, RepEvent]]:
        return [(i, codec.decode_event(r)) for i, r in self._range("events", since_id, count)]

    def recent_events(self, count: int = 10) -> list[tuple[str, RepEvent]]:
        return [(i, codec.decode_event(r)) for i, r in self._recent("events", count)]

    def append_metric(self, t: float, inference_ms: float, pose_score: float) -> str:
        metric = Metric(t, inference_ms, pose_score)
        return _id(self._call("append metrics", self._add_metric, self.client, metric))

    def metrics(self, since_id: str = "0-0", count: int = 500) -> list[tuple[str, Metric]]:
        return [(i, codec.decode_metric(r)) for i, r in self._range("metrics", since_id, count)]

    # --- frames ------------------------------------------------------------------------------
    def put_frame(self, jpeg: bytes) -> str:
        return _id(self._call("put frame", self._add_frame, self.client, jpeg))

    def wait_frame(self, previous_id: str | None, timeout: float) -> tuple[str, bytes] | None:
        """The newest frame after ``previous_id``.

        ``None`` (a new reader) gets the newest frame already there at once, so a viewer who
        arrives after the source went quiet still sees the last picture; with none there yet
        it waits for the next one. Blocks up to ``timeout`` seconds (at most MAX_WAIT_S);
        None when no frame arrived.
        """
        if previous_id is None:
            newest = self._call("read frame", self.client.xrevrange, self.key("frames"), count=1)
            if newest:
                frame_id, fields = newest[0]
                return _id(frame_id), bytes(codec.field(fields, "jpeg", "frame"))
        block_ms = max(1, int(min(timeout, MAX_WAIT_S) * 1000))
        # the stream was empty just now: any frame is new ("$" would miss one written between
        # the two calls, and a writer on another thread often lands exactly there)
        after = previous_id or "0-0"
        res = self._call(
            "wait frame", self.client.xread, {self.key("frames"): after}, block=block_ms
        )
        if not res:
            return None
        entries = res[0][1]
        frame_id, fields = entries[-1]
        return _id(frame_id), bytes(codec.field(fields, "jpeg", "frame"))

    # --- viewers -----------------------------------------------------------------------------
    def touch_viewer(self, viewer_id: str, ttl: float = 5.0) -> None:
        self._call(
            "touch viewer", self.client.zadd, self.key("viewers"), {viewer_id: time.time() + ttl}
        )

    def drop_viewer(self, viewer_id: str) -> None:
        self._call("drop viewer", self.client.zrem, self.key("viewers"), viewer_id)

    def viewer_count(self) -> int:
        pipe = self.client.pipeline(transaction=False)
        self._count_viewers(pipe)
        return int(self._call("count viewers", pipe.execute)[1])

    # --- commands ----------------------------------------------------------------------------
    def send_command(self, command: Command) -> str:
        return self._append("commands", codec.encode_command(command), COMMANDS_MAXLEN)

    def read_commands(self, after_id: str) -> tuple[str, list[Command]]:
        """Commands after ``after_id`` and the new position (malformed ones are skipped)."""
        res = self._call("read commands", self._read_commands, self.client, after_id)
        return self._commands_read(res, after_id)

    def _commands_read(self, res: Any, after_id: str) -> tuple[str, list[Command]]:
        if not res:
            return after_id, []
        out = []
        for raw_id, fields in res[0][1]:
            after_id = _id(raw_id)
            try:
                command = codec.decode_command(codec.field(fields, "json", "command"))
                out.append(replace(command, id=after_id))  # the engine answers by this id
            except StoreError as exc:  # one bad sender must not stop the station's commands
                log.warning("ignoring command %s: %s", after_id, exc)
        return after_id, out

    def last_command_id(self) -> str:
        rows = self._call("read commands", self.client.xrevrange, self.key("commands"), count=1)
        return _id(rows[0][0]) if rows else "0-0"

    # --- the engine link's round --------------------------------------------------------------
    def write_round(self, r: Round) -> RoundResult:
        """The round's parts in one pipeline: one round trip a frame instead of one a part.

        Not a transaction: a failure part-way can leave the first parts written (a metric
        written twice after a lost answer costs a chart point; the state and the frame are
        overwritten by the next round anyway)."""
        pipe = self.client.pipeline(transaction=False)
        for m in r.metrics:
            self._add_metric(pipe, m)
        if r.snapshot is not None:
            self._set_state(pipe, *r.snapshot)
        if r.frame is not None:
            self._add_frame(pipe, r.frame)
        if r.commands_after is not None:
            self._read_commands(pipe, r.commands_after)
        if r.count_viewers:
            self._count_viewers(pipe)
        out = RoundResult()
        if not len(pipe):
            return out
        replies = self._call("write round", pipe.execute)
        if r.count_viewers:
            out.viewers = int(replies[-1])
            replies = replies[:-2]
        if r.commands_after is not None:
            out.position, out.commands = self._commands_read(replies[-1], r.commands_after)
        return out

    # --- lifecycle ---------------------------------------------------------------------------
    def persist(self) -> bool:
        """Ask the server to save to disk in the background (when this store should).

        Returns True when a save was started; a save already running counts as started.
        """
        if not self.persist_on_set_end:
            return False
        try:
            self.client.bgsave()
        except redis.ResponseError as exc:  # "Background save already in progress"
            if "in progress" not in str(exc):
                raise self._error("save", exc) from None
        except (redis.RedisError, OSError) as exc:
            raise StoreError(f"Redis at {self.url or '?'} failed (save): {exc}") from None
        return True

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False

    def clear(self) -> None:
        """Delete every key of this station (tests, or a fresh start)."""
        keys = list(self.client.scan_iter(match=self.prefix + "*"))
        if keys:
            self._call("clear", self.client.delete, *keys)

    def on_close(self, fn: Any) -> None:
        self._on_close.append(fn)

    def close(self) -> None:
        self.client.close()
        while self._on_close:
            self._on_close.pop()()
