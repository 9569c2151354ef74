"""Routes through Flask's test client over a real Redis."""

from __future__ import annotations

import threading
import time
from typing import Any

import redis
from flask import Flask
from flask.testing import FlaskClient

from hiitpi.config import Settings
from hiitpi.core.events import WorkoutState
from hiitpi.live import CommandKind, EngineStatus, RedisLiveStore
from hiitpi.web import create_app
from hiitpi.web.stream import FrameHub

EVIL = "<script>alert(1)</script>"


def _publish(store: RedisLiveStore, player: str = "Ann") -> None:
    state = WorkoutState(
        "push_up", 20.0, reps=4, no_reps=2, pace=8.5, phase="down", last_reason="not deep enough"
    )
    status = EngineStatus(
        source="cam0",
        backend="mediapipe-full",
        fps=28.0,
        inference_ms=21.0,
        player=player,
        active=True,
        running=True,
    )
    store.publish_state(state, status)


def test_status_reports_the_engine_snapshot(client: FlaskClient, store: RedisLiveStore) -> None:
    _publish(store)
    body = client.get("/api/status").get_json()
    assert body["workout"] == "push_up"
    assert (body["reps"], body["no_reps"], body["pace"]) == (4, 2, 8.5)
    assert body["last_reason"] == "not deep enough"
    assert body["player"] == "Ann" and body["source"] == "cam0"
    assert body["backend"] == "mediapipe-full" and body["fps"] == 28.0
    assert body["inference_ms"] == 21.0
    assert body["redis"]["ok"] is True and body["engine_running"] is True


def test_status_before_any_engine(client: FlaskClient) -> None:
    body = client.get("/api/status").get_json()
    assert body["engine_running"] is False and body["workout"] is None
    # nobody published: the counts are unknown (null), not a made-up 0
    assert body["reps"] is None and body["count"] is None and body["no_reps"] is None
    assert body["health"]["engine"] == {
        "ok": False,
        "state": "none",
        "error": None,
        "since": None,
        "fps": None,
    }


def test_page_escapes_the_player_name(client: FlaskClient, store: RedisLiveStore) -> None:
    _publish(store, player=EVIL)
    html = client.get("/").get_data(as_text=True)
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'src="/videostream"' in html
    assert 'value="push_up"' in html  # the exercise dropdown
    # the API returns it as JSON data; the page sets it with textContent only
    assert client.get("/api/status").get_json()["player"] == EVIL


def test_commands_reach_the_command_stream(client: FlaskClient, store: RedisLiveStore) -> None:
    pos = store.last_command_id()
    name = "<i>Ann</i>&'\""  # 1-20 printable characters: valid, and stored verbatim
    r = client.post("/api/command", json={"action": "set_player", "player": name})
    assert r.status_code == 202
    assert (
        client.post("/api/command", json={"action": "start", "exercise": "squat"}).status_code
        == 202
    )
    assert client.post("/api/command", json={"action": "stop"}).status_code == 202
    _, cmds = store.read_commands(pos)
    assert [c.kind for c in cmds] == [CommandKind.SET_PLAYER, CommandKind.START, CommandKind.STOP]
    assert cmds[0].player == name and cmds[1].exercise == "squat"


def test_bad_commands_are_json_errors(client: FlaskClient, store: RedisLiveStore) -> None:
    pos = store.last_command_id()
    r = client.post("/api/command", json={"action": "start", "exercise": "<b>nope</b>"})
    assert r.status_code == 404 and "unknown exercise" in r.get_json()["error"]
    r = client.post("/api/command", json={"action": "set_player", "player": "x" * 21})
    assert r.status_code == 400
    r = client.post("/api/command", json={"action": "explode"})
    assert r.status_code == 400 and "valid" in r.get_json()["error"]
    r = client.post("/api/command", json={"action": "start", "exercise": "pushup"})
    assert "unknown exercise 'pushup'; valid: " in r.get_json()["error"]
    assert "push_up" in r.get_json()["error"]
    r = client.post("/api/command", json={"exercise": "squat"})
    assert r.status_code == 400 and r.get_json()["error"].startswith("missing action; valid: ")
    r = client.post("/api/command", data='{"action": "stop"}', content_type="text/plain")
    assert r.status_code == 400 and "send Content-Type: application/json" in r.get_json()["error"]
    assert client.get("/api/nothing-here").get_json()["error"]
    assert store.read_commands(pos) == (pos, [])


