"""The Redis live store against real servers (external 127.0.0.1:6379 and embedded)."""

from __future__ import annotations

import threading
import time

import pytest

from hiitpi.core.events import EventKind, RepEvent, WorkoutState
from hiitpi.errors import StoreError
from hiitpi.live import Command, CommandKind, EngineStatus, RedisLiveStore, connect
from hiitpi.live.base import Metric, Round
from hiitpi.live.redis_store import EVENTS_MAXLEN, FRAMES_KEPT


def _rep(i: int, kind: EventKind = EventKind.REP) -> RepEvent:
    reason = "not deep enough" if kind is EventKind.NO_REP else None
    return RepEvent(kind, i, float(i), float(i) - 0.8, 0.8, 0.9, 1.0, None, reason)


def test_state_round_trip(store: RedisLiveStore) -> None:
    assert store.get_state() is None
    state = WorkoutState("push_up", 12.5, reps=3, no_reps=1, pace=9.0, rep_times=(1.0, 2.0, 3.0))
    status = EngineStatus(source="cam0", backend="mediapipe-full", fps=29.5, player="Ann")
    store.publish_state(state, status)
    snap = store.get_state()
    assert snap is not None
    assert snap.state == state
    assert snap.status == status
    assert abs(snap.updated - time.time()) < 5
    store.publish_state(None, EngineStatus(running=True))
    snap = store.get_state()
    assert snap is not None and snap.state is None and snap.status.running


def test_events_are_read_without_being_consumed(store: RedisLiveStore) -> None:
    ids = [store.append_event(_rep(i)) for i in range(1, 4)]
    ids.append(store.append_event(_rep(1, EventKind.NO_REP)))
    first = store.events()
    assert [e for _, e in first] == [_rep(1), _rep(2), _rep(3), _rep(1, EventKind.NO_REP)]
    assert store.events() == first  # reading again gives the same: nothing was popped
    assert [i for i, _ in store.events(since_id=ids[1])] == ids[2:]
    assert store.events(since_id=ids[-1]) == []
    assert [i for i, _ in store.recent_events(2)] == ids[2:]


def test_event_stream_is_capped(store: RedisLiveStore) -> None:
    pipe_n = EVENTS_MAXLEN + 300
    for i in range(pipe_n):
        store.append_event(_rep(i + 1))
    length = store.client.xlen(store.key("events"))
    assert EVENTS_MAXLEN <= length < pipe_n  # MAXLEN ~ trims in whole macro-nodes


def test_metrics(store: RedisLiveStore) -> None:
    a = store.append_metric(0.1, 21.5, 0.9)
    store.append_metric(0.2, 22.5, 0.8)
    rows = store.metrics(since_id=a)
    assert len(rows) == 1 and rows[0][1].inference_ms == 22.5 and rows[0][1].pose_score == 0.8


def test_wait_frame_returns_only_newer_frames(store: RedisLiveStore) -> None:
    assert store.wait_frame("0-0", timeout=0.05) is None
    f1 = store.put_frame(b"one")
    got = store.wait_frame("0-0", timeout=1)
    assert got == (f1, b"one")
    t0 = time.monotonic()
    assert store.wait_frame(f1, timeout=0.2) is None  # nothing new: waits, then gives up
    assert time.monotonic() - t0 >= 0.15
    for i in range(5):
        last = store.put_frame(f"f{i}".encode())
    assert store.wait_frame(f1, timeout=1) == (last, b"f4")  # skips to the newest
    assert store.client.xlen(store.key("frames")) == FRAMES_KEPT


