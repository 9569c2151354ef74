"""50 MJPEG viewers against one: /healthz latency, engine fps and RSS (issue 13 finding 7).

The real App (embedded Redis, the real pose model, the web server) on a looping clip, on
127.0.0.1. Phase 1: one viewer for ``--seconds``; phase 2: ``--viewers`` viewers plus
``--idle`` sockets that never read, for ``--seconds``. The load runs in its own process
(``hiitpi.benchmarks.viewers``); the engine's fps and this process's RSS are sampled each
second from /api/status and psutil.

    .venv/bin/python bench/viewers.py --seconds 120                       # the acceptance run
    .venv/bin/python bench/viewers.py --clip ../shared/data/clips/push_up__calimiro__1.mp4

``--app-src DIR`` imports the App from another checkout (e.g. the previous server, to compare
side by side); the load process always uses this checkout's ``hiitpi.benchmarks.viewers``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5) as r:
        return json.loads(r.read())


def _sample(port: int, stop: threading.Event, out: dict[str, list[float]]) -> None:
    import psutil

    me = psutil.Process()
    while not stop.wait(1.0):
        try:
            out["fps"].append(float(_status(port).get("fps") or 0.0))
        except OSError:
            out["fps"].append(0.0)
        rss = me.memory_info().rss + sum(c.memory_info().rss for c in me.children(True))
        out["rss_mb"].append(round(rss / 2**20, 1))


def _phase(port: int, viewers: int, idle: int, seconds: float) -> dict:
    samples: dict[str, list[float]] = {"fps": [], "rss_mb": []}
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(port, stop, samples))
    sampler.start()
    env = {**os.environ, "PYTHONPATH": str(HERE / "src")}
    cmd = [sys.executable, "-m", "hiitpi.benchmarks.viewers", "--port", str(port)]
    cmd += ["--viewers", str(viewers), "--idle", str(idle), "--seconds", str(seconds)]
    load = json.loads(subprocess.run(cmd, env=env, capture_output=True, check=True).stdout)
    stop.set()
    sampler.join()
    fps = samples["fps"][2:] or samples["fps"]  # the first seconds: viewers connecting
    rss = samples["rss_mb"]
    load.update(
        engine_fps_median=round(statistics.median(fps), 1) if fps else None,
        rss_mb_first=rss[0] if rss else None,
        rss_mb_last=rss[-1] if rss else None,
        rss_mb_max=max(rss, default=None),
    )
    return load


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clip", type=Path, help="default: a synthetic 640x360 clip")
    p.add_argument("--viewers", type=int, default=50)
    p.add_argument("--idle", type=int, default=10)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--threads", type=int, default=32)
    p.add_argument("--app-src", type=Path, help="import the App from this src folder")
    args = p.parse_args()
    if args.app_src:
        sys.path.insert(0, str(args.app_src))
    from hiitpi.app import App
    from hiitpi.config import PoseConfig, Settings, SourceConfig, WebConfig

    tmp = Path(tempfile.mkdtemp(prefix="hiitpi-viewers-"))
    clip = args.clip
    if clip is None:
        sys.path.insert(0, str(HERE / "tests"))
        from engine.clips import write_clip

        clip = write_clip(tmp / "clip.mp4", frames=90, size=(640, 360))
    port = _free_port()
    settings = Settings(
        source=SourceConfig(uri=str(clip), loop=True),
        web=WebConfig(host="127.0.0.1", port=port, threads=args.threads),
        data_dir=tmp / "data",
        pose=PoseConfig(),
    )
    app = App(settings, station="bench-viewers")
    app.start()
    try:
        deadline = time.monotonic() + 30
        while not _status(port).get("engine_running") and time.monotonic() < deadline:
            time.sleep(0.2)
        one = _phase(port, 1, 0, args.seconds)
        many = _phase(port, args.viewers, args.idle, args.seconds)
    finally:
        app.stop()
    print(json.dumps({"server": app.__module__, "one_viewer": one, "many": many}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
