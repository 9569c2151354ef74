"""A real station for fault tests: ``hiitpi serve`` in a subprocess (embedded Redis, a real
push-up clip looping, MoveNet Lightning: the fastest real backend), killed like a crash kills.

``power_cut`` SIGKILLs the app and its embedded redis-server together: nothing is saved, what
Redis wrote to disk last is what the next start finds (as after a power cut).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from hiitpi.store import HistoryStore
from hiitpi.web.security.credentials import Credentials

CLIP = "push_up__sp__1.mp4"  # 7 quick push-ups in 9.5 s; looped, a rep every ~1.3 s
MOVENET = "movenet_single_pose_lightning_ptq.tflite"
STATION = "t-journal"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Station:
    """One station's data dir and port, started and killed as often as a test likes."""

    def __init__(self, shared: Path, data_dir: Path, database_url: str | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.database_url = database_url
        self.env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "HIITPI_DATA_DIR": str(data_dir),
            "HIITPI_STATION": STATION,
            "HIITPI_SOURCE__URI": str(shared / "data" / "clips" / CLIP),
            "HIITPI_SOURCE__LOOP": "true",
            "HIITPI_POSE__BACKEND": "movenet",
            "HIITPI_POSE__MODEL_PATH": str(shared / "models" / MOVENET),
            "HIITPI_WEB__HOST": "127.0.0.1",
            "HIITPI_WEB__PORT": str(self.port),
        }
        if database_url is not None:
            self.env["HIITPI_DATABASE_URL"] = database_url
        self.proc: subprocess.Popen[str] | None = None
        self.log = data_dir / "serve.log"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "a")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hiitpi", "serve"],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        out.close()
        self.wait(lambda s: s.get("engine_running"), timeout=60)

    def status(self) -> dict[str, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", "/api/status")
            return dict(json.loads(conn.getresponse().read()))
        finally:
            conn.close()

    def command(self, **body: Any) -> dict[str, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            data = json.dumps({**body, "confirm": True})
            # a script on the station: the API token (hiitpi pin token), not a browser's cookie
            token = Credentials(self.data_dir).ensure_api_token()
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
            conn.request("POST", "/api/command", data, headers)
            resp = conn.getresponse()
            answer = dict(json.loads(resp.read()))
            assert resp.status == 200, answer
            return answer
        finally:
            conn.close()

    def wait(self, pred: Callable[[dict[str, Any]], Any], timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self.tail()
            try:
                last = self.status()
                if pred(last):
                    return last
            except (OSError, http.client.HTTPException, ValueError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"timed out; last status {last}\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text()[-3000:] if self.log.exists() else ""

    def redis_pid(self) -> int:
        client = redis.Redis(unix_socket_path=str(self.data_dir / "redis" / "redis.sock"))
        try:
            return int(client.info("server")["process_id"])
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL the app (an app crash: the embedded Redis lives on)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    def power_cut(self) -> None:
        """SIGKILL the app and its embedded redis-server together."""
        pid = self.redis_pid()
        self.kill()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        (self.data_dir / "redis" / "redis.sock").unlink(missing_ok=True)

    def stop(self) -> None:
        """SIGTERM (a clean stop), then make sure no redis-server of ours is left."""
        pid = None
        with contextlib.suppress(redis.RedisError, OSError):
            pid = self.redis_pid()
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None
        if pid is not None and _alive(pid):
            os.kill(pid, signal.SIGKILL)

    def history(self) -> HistoryStore:
        url = self.database_url or f"sqlite:///{self.data_dir / 'history.sqlite3'}"
        return HistoryStore(url)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def assert_history_matches(station: Station, reps: int) -> None:
    """The invariant after every crash: history holds exactly the reps the referee counted
    (``reps``, what /api/status said when the set ended), indices 1..N, one set per set."""
    with station.history() as h:
        sets = [s for s in h.player_history("guest") if s.workout == "push_up"]
        counted = [s for s in sets if s.reps]
        assert counted, sets
        last = counted[-1]
        indices = [r.index for r in h.session_timeline(last.id) if r.kind.value == "rep"]
        assert indices == list(range(1, reps + 1)), (indices, reps)
        assert (last.reps, last.status) == (reps, "done"), last
        assert not [s for s in sets if s.status == "active"], sets