def test_wait_frame_wakes_every_waiter_with_the_same_bytes(store: RedisLiveStore) -> None:
    results: list[tuple[str, bytes] | None] = [None, None, None]

    def waiter(k: int) -> None:
        results[k] = store.wait_frame(None, timeout=3)

    threads = [threading.Thread(target=waiter, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.2)  # all three are blocked now
    fid = store.put_frame(b"\xff\xd8shared")
    for t in threads:
        t.join(5)
    assert results == [(fid, b"\xff\xd8shared")] * 3


def test_viewer_count_expires(store: RedisLiveStore) -> None:
    assert store.viewer_count() == 0
    store.touch_viewer("a", ttl=10)
    store.touch_viewer("b", ttl=0.2)
    store.touch_viewer("a", ttl=10)  # refreshing does not double count
    assert store.viewer_count() == 2
    time.sleep(0.3)
    assert store.viewer_count() == 1
    store.drop_viewer("a")
    assert store.viewer_count() == 0


def test_commands_are_read_from_a_position(store: RedisLiveStore) -> None:
    start = store.last_command_id()
    assert store.read_commands(start) == (start, [])
    store.send_command(Command(CommandKind.SET_PLAYER, player="Ann"))
    store.send_command(Command(CommandKind.START, exercise="squat"))
    pos, cmds = store.read_commands(start)
    assert [c.kind for c in cmds] == [CommandKind.SET_PLAYER, CommandKind.START]
    assert cmds[1].exercise == "squat"
    assert store.read_commands(pos) == (pos, [])
    # a malformed entry is skipped but the position moves past it
    store.client.xadd(store.key("commands"), {"json": '{"kind": "explode"}'})
    pos2, cmds = store.read_commands(pos)
    assert cmds == [] and pos2 != pos


def test_a_round_is_one_pipeline_that_writes_and_reads_every_part(
    store: RedisLiveStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine link's per-frame round: metrics, state, frame, the command poll and the
    viewer count in one round trip (a single call would go through execute_command)."""
    start = store.last_command_id()
    store.send_command(Command(CommandKind.START, exercise="squat"))
    store.touch_viewer("v1", ttl=30)
    pipelines = 0
    make_pipeline = store.client.pipeline

    def pipeline(*args: object, **kwargs: object) -> object:
        nonlocal pipelines
        pipelines += 1
        return make_pipeline(*args, **kwargs)  # type: ignore[arg-type]

    def single(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a call of its own: {args[:1]}")

    monkeypatch.setattr(store.client, "pipeline", pipeline)
    monkeypatch.setattr(store.client, "execute_command", single)
    state = WorkoutState("squat", 3.0, reps=2)
    got = store.write_round(
        Round(
            metrics=(Metric(0.1, 20.0, 0.9), Metric(0.2, 21.0, 0.8)),
            snapshot=(state, EngineStatus(frames=7)),
            frame=b"jpeg-1",
            commands_after=start,
            count_viewers=True,
        )
    )
    assert pipelines == 1
    monkeypatch.undo()
    assert [c.kind for c in got.commands] == [CommandKind.START] and got.position != start
    assert got.viewers == 1
    snap = store.get_state()
    assert snap is not None and snap.state == state and snap.status.frames == 7
    assert [m.inference_ms for _, m in store.metrics()] == [20.0, 21.0]
    frame = store.wait_frame(None, 0.1)
    assert frame is not None and frame[1] == b"jpeg-1"
    # parts not asked for are neither written nor read
    assert store.write_round(Round(metrics=(Metric(0.3, 22.0, 0.7),))).viewers is None
    assert len(store.metrics()) == 3


def test_command_validation() -> None:
    with pytest.raises(ValueError):
        Command(CommandKind.START)
    with pytest.raises(ValueError):
        Command(CommandKind.SET_PLAYER, player="x" * 21)
    with pytest.raises(ValueError):
        Command(CommandKind.SET_PLAYER, player="   ")


def test_stations_do_not_share_keys(store: RedisLiveStore) -> None:
    other = RedisLiveStore(store.client, store.station + "-b")
    store.publish_state(None, EngineStatus(player="A"))
    assert other.get_state() is None
    other.clear()


def test_bad_station_id_is_rejected(store: RedisLiveStore) -> None:
    with pytest.raises(ValueError, match="station"):
        RedisLiveStore(store.client, "has space")


def test_down_redis_is_a_store_error_naming_the_url() -> None:
    t0 = time.monotonic()
    with pytest.raises(StoreError, match=r"redis://127\.0\.0\.1:1"):
        connect("redis://127.0.0.1:1")
    assert time.monotonic() - t0 < 3


def test_password_is_not_shown() -> None:
    with pytest.raises(StoreError) as info:
        connect("redis://user:s3cret@127.0.0.1:1/0")
    assert "s3cret" not in str(info.value)


def test_a_new_reader_gets_the_newest_frame_at_once(store: RedisLiveStore) -> None:
    """A viewer arriving after the source went quiet still sees the last picture."""
    store.put_frame(b"old")
    newest = store.put_frame(b"newest")
    t0 = time.monotonic()
    assert store.wait_frame(None, timeout=3) == (newest, b"newest")
    assert time.monotonic() - t0 < 1.0
    assert store.wait_frame(newest, timeout=0.2) is None  # and then only newer ones
