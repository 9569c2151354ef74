"""Issue 13 finding 11: health that tells the truth, part by part, with real Redis servers.

A Redis of the test's own (a real redis-server process) that refuses writes (``maxmemory``
reached, as a full disk refuses them with MISCONF), one that is killed mid-run, and an engine
that reports its database and camera: each appears as itself in /healthz and /api/status.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from hiitpi.config import Settings
from hiitpi.core.events import WorkoutState
from hiitpi.live import EngineStatus, RedisLiveStore
from hiitpi.live.base import component
from hiitpi.web import create_app
from hiitpi.web import health as health_mod


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server on PATH")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 5
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    yield proc, port
    proc.kill()
    proc.wait(5)


def _publish(store: RedisLiveStore, **health: dict) -> None:
    state = WorkoutState("push_up", 20.0, reps=7, no_reps=1, pace=8.0, phase="up")
    status = EngineStatus(source="cam0", fps=29.5, running=True, active=True, health=health)
    store.publish_state(state, status)


def test_a_redis_that_refuses_writes_is_named_so(
    own_redis: tuple[subprocess.Popen[bytes], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health_mod, "PROBE_EVERY_S", 0.0)
    _, port = own_redis
    url = f"redis://127.0.0.1:{port}/0"
    store = RedisLiveStore(redis.Redis.from_url(url), "refuses", url=url)
    c = create_app(store, Settings()).test_client()
    _publish(store)
    assert c.get("/healthz").status_code == 200
    store.client.config_set("maxmemory", 1)  # every write now gets "OOM command not allowed"
    r = c.get("/healthz")
    body = r.get_json()
    assert r.status_code == 503
    assert "refuses writes" in body["error"] and "maxmemory" in body["error"], body
    assert "not publishing" not in body["error"]  # what the issue saw: the wrong cause
    assert body["health"]["redis"]["state"] == "refuses_writes"
    s = c.get("/api/status").get_json()
    assert s["redis"]["ok"] is False and s["redis"]["state"] == "refuses_writes"
    assert s["reps"] == 7  # reads still work: the last counts are shown, not nulls
    store.client.config_set("maxmemory", 0)
    r = c.get("/healthz")
    assert r.status_code == 200
    redis_entry = r.get_json()["health"]["redis"]
    assert redis_entry["ok"] is True and "maxmemory" in redis_entry["last_error"]  # what happened
    store.close()


def test_a_redis_outage_gives_unknown_counts_not_zero(
    own_redis: tuple[subprocess.Popen[bytes], int],
) -> None:
    proc, port = own_redis
    url = f"redis://127.0.0.1:{port}/0"
    store = RedisLiveStore(redis.Redis.from_url(url, socket_timeout=1), "outage", url=url)
    c = create_app(store, Settings()).test_client()
    _publish(store)
    assert c.get("/api/status").get_json()["reps"] == 7
    proc.kill()
    proc.wait(5)
    s = c.get("/api/status").get_json()
    assert s["redis"]["ok"] is False and s["redis"]["state"] == "down"
    assert s["reps"] is None and s["no_reps"] is None and s["count"] is None  # unknown
    assert s["corrected"] is None and s["pace"] is None
    parts = s["health"]
    assert parts["engine"]["ok"] is None and parts["engine"]["state"] == "unknown"
    assert parts["database"]["ok"] is None and parts["camera"]["ok"] is None
    r = c.get("/healthz")
    assert r.status_code == 503 and r.get_json()["error"].startswith("live store:")
    store.close()


def test_the_engines_database_and_camera_entries_are_shown(store: RedisLiveStore) -> None:
    db_down = component(False, "down", "connection refused", 1.0, backlog=3)
    cam = component(False, "waiting", "cam0: no frame for 4 s", 2.0)
    link = component(True, "ok", None, 3.0, backlog=0)
    _publish(store, database=db_down, camera=cam, live_store=link)
    c = create_app(store, Settings()).test_client()
    r = c.get("/healthz")
    body = r.get_json()
    assert r.status_code == 503 and body["error"] == "cam0: no frame for 4 s"
    assert body["source_ok"] is False
    parts = body["health"]
    assert parts["database"] == db_down and parts["database"]["backlog"] == 3
    assert parts["camera"] == cam and parts["live_store"] == link
    assert parts["engine"]["ok"] is True and parts["engine"]["fps"] == 29.5
    # the database alone down: the engine still counts (its journal), so the station is up
    _publish(store, database=db_down, camera=component(True, "ok"), live_store=link)
    r = c.get("/healthz")
    assert r.status_code == 200 and r.get_json()["health"]["database"]["ok"] is False
    s = c.get("/api/status").get_json()
    assert s["health"]["database"]["backlog"] == 3 and "health" in s


def test_a_failing_referee_makes_healthz_503(store: RedisLiveStore) -> None:
    error = "the referee failed: ZeroDivisionError('division by zero')"
    _publish(store, camera=component(True, "ok"), referee=component(False, "failing", error, 4.0))
    c = create_app(store, Settings()).test_client()
    r = c.get("/healthz")
    assert r.status_code == 503 and r.get_json()["error"] == error
    assert r.get_json()["health"]["referee"]["state"] == "failing"
    _publish(store, camera=component(True, "ok"))  # an engine that never failed a frame
    r = c.get("/healthz")
    assert r.status_code == 200 and r.get_json()["health"]["referee"]["ok"] is True


def test_a_stale_snapshot_reports_its_parts_as_unknown(store: RedisLiveStore) -> None:
    _publish(store, database=component(True, "ok", backlog=0))
    snap = json.loads(store.client.get(store.key("state")))
    snap["updated"] = time.time() - 60  # the engine stopped publishing a minute ago
    store.client.set(store.key("state"), json.dumps(snap))
    c = create_app(store, Settings()).test_client()
    s = c.get("/api/status").get_json()
    assert s["engine_running"] is False
    assert s["health"]["engine"]["ok"] is False and s["health"]["engine"]["fps"] is None
    assert s["health"]["database"]["ok"] is None and s["health"]["database"]["stale"] is True
