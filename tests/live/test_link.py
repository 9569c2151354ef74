"""The engine's live link on the in-memory store: the engine side never waits, state is newest
wins, events are ordered and never lost or doubled, metrics are bounded, health tells the truth."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from hiitpi.core.events import EventKind, RepEvent, WorkoutState
from hiitpi.engine.link import LiveLink
from hiitpi.errors import StoreError
from hiitpi.live import Command, CommandKind, EngineStatus, MemoryLiveStore, WriteRefused
from hiitpi.live.base import Round, RoundResult


def _rep(i: int) -> RepEvent:
    return RepEvent(EventKind.REP, i, float(i), float(i) - 0.8, 0.8, 0.9, 1.0)


def _state(reps: int) -> WorkoutState:
    return WorkoutState("push_up", float(reps), reps=reps)


def until(pred: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def store() -> MemoryLiveStore:
    return MemoryLiveStore("t-link")


@pytest.fixture
def link(store: MemoryLiveStore) -> Iterator[LiveLink]:
    link = LiveLink(store, metrics_kept=5)
    link.start()
    yield link
    store.set_down(None)
    link.stop(timeout=1.0)


def _reps(store: MemoryLiveStore) -> list[int]:
    return [e.index for _, e in store.events(count=1000)]


def test_events_survive_an_outage_in_order_and_the_newest_state_wins(
    store: MemoryLiveStore, link: LiveLink
) -> None:
    link.add_events([_rep(1), _rep(2)])
    link.publish(_state(2), EngineStatus(frames=2))
    until(lambda: _reps(store) == [1, 2])
    store.set_down("connection refused")
    for i in range(3, 11):  # reps counted while Redis is away
        link.add_events([_rep(i)])
        link.publish(_state(i), EngineStatus(frames=i))
    until(lambda: link.health()["ok"] is False)
    health = link.health()
    assert health["state"] == "down" and "connection refused" in health["error"]
    assert health["backlog"] >= 8  # the eight events wait (plus any metrics)
    store.set_down(None)
    until(lambda: _reps(store) == list(range(1, 11)), timeout=5)
    until(lambda: (s := store.get_state()) is not None and s.status.frames == 10)
    snap = store.get_state()
    assert snap is not None and snap.state == _state(10)  # only the newest state was written
    live = snap.status.health["live_store"]
    assert live["ok"] is True and live["state"] == "ok" and live["outages"] == 1
    assert "connection refused" in live["error"]  # the page learns what happened
    assert live["backlog"] == 0


def test_the_engine_side_never_waits_for_a_hung_store() -> None:
    class Hung(MemoryLiveStore):
        def __init__(self) -> None:
            super().__init__("t-hung")
            self.release = threading.Event()
            self.entered = threading.Event()

        def publish_state(self, state: WorkoutState | None, status: EngineStatus) -> None:
            self.entered.set()
            self.release.wait(10)  # a Redis that accepted the connection and never answers
            super().publish_state(state, status)

    store = Hung()
    link = LiveLink(store)
    link.start()
    try:
        link.publish(_state(0), EngineStatus())
        assert store.entered.wait(5)  # the link thread is stuck inside the store now
        for i in range(1, 200):  # the engine thread goes on: every call returns at once
            link.add_events([_rep(i)])
            link.add_metric(float(i), 10.0, 0.9)
            link.publish(_state(i), EngineStatus(frames=i))
            link.put_frame(b"\xff\xd8")
            assert link.take_commands() == []
        assert not store.release.is_set()  # all of it while the store was still hung
    finally:
        store.release.set()
        link.stop(timeout=2.0)
    assert _reps(store) == list(range(1, 200))
    snap = store.get_state()
    assert snap is not None and snap.state == _state(199)


def test_metrics_are_bounded_while_away_and_the_oldest_drop(
    store: MemoryLiveStore, link: LiveLink
) -> None:
    store.set_down("away")
    until(lambda: link.health()["ok"] is False)
    for i in range(20):
        link.add_metric(float(i), 10.0, 0.9)
    assert link.backlog == 5 and link.metrics_dropped == 15
    store.set_down(None)
    until(lambda: link.backlog == 0)
    assert [m.t for _, m in store.metrics()] == [15.0, 16.0, 17.0, 18.0, 19.0]


def test_a_write_whose_answer_was_lost_is_not_appended_twice(store: MemoryLiveStore) -> None:
    class LostAnswer(MemoryLiveStore):
        lost = 0

        def append_event(self, event: RepEvent) -> str:
            event_id = super().append_event(event)
            if event.index == 2 and not self.lost:
                self.lost += 1  # Redis applied it; the connection died before the reply
                raise StoreError("Connection closed by server")
            return event_id

    store = LostAnswer("t-lost")
    link = LiveLink(store)
    link.start()
    link.add_events([_rep(1), _rep(2), _rep(3)])
    until(lambda: len(_reps(store)) >= 3)
    link.stop(timeout=1.0)
    assert store.lost == 1 and _reps(store) == [1, 2, 3]


def test_commands_are_read_into_memory_and_stale_ones_skipped(
    store: MemoryLiveStore,
) -> None:
    store.send_command(Command(CommandKind.STOP))  # sent before the engine started: stale
    link = LiveLink(store)
    link.start()
    try:
        store.send_command(Command(CommandKind.SET_PLAYER, player="Ann"))
        store.send_command(Command(CommandKind.START, exercise="squat"))
        got: list[Command] = []
        until(lambda: bool(got.extend(link.take_commands())) or len(got) == 2)
        assert [c.kind for c in got] == [CommandKind.SET_PLAYER, CommandKind.START]
        assert all(c.id is not None for c in got)  # the engine answers by these ids
    finally:
        link.stop(timeout=1.0)


def test_a_frame_handed_on_in_a_batch_is_written_in_one_round() -> None:
    """The engine hands on a frame's metric, state and JPEG a millisecond apart; inside
    ``batch`` the link is woken once and writes them together (one Redis round trip)."""
    rounds: list[Round] = []

    class Counting(MemoryLiveStore):
        def write_round(self, r: Round) -> RoundResult:
            rounds.append(r)
            return super().write_round(r)

    store = Counting("t-batch")
    link = LiveLink(store)
    link.start()
    try:
        until(lambda: bool(rounds))  # the first round: commands and viewers (next in 0.1 s)
        rounds.clear()
        with link.batch():
            link.add_metric(1.0, 20.0, 0.9)
            link.publish(_state(1), EngineStatus(frames=1))
            time.sleep(0.02)  # drawing and encoding: the link must not write the state alone
            link.put_frame(b"jpeg")
        until(lambda: store.wait_frame(None, 0.0) is not None)
        written = [r for r in rounds if r.snapshot or r.frame or r.metrics]
        assert len(written) == 1, written
        assert written[0].snapshot is not None and written[0].frame == b"jpeg"
        assert len(written[0].metrics) == 1
    finally:
        link.stop(timeout=1.0)


def test_viewers_are_cached_and_zero_while_the_store_is_down(
    store: MemoryLiveStore, link: LiveLink
) -> None:
    store.touch_viewer("v1", ttl=30)
    until(lambda: link.viewers == 1)
    store.set_down("away")
    until(lambda: link.viewers == 0)  # nobody can fetch a frame: none is drawn


def test_a_write_refusal_is_named_as_such(store: MemoryLiveStore) -> None:
    class Full(MemoryLiveStore):
        def publish_state(self, state: WorkoutState | None, status: EngineStatus) -> None:
            raise WriteRefused("Redis refuses writes: it cannot save to disk (is the disk full?)")

    link = LiveLink(Full("t-full"))
    link.start()
    try:
        link.publish(None, EngineStatus())
        until(lambda: link.health()["ok"] is False)
        health = link.health()
        assert health["refused"] is True and "disk full" in health["error"]
    finally:
        link.stop(timeout=0.2)


def test_stop_writes_what_is_queued_and_a_save_follows_the_state() -> None:
    order: list[str] = []

    class Recording(MemoryLiveStore):
        def publish_state(self, state: WorkoutState | None, status: EngineStatus) -> None:
            order.append(f"state {status.active}")
            super().publish_state(state, status)

        def persist(self) -> bool:
            order.append("save")
            return super().persist()

    store = Recording("t-order")
    link = LiveLink(store)
    link.start()
    link.save()  # a set ended: the "not active" state must be saved, not the one before
    link.publish(_state(3), EngineStatus(active=False))
    link.add_events([_rep(1)])
    link.stop(timeout=1.0)
    assert order[-2:] == ["state False", "save"]
    snap = store.get_state()
    assert snap is not None and snap.state == _state(3) and _reps(store) == [1]


def test_a_state_alone_gets_a_round_at_most_every_state_every_s_but_a_rep_at_once() -> None:
    """30 states a second cost ~10 rounds (a page polls a few times a second); a frame's rep
    event goes out at once, with the state it came with, so the count is never late; the
    newest state is written within ``state_every_s`` and the last one at stop."""
    rounds: list[tuple[float, Round]] = []

    class Counting(MemoryLiveStore):
        def write_round(self, r: Round) -> RoundResult:
            rounds.append((time.monotonic(), r))
            return super().write_round(r)

    store = Counting("t-coalesce")
    link = LiveLink(store, state_every_s=0.1)
    link.start()
    try:
        until(lambda: bool(rounds))
        t0 = time.monotonic()
        for i in range(1, 31):  # one second at 30 fps, no reps
            with link.batch():
                link.add_metric(float(i), 20.0, 0.9)
                link.publish(_state(0), EngineStatus(frames=i))
            time.sleep(1 / 30)
        elapsed = time.monotonic() - t0
        until(lambda: (s := store.get_state()) is not None and s.status.frames == 30, 1.0)
        states = [r for t, r in rounds if t >= t0 and r.snapshot is not None]
        # ~10 a second (30 before), whatever the scheduler's jitter did to the loop's length
        assert 4 <= len(states) <= elapsed / 0.1 + 2, (len(states), elapsed)
        assert sum(len(r.metrics) for t, r in rounds if t >= t0) == 30  # every metric rides
    finally:
        link.stop(timeout=1.0)
    snap = store.get_state()
    assert snap is not None and snap.status.frames == 30  # the last state, flushed at stop


def test_a_rep_goes_out_at_once_with_the_state_that_counts_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whatever ``state_every_s`` holds back, a frame's rep events are written at once, and
    with them the state published in the same batch (events first)."""
    import hiitpi.engine.link as link_module

    # no command or viewer poll for a minute: only the rep itself can bring a round now
    monkeypatch.setattr(link_module, "COMMAND_POLL_S", 60.0)
    monkeypatch.setattr(link_module, "VIEWER_CHECK_S", 60.0)
    store = MemoryLiveStore("t-rep-at-once")
    link = LiveLink(store, state_every_s=30.0)  # a state alone would wait half a minute
    link.start()
    try:
        link.publish(_state(0), EngineStatus(frames=1))  # the first state: due at once
        until(lambda: store.get_state() is not None)
        t0 = time.monotonic()
        with link.batch():
            link.add_events([_rep(1)])
            link.publish(_state(1), EngineStatus(frames=2))

        def counted() -> bool:
            snap = store.get_state()
            return _reps(store) == [1] and snap is not None and snap.state == _state(1)

        until(counted, 5.0)
        assert time.monotonic() - t0 < 5.0  # not the 30 s a state alone waits
        link.publish(_state(1), EngineStatus(frames=3))  # not due, no event, no poll: held
        time.sleep(0.3)
        snap = store.get_state()
        assert snap is not None and snap.status.frames == 2
    finally:
        link.stop(timeout=1.0)
    snap = store.get_state()
    assert snap is not None and snap.status.frames == 3  # the last state, flushed at stop


def test_an_idle_link_sleeps_between_polls() -> None:
    """No frames and no states: the link wakes only for its command and viewer polls."""
    rounds: list[Round] = []

    class Counting(MemoryLiveStore):
        def write_round(self, r: Round) -> RoundResult:
            rounds.append(r)
            return super().write_round(r)

    link = LiveLink(Counting("t-idle"))
    link.start()
    try:
        time.sleep(1.0)
        # commands every 2 x COMMAND_POLL_S when idle: ~10 a second, never a busy loop
        assert 3 <= len(rounds) <= 15, len(rounds)
    finally:
        link.stop(timeout=1.0)
