"""Issue 13, finding 1: a Redis outage must not stop the referee.

A real redis-server is SIGKILLed for 10 s in the middle of the 30-push-up clip while the live
engine referees it; the set must count what it counts without the outage, and once Redis is
back the web side must see the final state and every rep event, once each, in order.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import redis
from tests.engine.conftest import ReplayEstimator

from hiitpi.config import PoseConfig, Settings, load_config
from hiitpi.core.events import EventKind
from hiitpi.core.frame import Frame
from hiitpi.engine.link import LiveLink
from hiitpi.engine.live import LiveEngine
from hiitpi.engine.poses import track_for
from hiitpi.errors import StoreError
from hiitpi.live import EngineStatus, LiveSnapshot, RedisLiveStore, WriteRefused
from hiitpi.live.base import Round
from hiitpi.live.codec import encode_snapshot
from hiitpi.referee import Referee, load_exercise
from hiitpi.sources.opencv import OpenCVSource
from hiitpi.web.routes import create_app

from .conftest import RedisServer

CLIP = "push_up__calimiro__1.mp4"  # the clip: 30 push-ups in 55 s
SPEED = 3.0  # the clip plays 3x faster than real time: the test takes ~20 s, not 55
OUTAGE_S = 10.0


class FastForward:
    """The clip as a camera running ``speed`` times faster than real time.

    It never waits for the engine: frames the engine is not ready for are dropped by the
    capture slot, exactly as with a real camera. ``t`` stays the clip's own time, so the
    referee judges the real tempo.
    """

    def __init__(self, path: Path, speed: float) -> None:
        self.inner = OpenCVSource(str(path))
        self.id, self.fps, self.speed = str(path), 0.0, speed
        self._t0: float | None = None

    def open(self) -> None:
        self.inner.open()
        self.fps = self.inner.fps * self.speed

    def read(self) -> Frame | None:
        frame = self.inner.read()
        if frame is None:
            return None
        if self._t0 is None:
            self._t0 = time.monotonic()
        delay = self._t0 + frame.t / self.speed - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return frame

    def close(self) -> None:
        self.inner.close()


def _state(web: RedisLiveStore) -> LiveSnapshot | None:
    try:
        return web.get_state()
    except StoreError:
        return None  # Redis is down: the web side sees nothing


def _wait(web: RedisLiveStore, pred: object, timeout: float) -> LiveSnapshot:
    deadline = time.monotonic() + timeout
    snap = None
    while time.monotonic() < deadline:
        snap = _state(web)
        if snap is not None and pred(snap):  # type: ignore[operator]
            return snap
        time.sleep(0.05)
    raise AssertionError(f"timed out; last snapshot: {snap}")


@pytest.mark.shared
@pytest.mark.slow
def test_a_redis_outage_mid_set_loses_no_rep(
    redis_server: RedisServer, clips_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = clips_dir / CLIP
    track = track_for(clip, PoseConfig(), Settings().cache_dir)  # cached: the real model once
    offline = Referee(load_exercise("push_up"))
    for tf in track:
        offline.update(tf.pose, tf.t)
    expected = offline.state.reps  # 30

    monkeypatch.setenv("HIITPI_REDIS_URL", redis_server.url)
    settings = load_config(None)  # as `hiitpi serve` reads it
    assert settings.redis_url == redis_server.url
    station = f"t-link-{uuid.uuid4().hex[:8]}"
    engine_store = RedisLiveStore.from_url(settings.redis_url, station)
    web = RedisLiveStore.from_url(settings.redis_url, station)  # the web app's own client
    source = FastForward(clip, SPEED)
    source.open()
    engine = LiveEngine(
        source, ReplayEstimator({tf.frame: tf.pose for tf in track}), engine_store, settings,
        exercise="push_up",
    )  # fmt: skip
    engine.start()
    try:
        _wait(web, lambda s: s.state is not None and s.state.reps >= 2, timeout=20)
        redis_server.kill()
        killed_at_frame = engine.status.frames
        time.sleep(OUTAGE_S)
        during = engine.status.frames - killed_at_frame
        redis_server.restart()
        snap = _wait(web, lambda s: s.status.source_ended, timeout=40)
    finally:
        engine.stop()
        source.close()
    assert snap.state is not None
    if snap.status.dropped < 20:  # the engine kept up (a heavily loaded machine may not)
        assert snap.state.reps == expected, (snap.state.reps, expected, snap.status.dropped)
    else:
        assert abs(snap.state.reps - expected) <= 1, (snap.state.reps, snap.status.dropped)
    # the referee went on through the outage: 10 s at 90 fps is ~900 frames
    assert during > 300, f"only {during} frames were refereed while Redis was down"
    reps = [e.index for _, e in web.events(count=1000) if e.kind is EventKind.REP]
    assert reps == list(range(1, snap.state.reps + 1))  # none lost, none twice, in order
    health = snap.status.health["live_store"]
    assert health["ok"] is True and health["outages"] >= 1, health
    assert health["error"] and "failed" in health["error"], health  # what happened, kept
    assert health["backlog"] == 0, health
    web.clear()
    web.close()
    engine_store.close()


def test_a_redis_that_refuses_writes_is_named_as_such(redis_server: RedisServer) -> None:
    """Finding 11 (engine side): a Redis that is up but refuses writes is not "down" and not
    "the engine is not publishing": the store, the link's health and a write check say why."""
    store = RedisLiveStore.from_url(redis_server.url, "t-link-refuse")
    link = LiveLink(store)
    link.start()
    try:
        assert store.check_writable() is None
        store.client.config_set("maxmemory-policy", "noeviction")
        store.client.config_set("maxmemory", 1)  # every write is now over the limit: OOM
        with pytest.raises(WriteRefused, match="refuses writes: it is out of memory"):
            store.publish_state(None, EngineStatus())
        assert "refuses writes" in (store.check_writable() or "")
        with pytest.raises(WriteRefused, match="refuses writes: it is out of memory"):
            store.write_round(Round(snapshot=(None, EngineStatus())))  # the link's pipeline
        link.publish(None, EngineStatus())
        deadline = time.monotonic() + 5
        while link.health()["ok"] is not False and time.monotonic() < deadline:
            time.sleep(0.02)
        health = link.health()
        assert health["state"] == "down" and health["refused"] is True, health
        assert "out of memory" in health["error"]
        # the web's health check: the state went stale because writes are refused, and says so
        stale = LiveSnapshot(None, EngineStatus(running=True), time.time() - 60)
        store.client.config_set("maxmemory", 0)
        store.client.set(store.key("state"), encode_snapshot(stale))
        store.client.config_set("maxmemory", 1)
        got = create_app(store, Settings()).test_client().get("/healthz")
        assert got.status_code == 503
        assert "refuses writes: it is out of memory" in got.get_json()["error"], got.get_json()
        store.client.config_set("maxmemory", 0)
    finally:
        link.stop(timeout=1.0)
        store.close()
    misconf = redis.ResponseError("MISCONF Redis is configured to save RDB snapshots, but ...")
    assert "cannot save to disk (is the disk full?)" in str(store._error("publish", misconf))
    # in a pipeline (the link's round) redis-py puts the command in front of the same text
    piped = redis.ResponseError(f"Command # 2 (SET k v) of pipeline caused error: {misconf}")
    assert isinstance(store._error("write round", piped), WriteRefused)
