"""The live-store contract, the same on the in-memory store and on a real Redis, and what a
malformed value in Redis gives (a StoreError, never a crash)."""

from __future__ import annotations

import threading
import time
import unicodedata
import uuid
from collections.abc import Iterator

import pytest

from hiitpi.core.events import EventKind, RepEvent, WorkoutState
from hiitpi.errors import StoreError
from hiitpi.live import (
    Command,
    CommandKind,
    EngineSide,
    EngineStatus,
    LiveStore,
    MemoryLiveStore,
    RedisLiveStore,
    WebSide,
)
from hiitpi.live.codec import encode_command


@pytest.fixture(params=["memory", "redis"])
def any_store(request: pytest.FixtureRequest) -> Iterator[LiveStore]:
    if request.param == "memory":
        yield MemoryLiveStore(f"test-{uuid.uuid4().hex[:12]}")
    else:
        yield request.getfixturevalue("external_store")


def test_both_implement_every_protocol(any_store: LiveStore) -> None:
    assert isinstance(any_store, LiveStore)
    assert isinstance(any_store, EngineSide) and isinstance(any_store, WebSide)


def test_state_events_metrics_and_commands(any_store: LiveStore) -> None:
    s = any_store
    assert s.get_state() is None
    state = WorkoutState("squat", 3.5, reps=2, rep_times=(1.0, 2.5))
    status = EngineStatus(player="Zoé", health={"live_store": {"ok": True, "backlog": 0}})
    s.publish_state(state, status)
    snap = s.get_state()
    assert snap is not None and snap.state == state and snap.status == status
    ids = [s.append_event(RepEvent(EventKind.REP, i, i, i - 1, 1, 1, 1)) for i in (1, 2, 3)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert [e.index for _, e in s.events(since_id=ids[0])] == [2, 3]
    assert [i for i, _ in s.recent_events(2)] == ids[1:]
    m = s.append_metric(0.5, 12.0, 0.8)
    assert s.metrics() and s.metrics(since_id=m) == []
    start = s.last_command_id()
    s.send_command(Command(CommandKind.START, exercise="squat", player="Ann"))
    pos, commands = s.read_commands(start)
    assert [c.kind for c in commands] == [CommandKind.START] and commands[0].id == pos
    assert s.read_commands(pos) == (pos, [])


def test_wait_frame_and_viewers(any_store: LiveStore) -> None:
    s = any_store
    got: list[tuple[str, bytes] | None] = []
    waiter = threading.Thread(target=lambda: got.append(s.wait_frame(None, timeout=3)))
    waiter.start()
    time.sleep(0.1)
    first = s.put_frame(b"one")
    waiter.join(5)
    assert got == [(first, b"one")]  # an empty stream: the first frame wakes the waiter
    assert s.wait_frame(None, timeout=0.1) == (first, b"one")  # a newcomer gets it at once
    assert s.wait_frame(first, timeout=0.1) is None
    for i in range(4):
        last = s.put_frame(f"f{i}".encode())
    assert s.wait_frame(first, timeout=1) == (last, b"f3")  # skips to the newest
    s.touch_viewer("a", ttl=30)
    s.touch_viewer("b", ttl=0.01)
    time.sleep(0.05)
    assert s.viewer_count() == 1
    s.drop_viewer("a")
    assert s.viewer_count() == 0


def test_a_command_carries_the_normalised_player(any_store: LiveStore) -> None:
    nfd = unicodedata.normalize("NFD", "Zoé")
    start = any_store.last_command_id()
    any_store.send_command(Command(CommandKind.SET_PLAYER, player=f" {nfd} "))
    _, (command,) = any_store.read_commands(start)
    assert command.player == unicodedata.normalize("NFC", "Zoé")


def test_malformed_values_in_redis_are_a_store_error(external_store: RedisLiveStore) -> None:
    s = external_store
    s.client.set(s.key("state"), b"{not json")
    with pytest.raises(StoreError, match="malformed state"):
        s.get_state()
    s.client.set(s.key("state"), b'{"state": null, "status": {"fps": "fast"}, "updated": 1}')
    with pytest.raises(StoreError, match=r"malformed state.*status\.fps"):
        s.get_state()
    s.client.xadd(s.key("events"), {"json": b'{"kind": "rep"}'})
    with pytest.raises(StoreError, match="malformed rep event"):
        s.events()
    s.client.xadd(s.key("metrics"), {"other": b"1"})
    with pytest.raises(StoreError, match="no 'json' field"):
        s.metrics()
    s.client.xadd(s.key("frames"), {"png": b"x"})
    with pytest.raises(StoreError, match="malformed frame"):
        s.wait_frame(None, timeout=0.1)
    # a bad command is skipped (one bad sender must not block the station), the next one read
    start = s.last_command_id()
    s.client.xadd(s.key("commands"), {"json": b'{"kind": "launch"}'})
    s.client.xadd(s.key("commands"), {"json": encode_command(Command(CommandKind.STOP))})
    _, commands = s.read_commands(start)
    assert [c.kind for c in commands] == [CommandKind.STOP]


def test_memory_store_outage_is_a_store_error() -> None:
    s = MemoryLiveStore("t-down")
    s.set_down("connection refused")
    with pytest.raises(StoreError, match="connection refused"):
        s.publish_state(None, EngineStatus())
    assert not s.ping()
    s.set_down(None)
    assert s.ping() and s.get_state() is None
