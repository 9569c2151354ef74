"""Issue 13 finding 7: MJPEG viewers must not take the web server down.

The whole station (App: embedded Redis, the real pose model on a looping clip, the web server)
against a bounded load in its own process (``hiitpi.benchmarks.viewers``): one viewer, then 50
viewers that read every frame plus idle sockets that never read, while /healthz is asked every
100 ms. Before the fix (waitress, one worker per stream, no write timeout) more viewers than
``web.threads`` made /healthz hang and left the extras without a frame. ``bench/viewers.py``
is the 2-minute version, with the numbers in BENCHMARKS.md.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from engine.clips import write_clip
from hiitpi.app import App
from hiitpi.config import PoseConfig, Settings, SourceConfig, WebConfig

VIEWERS, IDLE = 50, 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5) as r:
        return json.loads(r.read())


def _load(port: int, viewers: int, idle: int, seconds: float) -> dict:
    cmd = [sys.executable, "-m", "hiitpi.benchmarks.viewers", "--port", str(port)]
    cmd += ["--viewers", str(viewers), "--idle", str(idle), "--seconds", str(seconds)]
    proc = subprocess.run(cmd, capture_output=True, check=True, timeout=seconds + 30)
    return json.loads(proc.stdout)


@pytest.mark.model
@pytest.mark.slow
def test_fifty_viewers_and_idle_sockets_leave_the_server_answering(tmp_path: Path) -> None:
    import psutil

    clip = write_clip(tmp_path / "clip.mp4", frames=90, size=(640, 360))
    port = _free_port()
    settings = Settings(
        source=SourceConfig(uri=str(clip), loop=True),
        # fewer request workers than viewers: before the fix, this alone starved /healthz
        web=WebConfig(host="127.0.0.1", port=port, threads=8, max_viewers=64, timeout_s=3),
        data_dir=tmp_path / "data",
        pose=PoseConfig(),
    )
    app = App(settings, station="faults-viewers")
    app.start()
    try:
        deadline = time.monotonic() + 30
        while not _status(port)["engine_running"] and time.monotonic() < deadline:
            time.sleep(0.2)
        one = _load(port, 1, 0, 4)
        fps_one = _status(port)["fps"]
        rss_before = psutil.Process().memory_info().rss
        many = _load(port, VIEWERS, IDLE, 12)
        fps_many = _status(port)["fps"]
        rss_after = psutil.Process().memory_info().rss
        print(f"one viewer: {one}\n{VIEWERS} viewers: {many}\nfps {fps_one} -> {fps_many}")
        assert one["served"] == 1 and one["frames_min"] > 0
        assert many["served"] == VIEWERS and many["never_a_frame"] == 0, many
        # every probe answered (a timeout is 2 s): waitress timed out on all of them
        assert many["probe_timeouts"] == 0 and many["probes"] > 50, many
        assert many["healthz_p99_ms"] < 1000, many  # acceptance is 200 ms on a quiet machine
        assert many["idle_dropped_by_server"] == IDLE, many  # they did not drain: dropped
        assert fps_many >= 0.7 * fps_one, (fps_one, fps_many)  # the engine is not slowed
        assert rss_after - rss_before < 64 * 2**20, (rss_before, rss_after)
        viewers = app.web.extensions["hiitpi_viewers"] if app.web else None
        deadline = time.monotonic() + 5
        while viewers is not None and viewers.active and time.monotonic() < deadline:
            time.sleep(0.1)
        assert viewers is not None and viewers.active == 0  # every slot came back
    finally:
        t0 = time.monotonic()
        app.stop()
    assert time.monotonic() - t0 < 5
