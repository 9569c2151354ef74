"""The live store in memory: the same semantics as Redis, for unit tests and a one-process app.

Values go through the same codec as Redis (:mod:`hiitpi.live.codec`), so what a reader gets is
a copy that was encoded and decoded exactly as it would be over the wire. Streams are capped
like Redis's and use Redis-shaped ids ("<ms>-<seq>", ascending), ``wait_frame`` blocks on a
condition exactly as ``XREAD BLOCK`` does, and viewers expire. :meth:`MemoryLiveStore.set_down`
makes every call fail with :class:`~hiitpi.errors.StoreError` until it is lifted: how a test
plays a Redis outage without a server.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import replace

from hiitpi.core.events import RepEvent, WorkoutState
from hiitpi.core.names import DEFAULT_STATION, validate_station
from hiitpi.errors import StoreError
from hiitpi.live import codec
from hiitpi.live.base import (
    Command,
    EngineStatus,
    LiveSnapshot,
    Metric,
    Round,
    RoundResult,
)
from hiitpi.live.redis_store import (
    COMMANDS_MAXLEN,
    EVENTS_MAXLEN,
    FRAMES_KEPT,
    MAX_WAIT_S,
    METRICS_MAXLEN,
)

_Id = tuple[int, int]


def _parse(stream_id: str) -> _Id:
    ms, _, seq = stream_id.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        raise StoreError(f"not a stream id: {stream_id!r}") from None


class _Stream:
    """An append-only capped log of encoded entries with ascending ids (not thread-safe)."""

    def __init__(self, maxlen: int) -> None:
        self.entries: deque[tuple[_Id, bytes]] = deque(maxlen=maxlen)
        self.last: _Id = (0, 0)

    def add(self, payload: bytes) -> str:
        ms = int(time.time() * 1000)
        new = (ms, 0) if ms > self.last[0] else (self.last[0], self.last[1] + 1)
        self.entries.append((new, payload))
        self.last = new
        return f"{new[0]}-{new[1]}"

    def after(self, since_id: str, count: int) -> list[tuple[str, bytes]]:
        since = _parse(since_id)
        out = [(f"{i[0]}-{i[1]}", p) for i, p in self.entries if i > since]
        return out[:count]

    def newest(self, count: int) -> list[tuple[str, bytes]]:
        rows = list(self.entries)[-count:] if count > 0 else []
        return [(f"{i[0]}-{i[1]}", p) for i, p in rows]


class MemoryLiveStore:
    """:class:`hiitpi.live.base.LiveStore` in this process's memory. Thread-safe."""

    def __init__(self, station: str = DEFAULT_STATION) -> None:
        self.station = validate_station(station)
        self.url = "memory"
        self._cond = threading.Condition()
        self._state: bytes | None = None
        self._events = _Stream(EVENTS_MAXLEN)
        self._metrics = _Stream(METRICS_MAXLEN)
        self._frames = _Stream(FRAMES_KEPT)
        self._commands = _Stream(COMMANDS_MAXLEN)
        self._viewers: dict[str, float] = {}
        self._down: str | None = None
        self.calls = 0  # every call, failed ones included (a test sees who touched the store)
        self.saves = 0

    # --- test control ------------------------------------------------------------------------
    def set_down(self, reason: str | None) -> None:
        """Fail every call with ``reason`` (a test's outage) until called with None."""
        with self._cond:
            self._down = reason
            self._cond.notify_all()

    def _check(self, what: str) -> None:
        """Called with the lock held."""
        self.calls += 1
        if self._down is not None:
            raise StoreError(f"live store (memory) failed ({what}): {self._down}")

    # --- state -------------------------------------------------------------------------------
    def publish_state(self, state: WorkoutState | None, status: EngineStatus) -> None:
        raw = codec.encode_snapshot(LiveSnapshot(state, status, time.time()))
        with self._cond:
            self._check("publish state")
            self._state = raw

    def get_state(self) -> LiveSnapshot | None:
        with self._cond:
            self._check("get state")
            raw = self._state
        return None if raw is None else codec.decode_snapshot(raw)

    # --- events and metrics ------------------------------------------------------------------
    def _add(self, stream: _Stream, payload: bytes, what: str) -> str:
        with self._cond:
            self._check(what)
            return stream.add(payload)

    def _after(
        self, stream: _Stream, since_id: str, count: int, what: str
    ) -> list[tuple[str, bytes]]:
        with self._cond:
            self._check(what)
            return stream.after(since_id, count)

    def append_event(self, event: RepEvent) -> str:
        return self._add(self._events, codec.encode_event(event), "append events")

    def events(self, since_id: str = "0-0", count: int = 100) -> list[tuple[str, RepEvent]]:
        rows = self._after(self._events, since_id, count, "read events")
        return [(i, codec.decode_event(p)) for i, p in rows]

    def recent_events(self, count: int = 10) -> list[tuple[str, RepEvent]]:
        with self._cond:
            self._check("read events")
            rows = self._events.newest(count)
        return [(i, codec.decode_event(p)) for i, p in rows]

    def append_metric(self, t: float, inference_ms: float, pose_score: float) -> str:
        payload = codec.encode_metric(Metric(t, inference_ms, pose_score))
        return self._add(self._metrics, payload, "append metrics")

    def metrics(self, since_id: str = "0-0", count: int = 500) -> list[tuple[str, Metric]]:
        rows = self._after(self._metrics, since_id, count, "read metrics")
        return [(i, codec.decode_metric(p)) for i, p in rows]

    # --- frames ------------------------------------------------------------------------------
    def put_frame(self, jpeg: bytes) -> str:
        with self._cond:
            self._check("put frame")
            frame_id = self._frames.add(bytes(jpeg))
            self._cond.notify_all()
            return frame_id

    def wait_frame(self, previous_id: str | None, timeout: float) -> tuple[str, bytes] | None:
        """As Redis's: ``None`` gets the newest frame at once (or waits for the first); an id
        waits up to ``timeout`` (at most MAX_WAIT_S) for a newer one and skips to the newest."""
        deadline = time.monotonic() + min(timeout, MAX_WAIT_S)
        with self._cond:
            self._check("wait frame")
            after = _parse(previous_id) if previous_id is not None else self._frames.last
            if previous_id is None and self._frames.entries:
                after = (-1, -1)
            while True:
                newest = self._frames.newest(1)
                if newest and _parse(newest[0][0]) > after:
                    return newest[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
                self._check("wait frame")

    # --- viewers -----------------------------------------------------------------------------
    def touch_viewer(self, viewer_id: str, ttl: float = 5.0) -> None:
        with self._cond:
            self._check("touch viewer")
            self._viewers[viewer_id] = time.time() + ttl

    def drop_viewer(self, viewer_id: str) -> None:
        with self._cond:
            self._check("drop viewer")
            self._viewers.pop(viewer_id, None)

    def viewer_count(self) -> int:
        now = time.time()
        with self._cond:
            self._check("count viewers")
            self._viewers = {v: exp for v, exp in self._viewers.items() if exp > now}
            return len(self._viewers)

    # --- commands ----------------------------------------------------------------------------
    def send_command(self, command: Command) -> str:
        return self._add(self._commands, codec.encode_command(command), "send command")

    def read_commands(self, after_id: str) -> tuple[str, list[Command]]:
        """Up to 16 commands after ``after_id`` and the new position (malformed ones skipped)."""
        rows = self._after(self._commands, after_id, 16, "read commands")
        out = []
        for command_id, payload in rows:
            after_id = command_id
            try:
                out.append(replace(codec.decode_command(payload), id=command_id))
            except StoreError:
                continue
        return after_id, out

    def last_command_id(self) -> str:
        with self._cond:
            self._check("read commands")
            newest = self._commands.newest(1)
        return newest[0][0] if newest else "0-0"

    def write_round(self, r: Round) -> RoundResult:
        """The parts one call each, as a Redis pipeline runs them: in order, and a failure
        part-way leaves the earlier parts written."""
        for m in r.metrics:
            self.append_metric(m.t, m.inference_ms, m.pose_score)
        if r.snapshot is not None:
            self.publish_state(*r.snapshot)
        if r.frame is not None:
            self.put_frame(r.frame)
        out = RoundResult()
        if r.commands_after is not None:
            out.position, out.commands = self.read_commands(r.commands_after)
        if r.count_viewers:
            out.viewers = self.viewer_count()
        return out

    # --- lifecycle ---------------------------------------------------------------------------
    def persist(self) -> bool:
        """Nothing to save to: counts the requests (a test sees when a set end asked)."""
        with self._cond:
            self._check("save")
            self.saves += 1
        return False

    def ping(self) -> bool:
        with self._cond:
            self.calls += 1
            return self._down is None

    def close(self) -> None:
        with self._cond:
            self._cond.notify_all()
