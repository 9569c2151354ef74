"""The engine's live link: every live-store (Redis) call of the engine, on a thread of its own.

The referee must never wait for Redis (issue 13, finding 1: a 10 s Redis outage stopped the
frame loop, and the reps done meanwhile were never counted). So the engine thread only hands
things to this link, in memory, and the link writes them when it can:

- the state snapshot: one slot, the newest wins (an old state is worth nothing). It rides on
  every round, and gets a round of its own at most every ``STATE_EVERY_S``: a page polls a few
  times a second, and a frame's rep events go out at once with the state they came with, so
  the count is never late, while the engine's 30 states a second cost a third of the rounds;
- frames: one slot, the newest wins, and a frame older than ``FRAME_MAX_AGE_S`` is not sent;
- metrics: a bounded queue, the oldest dropped first when Redis is away (the chart has a gap);
- rep events: an ordered queue that never drops; an event is removed only once Redis took it,
  and after a failed write the newest stored event is compared first, so a write whose answer
  was lost is not appended twice (the durable record is the history journal, not this);
- commands: read on this thread into a local queue the engine drains without blocking (the
  engine's answers ride on the state it publishes next);
- the viewer count: read every ``VIEWER_CHECK_S`` and cached (0 while Redis is down: nobody
  can fetch a frame then, so none is drawn).

Order per round: rep events (each its own write), then one :class:`~hiitpi.live.base.Round` -
metrics, state, the frame, the command poll and the viewer count when they are due, a single
pipelined round trip on Redis - then a pending save. Events go before the state, so a page that
sees "12 reps" finds the 12th rep's event; the save follows the state it came with.

On a failure the link backs off exponentially (redis-py's ``ExponentialBackoff``, 0.1 s doubling
to 2 s) and keeps everything queued; its health (``component`` "live_store": ok, "ok"/"down",
the last error, since when, backlog) goes into every state it writes, so once Redis is back the
page learns what happened. A write refusal (MISCONF/OOM) is named as such by the store.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from redis.backoff import ExponentialBackoff

from hiitpi.core.events import RepEvent, WorkoutState
from hiitpi.errors import StoreError
from hiitpi.live.base import (
    Command,
    EngineSide,
    EngineStatus,
    Metric,
    Round,
    WriteRefused,
    component,
)

log = logging.getLogger(__name__)

BACKOFF_BASE_S = 0.1
BACKOFF_CAP_S = 2.0
COMMAND_POLL_S = 0.05  # how often commands are read (the engine used to read once a frame)
VIEWER_CHECK_S = 0.2  # how often the viewer count is read
# Both ride on the frame's round when due; the link wakes on its own for them only when no
# round came for twice as long (no frames: an idle or paused engine), so frames at >= 10 fps
# cost one round trip each and no extra wake-ups.
IDLE_WAKE_FACTOR = 2.0
METRICS_KEPT = 900  # metrics queued while Redis is away: 30 s at 30 fps, then the oldest go
FRAME_MAX_AGE_S = 1.0  # a frame that waited longer than this is stale: the next one is sent
STATE_EVERY_S = 0.1  # a state alone (no events, no frame, no save) is written at most this often
STOP_FLUSH_S = 2.0  # how long ``stop`` keeps trying to write what is still queued


@dataclass
class _Health:
    ok: bool | None = None  # None until the first round trip
    error: str | None = None  # the last error (kept after recovery: the page says what it was)
    since: float | None = None  # wall-clock start of the current state
    refused: bool = False  # the last error was Redis refusing writes, not Redis away
    outages: int = 0


class LiveLink:
    """Owns the engine's side of the live store; the engine thread only touches memory.

    ``start`` starts the thread, ``stop`` writes what it can (up to ``STOP_FLUSH_S``) and ends
    it. Every other method is for the engine thread (or the camera's encoder thread) and never
    blocks on I/O.
    """

    def __init__(
        self,
        store: EngineSide,
        *,
        metrics_kept: int = METRICS_KEPT,
        state_every_s: float = STATE_EVERY_S,
    ) -> None:
        self.store = store
        self.state_every_s = state_every_s
        self._state_due = 0.0  # monotonic: when a state alone may have a round again
        self._sleep_until = 0.0  # monotonic: when the sleeping link wakes on its own
        self._cond = threading.Condition()
        self._snapshot: tuple[WorkoutState | None, EngineStatus] | None = None
        self._events: deque[RepEvent] = deque()
        self._metrics: deque[Metric] = deque(maxlen=metrics_kept)
        self.metrics_dropped = 0
        self._frame: tuple[bytes, float] | None = None
        self._save = False  # save once the state that came with the request is written
        self._save_next = False  # requested: rides on the next state the engine publishes
        self._commands: deque[Command] = deque()
        self._position: str | None = None
        self._viewers = 0
        self._health = _Health()
        self._event_unsure = False  # the last event write failed: it may have gone through
        self._failures = 0
        self._retry_at = 0.0
        self._next_commands = self._next_viewers = 0.0
        # when the link wakes on its own to read commands / count viewers (no round came)
        self._wake_commands = self._wake_viewers = 0.0
        self._stopping = False
        self._stop_by = 0.0
        self._recovered_at: float | None = None
        self._backoff = ExponentialBackoff(cap=BACKOFF_CAP_S, base=BACKOFF_BASE_S)
        self._held = 0  # > 0 inside ``batch``: the link is woken once, at its end
        self._kick = False  # something handed on inside the batch needs the link now
        self._thread = threading.Thread(target=self._run, name="hiitpi-live-link", daemon=True)

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the link. The command position is read here when Redis answers (commands sent
        before now are stale), else by the link thread as soon as it can."""
        try:
            self._position = self.store.last_command_id()
            self._up()
        except StoreError as exc:
            self._down(exc)
        self._thread.start()

    def stop(self, timeout: float = STOP_FLUSH_S) -> None:
        """Write what is queued (trying for up to ``timeout`` seconds), then end the thread."""
        with self._cond:
            self._save, self._save_next = self._save or self._save_next, False
            self._stopping = True
            self._stop_by = time.monotonic() + timeout
            self._retry_at = 0.0  # one more try at once, whatever the backoff said
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout + 0.5)
        left = len(self._events)
        if left or self._snapshot is not None:
            log.warning(
                "live store: %d rep event(s) and the last state not written (%s); the history "
                "has them",
                left,
                self._health.error,
            )

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # --- the engine's side: memory only ------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Everything handed on inside goes out together: the link is woken once, at the end,
        and writes it in one round (one Redis round trip a frame instead of one per hand-off:
        the engine hands on a frame's state and, a millisecond later, its JPEG)."""
        with self._cond:
            self._held += 1
        try:
            yield
        finally:
            with self._cond:
                self._held -= 1
                if not self._held and (self._kick or self._rethink(time.monotonic())):
                    self._kick = False
                    self._cond.notify()

    def _wake(self) -> None:
        """Called with the lock held."""
        if self._held:
            self._kick = True
        else:
            self._cond.notify()

    def publish(self, state: WorkoutState | None, status: EngineStatus) -> None:
        with self._cond:
            self._snapshot = (state, status)
            if self._save_next:
                self._save, self._save_next = True, False
            # the link is woken when the state is due now; asleep with no state queued, it is
            # told when to wake instead (inside a batch, the batch's end looks at the time)
            due = self._state_due
            if self._health.ok is False:
                pass  # Redis is away: the link wakes for its retry on its own
            elif self._save or due <= time.monotonic():
                self._wake()
            elif not self._held and due < self._sleep_until:
                self._cond.notify()

    def add_events(self, events: list[RepEvent]) -> None:
        if events:
            with self._cond:
                self._events.extend(events)
                self._wake()

    def add_metric(self, t: float, inference_ms: float, pose_score: float) -> None:
        with self._cond:
            if len(self._metrics) == self._metrics.maxlen:
                self.metrics_dropped += 1
            self._metrics.append(Metric(t, inference_ms, pose_score))

    def put_frame(self, jpeg: bytes) -> None:
        with self._cond:
            self._frame = (jpeg, time.monotonic())
            self._wake()

    def save(self) -> None:
        """Ask the store to save to disk once the next state published is written (a set
        ended: the snapshot on disk must be the one that says so, issue 13 finding 4)."""
        with self._cond:
            self._save_next = True

    def take_commands(self) -> list[Command]:
        with self._cond:
            out = list(self._commands)
            self._commands.clear()
            return out

    @property
    def viewers(self) -> int:
        return self._viewers

    @property
    def backlog(self) -> int:
        """Entries waiting to be written: rep events and metrics."""
        return len(self._events) + len(self._metrics)

    def health(self) -> dict[str, Any]:
        h = self._health
        state = "ok" if h.ok else ("unknown" if h.ok is None else "down")
        return component(
            h.ok,
            state,
            h.error,
            h.since,
            backlog=self.backlog,
            refused=h.refused,
            outages=h.outages,
            metrics_dropped=self.metrics_dropped,
        )

    # --- the link thread ---------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    deadline = self._stop_by
                    break
                self._cond.wait(self._wait_s())
                if self._stopping or not self._ready(time.monotonic()):
                    continue  # woken to think again (a state came in while it slept)
            if time.monotonic() >= self._retry_at:
                self._round()
        # stopping: flush, retrying on the backoff until the deadline
        while True:
            if self._round() and not self._pending():
                return
            if time.monotonic() >= deadline:
                return
            pause = min(self._retry_at, deadline) - time.monotonic()
            if pause > 0:
                time.sleep(pause)

    def _wait_s(self) -> float | None:
        """How long to sleep (called with the lock held): until new work, the next poll, or
        the next retry after a failure; inside a batch (None), until the batch ends."""
        now = time.monotonic()
        if self._health.ok is False:
            self._sleep_until = self._retry_at
            return max(0.0, self._retry_at - now)
        if self._held:
            self._sleep_until = float("inf")
            return None
        if self._due(now):
            return 0.0
        wake = min(self._wake_commands, self._wake_viewers)
        if self._snapshot is not None:
            wake = min(wake, self._state_due)
        self._sleep_until = wake
        return max(0.0, wake - now)

    def _rethink(self, now: float) -> bool:
        """At a batch's end: does the link need waking (called with the lock held)? Yes when a
        round is due, when it went to sleep until the batch's end (no timer of its own), or
        when a state came in that is due before the link would wake."""
        return (
            self._ready(now)
            or self._sleep_until == float("inf")
            or (self._snapshot is not None and self._state_due < self._sleep_until)
        )

    def _ready(self, now: float) -> bool:
        """A round now? Something is due, a poll is (commands, viewers), or after a failure
        the retry is (called with the lock held)."""
        if self._health.ok is False:
            return now >= self._retry_at
        if self._held:
            return False
        return self._due(now) or now >= min(self._wake_commands, self._wake_viewers)

    def _due(self, now: float) -> bool:
        """Something to write now (called with the lock held): metrics only ride along."""
        return bool(
            self._events
            or self._frame is not None
            or self._save
            or (self._snapshot is not None and now >= self._state_due)
        )

    def _pending(self) -> bool:
        return bool(
            self._snapshot is not None
            or self._events
            or self._metrics
            or self._frame is not None
            or self._save
        )

    def _round(self) -> bool:
        """One pass over everything queued; True when it all went through."""
        try:
            self._sync()
        except StoreError as exc:
            self._down(exc)
            return False
        except Exception as exc:  # a bug here must not end the link (and with it the page)
            log.exception("live link round failed")
            self._down(StoreError(f"live link: {exc}"))
            return False
        self._up()
        return True

    def _sync(self) -> None:
        store = self.store
        if self._position is None:
            self._position = store.last_command_id()
        now = time.monotonic()
        with self._cond:  # taken before the events are written: every event it counts is queued
            snap, self._snapshot = self._snapshot, None
            save, self._save = self._save, False
            frame, self._frame = self._frame, None
            metrics = tuple(self._metrics)
        try:
            self._write_events()
        except StoreError:
            self._keep(snap, save, frame)
            raise
        if frame is not None and now - frame[1] > FRAME_MAX_AGE_S:
            frame = None  # stale: the next one is sent
        read_commands = now >= self._next_commands
        count_viewers = now >= self._next_viewers
        r = Round(
            metrics=metrics,
            snapshot=None if snap is None else self._stamped(*snap),
            frame=None if frame is None else frame[0],
            commands_after=self._position if read_commands else None,
            count_viewers=count_viewers,
        )
        try:
            result = store.write_round(r)
        except StoreError:
            self._keep(snap, save, frame)
            raise
        if snap is not None:
            self._state_due = now + self.state_every_s
        for m in metrics:
            self._pop_metric(m)
        if read_commands:
            self._next_commands = now + COMMAND_POLL_S
            self._wake_commands = now + IDLE_WAKE_FACTOR * COMMAND_POLL_S
            if result.position is not None:
                self._position = result.position
            if result.commands:
                with self._cond:
                    self._commands.extend(result.commands)
        if count_viewers and result.viewers is not None:
            self._viewers = result.viewers
            self._next_viewers = now + VIEWER_CHECK_S
            self._wake_viewers = now + IDLE_WAKE_FACTOR * VIEWER_CHECK_S
        if save:  # after the state it came with: the snapshot on disk is the one that says so
            try:
                store.persist()
            except StoreError:
                with self._cond:
                    self._save = True
                raise

    def _keep(
        self,
        snap: tuple[WorkoutState | None, EngineStatus] | None,
        save: bool,
        frame: tuple[bytes, float] | None,
    ) -> None:
        """A round failed: put back what it took; what the engine handed on meanwhile wins."""
        with self._cond:
            self._snapshot = self._snapshot or snap
            self._save = self._save or save
            self._frame = self._frame or frame

    def _pop_metric(self, m: Metric) -> None:
        with self._cond:  # the engine may have pushed it out meanwhile (queue full)
            if self._metrics and self._metrics[0] is m:
                self._metrics.popleft()

    def _write_events(self) -> None:
        while self._events:
            event = self._events[0]
            if self._event_unsure:
                recent = self.store.recent_events(1)
                self._event_unsure = False
                if recent and recent[0][1] == event:  # the failed write had gone through
                    with self._cond:
                        self._events.popleft()
                    continue
            try:
                self.store.append_event(event)
            except StoreError:
                self._event_unsure = True
                raise
            with self._cond:
                self._events.popleft()

    def _stamped(
        self, state: WorkoutState | None, status: EngineStatus
    ) -> tuple[WorkoutState | None, EngineStatus]:
        """The state with the link's own health as of now (the engine's copy may be older).

        Written after a failure it says "ok" already: if this write goes through, that is true,
        and it is the write that tells the page the outage (its error, its backlog) is over."""
        mine = self.health()
        if self._health.ok is not True:
            self._recovered_at = time.time()
            mine.update(ok=True, state="ok", since=self._recovered_at)
        health = {**status.health, "live_store": mine}
        return state, replace(status, health=health)

    def _up(self) -> None:
        h = self._health
        if h.ok is not True:
            at = self._recovered_at or time.time()
            if h.ok is False:
                log.warning("live store is back after %.1f s", at - (h.since or at))
            h.ok, h.since = True, at
        self._recovered_at = None
        self._failures = 0
        self._retry_at = 0.0

    def _down(self, exc: StoreError) -> None:
        h = self._health
        self._recovered_at = None
        if h.ok is not False:
            h.outages += 1
            h.ok, h.since = False, time.time()
            log.warning("live store unavailable, counting goes on: %s", exc)
        h.error, h.refused = str(exc), isinstance(exc, WriteRefused)
        self._viewers = 0  # nobody can fetch a frame now: draw none
        self._failures += 1
        self._retry_at = time.monotonic() + self._backoff.compute(self._failures)