def test_form_post_redirects_to_the_page(client: FlaskClient, store: RedisLiveStore) -> None:
    r = client.post("/api/command", data={"action": "start", "exercise": "push_up"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/")


def test_healthz(client: FlaskClient, store: RedisLiveStore) -> None:
    r = client.get("/healthz")  # Redis answers, but no engine has published yet
    assert r.status_code == 503
    body = r.get_json()
    assert body["redis"] is True and body["engine_running"] is False
    assert body["source_ok"] is None and "no engine" in body["error"]
    _publish(store)
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.get_json()
    assert {k: v for k, v in body.items() if k != "health"} == {
        "ok": True,
        "redis": True,
        "engine_running": True,
        "source_ok": True,
        "error": None,
    }
    parts = body["health"]
    assert set(parts) == {"redis", "engine", "camera", "database", "live_store", "referee"}
    assert parts["redis"]["ok"] is True and parts["redis"]["state"] == "ok"
    assert parts["engine"]["ok"] is True and parts["engine"]["fps"] == 28.0
    assert parts["camera"]["ok"] is True
    assert parts["database"]["ok"] is None  # this engine reports no database entry: unknown


def test_healthz_names_a_stopped_engine(client: FlaskClient, store: RedisLiveStore) -> None:
    store.publish_state(None, EngineStatus(source="cam0", running=False))
    body = client.get("/healthz").get_json()
    assert body["ok"] is False and body["source_ok"] is None
    assert "not publishing" in body["error"]


def test_healthz_fails_once_the_camera_delivers_no_frames(
    client: FlaskClient, store: RedisLiveStore
) -> None:
    status = EngineStatus(source="cam0", running=True, error="cam0 ended", source_ended=True)
    store.publish_state(None, status)
    r = client.get("/healthz")
    assert r.status_code == 503
    body = r.get_json()
    assert body["engine_running"] is True and body["source_ok"] is False
    assert body["error"] == "cam0 ended"


def test_down_redis_is_reported_not_raised() -> None:
    dead = RedisLiveStore(
        redis.Redis.from_url("redis://127.0.0.1:1/0"), "dead", url="redis://127.0.0.1:1"
    )
    c = create_app(dead, Settings()).test_client()
    r = c.get("/healthz")
    assert r.status_code == 503 and r.get_json()["redis"] is False
    body = c.get("/api/status").get_json()
    assert body["redis"]["ok"] is False and "127.0.0.1:1" in body["redis"]["error"]
    r = c.post("/api/command", json={"action": "stop"})
    assert r.status_code == 503 and "127.0.0.1:1" in r.get_json()["error"]


def test_videostream_counts_the_viewer_and_forgets_it(
    client: FlaskClient, store: RedisLiveStore
) -> None:
    def engine() -> None:  # stands in for the engine's put_frame: only the web is under test
        time.sleep(0.3)
        store.put_frame(b"\xff\xd8jpeg-1")

    threading.Thread(target=engine).start()
    r = client.get("/videostream", buffered=False)
    assert r.mimetype == "multipart/x-mixed-replace"
    chunk = next(iter(r.response))
    assert chunk.startswith(b"--frame\r\nContent-Type: image/jpeg\r\n")
    assert b"X-Frame-Id: " in chunk and chunk.endswith(b"\xff\xd8jpeg-1\r\n")
    assert store.viewer_count() == 1
    r.close()  # the client goes away
    assert store.viewer_count() == 0


def test_viewers_share_one_store_read_per_frame(app: Flask, store: RedisLiveStore) -> None:
    hub = app.extensions["hiitpi_frames"]
    clients = [app.test_client() for _ in range(3)]  # kept: a dropped client closes its stream
    streams: list[Any] = [None] * 3
    got: list[list[bytes]] = [[] for _ in clients]

    def read(k: int) -> None:
        # the test client runs the app until its first chunk, so get() itself waits for a frame
        streams[k] = clients[k].get("/videostream", buffered=False)
        it = iter(streams[k].response)
        got[k] = [next(it) for _ in range(2)]

    readers = [threading.Thread(target=read, args=(k,)) for k in range(3)]
    for t in readers:
        t.start()
    deadline = time.monotonic() + 5
    while store.viewer_count() < 3 and time.monotonic() < deadline:
        time.sleep(0.02)  # each client subscribes to the hub, then registers as a viewer
    time.sleep(0.3)  # and the hub's reader is blocked in its read (frames before it are skipped)
    for i in range(2):
        store.put_frame(f"jpeg-{i}".encode())
        time.sleep(0.15)
    for t in readers:
        t.join(5)
    assert got[0] == got[1] == got[2] and len(got[0]) == 2
    assert hub.reads == 2  # three viewers, one read of each frame
    assert store.viewer_count() == 3
    for r in streams:
        r.close()
    assert store.viewer_count() == 0


def test_index_can_be_left_to_a_dashboard(store: RedisLiveStore) -> None:
    c = create_app(store, Settings(), index=False).test_client()
    assert c.get("/").status_code == 404  # free for mount_dashboard
    assert 'src="/videostream"' in c.get("/plain").get_data(as_text=True)
    r = c.post("/api/command", data={"action": "stop"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/plain")


def test_a_local_hub_serves_the_engines_frames_without_redis(store: RedisLiveStore) -> None:
    """``hiitpi serve``: the engine in this process offers each JPEG to the hub in memory; the
    streams neither read the store nor register in it (the engine counts the hub's clients),
    and every client sends the same part bytes, built once."""
    hub = FrameHub(store, local=True)
    app = create_app(store, Settings(), frames=hub)
    assert app.extensions["hiitpi_frames"] is hub
    clients = [app.test_client() for _ in range(2)]
    streams: list[Any] = [None] * 2
    got: list[list[bytes]] = [[], []]
    first = [threading.Event(), threading.Event()]

    def read(k: int) -> None:
        streams[k] = clients[k].get("/videostream", buffered=False)
        it = iter(streams[k].response)
        got[k].append(next(it))
        first[k].set()
        got[k].append(next(it))

    readers = [threading.Thread(target=read, args=(k,)) for k in range(2)]
    for t in readers:
        t.start()
    deadline = time.monotonic() + 5
    while hub.clients < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert hub.clients == 2
    hub.offer(b"\xff\xd8jpeg-0")
    assert all(e.wait(5) for e in first)  # both sent frame 0 before frame 1 comes
    hub.offer(b"\xff\xd8jpeg-1")
    for t in readers:
        t.join(5)
    assert got[0] == got[1] and len(got[0]) == 2
    assert got[0][1] is got[1][1]  # one part for both clients, not a copy each
    assert got[0][1].endswith(b"jpeg-1\r\n") and b"X-Frame-Id: " in got[0][1]
    assert hub.offers == 2
    assert store.viewer_count() == 0 and store.wait_frame(None, 0.0) is None  # Redis untouched
    for r in streams:
        r.close()
    assert hub.clients == 0
    hub.close()
