"""Where the live app's CPU goes, per frame: each engine stage's CPU time and each thread group's.

    .venv/bin/python bench/cpu_breakdown.py [SECONDS] [COMPLEXITY] [VIEWERS]

Runs the real App (as ``hiitpi bench``'s live run does: the calimiro clip paced as a camera,
embedded Redis, cheroot) in this process with ``curl`` processes as MJPEG viewers, and wraps
the engine's calls with ``time.thread_time`` (CPU time of the engine thread alone, so other
load on the machine does not count). Thread groups (engine, capture, native = LiteRT's and
FFmpeg's threads, web, redis-server) come from psutil. Prints one JSON object; ms per
delivered frame unless the key says otherwise. ``WT_SRC=path/to/src`` measures another tree
with the same venv (side by side with this one).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

if os.environ.get("WT_SRC"):
    sys.path.insert(0, os.environ["WT_SRC"])

import psutil

from hiitpi.app import App
from hiitpi.bench import live_settings
from hiitpi.benchmarks.live import _cpu_by_thread, _cpu_s, free_port
from hiitpi.config import Settings

CLIP = Path("../shared/data/clips/push_up__calimiro__1.mp4")
ENGINE = "hiitpi-engine"
LINK = "hiitpi-live-link"
spent: defaultdict[str, float] = defaultdict(float)
calls: Counter[str] = Counter()


def _timed(fn: Any, key: str, thread: str = ENGINE) -> Any:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name != thread:
            return fn(*args, **kwargs)
        t0 = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[key] += time.thread_time() - t0
            calls[key] += 1

    return wrapper


def _instrument(app: App) -> None:
    import redis.client

    import hiitpi.engine.live as live
    import hiitpi.engine.view as view
    import hiitpi.live.codec as codec

    for name, key in (("annotate", "draw"), ("standby", "draw"), ("encode_jpeg", "encode")):
        setattr(view, name, _timed(getattr(view, name), key))
    for name in ("session_changes", "session_fields"):  # this tree's, or an older one's
        if hasattr(live, name):
            setattr(live, name, _timed(getattr(live, name), "session"))
    engine = app.engine
    assert engine is not None and engine.referee is not None
    engine.estimator.estimate = _timed(engine.estimator.estimate, "pose")  # type: ignore[method-assign]
    engine.referee.update = _timed(engine.referee.update, "referee")  # type: ignore[method-assign]
    link = engine.link
    for name in ("write_round", "append_event", "persist"):  # on the link's thread
        setattr(engine.store, name, _timed(getattr(engine.store, name), f"store.{name}", LINK))
    for name in ("encode_snapshot", "encode_metric"):  # what the link's round serialises
        setattr(codec, name, _timed(getattr(codec, name), f"codec.{name}", LINK))
    execute = _timed(redis.client.Pipeline.execute, "redis.pipeline.execute", LINK)
    redis.client.Pipeline.execute = execute  # type: ignore[method-assign]
    for name in ("publish", "add_metric", "add_events", "put_frame", "take_commands"):
        setattr(link, name, _timed(getattr(link, name), f"link.{name}"))


def _cpu_by_name(proc: Any) -> dict[str, float]:
    """CPU seconds per thread name (digits dropped: a pool's threads add up; unnamed: native)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = defaultdict(float)
    for t in proc.threads():
        name = "".join(c for c in names.get(t.id, "native") if not c.isdigit()).rstrip("-_ ")
        out[name] += t.user_time + t.system_time
    return out


def main(seconds: float, complexity: int, viewers: int) -> dict[str, Any]:
    base = Settings()
    pose = base.pose.model_copy(update={"backend": "blazepose", "model_complexity": complexity})
    base = base.model_copy(update={"pose": pose})
    port = free_port()
    settings = Settings.model_validate(
        live_settings(base, CLIP, Path(tempfile.mkdtemp(prefix="hiitpi-cpu-")), port)
    )
    app = App(settings, exercise=CLIP.name.split("__")[0])
    app.start()
    engine = app.engine
    assert engine is not None and app.store is not None
    url = f"http://127.0.0.1:{port}/videostream"
    clients = [
        subprocess.Popen(["curl", "-s", "-N", url, "-o", os.devnull]) for _ in range(viewers)
    ]
    try:
        time.sleep(4.0)  # warm-up: the engine sees the viewers, the model settles
        _instrument(app)
        me = psutil.Process()
        redis = psutil.Process(int(app.store.client.info("server")["process_id"]))
        frames0, captured0 = engine.status.frames, engine.capture.frames
        groups0, redis0, t0 = _cpu_by_thread(me), _cpu_s(redis), time.monotonic()
        named0 = _cpu_by_name(me)
        time.sleep(seconds)
        wall = time.monotonic() - t0
        frames = engine.status.frames - frames0
        captured = engine.capture.frames - captured0
        groups1, redis1 = _cpu_by_thread(me), _cpu_s(redis)
        named1 = _cpu_by_name(me)
    finally:
        for c in clients:
            c.terminate()
        app.stop()

    def per_frame(seconds_cpu: float) -> float:
        return round(1000.0 * seconds_cpu / max(frames, 1), 3)

    groups = {g: per_frame(groups1[g] - groups0.get(g, 0.0)) for g in groups1}
    groups["redis_server"] = per_frame(redis1 - redis0)
    return {
        "frames": frames,
        "captured": captured,
        "delivered_fps": round(frames / wall, 2),
        "loadavg": os.getloadavg(),
        "stages_ms": {k: per_frame(v) for k, v in sorted(spent.items())},
        "calls_per_frame": {k: round(v / max(frames, 1), 2) for k, v in sorted(calls.items())},
        "thread_groups_ms": groups,
        "threads_ms": {n: per_frame(named1[n] - named0.get(n, 0.0)) for n in sorted(named1)},
        "whole_app_ms": round(sum(groups.values()), 3),
    }


if __name__ == "__main__":
    args = sys.argv[1:]
    result = main(
        float(args[0]) if args else 20.0,
        int(args[1]) if len(args) > 1 else 1,
        int(args[2]) if len(args) > 2 else 1,
    )
    print(json.dumps(result, indent=1))
