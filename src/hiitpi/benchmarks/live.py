"""The live run: the real App in a fresh child process, MJPEG viewers over HTTP in this one.

The child starts :class:`hiitpi.app.App` (embedded Redis, history, paced file source, estimator,
engine, web server) exactly as ``hiitpi serve`` does, so start-up time, RSS and CPU are the app's
own: the child's threads plus the embedded redis-server process, and nothing of the bench.
The viewers are plain sockets in the parent reading ``/videostream`` (a browser's share of the
machine is not the app's). Per-frame timings come from ``LiveEngine.on_timing``.

One app serves every viewer count of a run: its windows alternate between the counts (1, 10,
10, 1, 1, 10: :func:`schedule`), so the 10-viewer CPU is compared with the 1-viewer CPU side by
side, not with a run made a minute earlier on a machine whose speed drifts (shared: other
tenants; BENCHMARKS.md saw two windows 20 s apart differ by 7 %). For the same reason the bare
model's own windows come in between (before each round of windows and after the last): the
app's capture is held meanwhile (:class:`_Hold`: the file stops where it is, and resumes at its
rate later, without a burst to catch up), so the app costs next to nothing while the parent
times the model alone.

Protocol over a pipe: child -> ``("ready", info)``; for each window the parent attaches that
many viewers, lets them settle and sends ``("window", viewers, seconds)``; the child measures
that long -> ``("window", summary)``. ``("hold",)`` -> the capture stops, the engine drains ->
``("held", {})``; ``("release",)`` -> ``("released", {})``. After ``None`` it sends
``("result", {viewers: figures})`` and stops the app. A failure in the child arrives as
``("error", traceback)``.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from hiitpi.benchmarks.stats import percentiles

STAGES = ("wait", "pose", "referee", "publish", "draw", "encode")
READY_TIMEOUT_S = 120.0
SETTLE_S = 1.0  # after the viewers changed, before the next window
DRAIN_S = 0.3  # held: no frame finished for this long, the engine has nothing left
BARE = 0  # in a schedule: the bare model's window, the app held
_SAMPLE_S = 0.2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the viewers (parent process) ---------------------------------------------------------------
class Viewer(threading.Thread):
    """Reads ``/videostream`` like a browser tab and counts the frames it receives.

    It scans raw bytes for the per-part ``X-Frame-Id`` header (Redis-shaped: its first part is
    the wall clock in ms when the JPEG was handed to the web, in memory for ``serve``'s own web
    or as the Redis stream id) to count frames and measure the store -> viewer delay; nothing
    is decoded, so a viewer costs little CPU.
    """

    MARK = b"X-Frame-Id: "

    def __init__(self, port: int, stop: threading.Event) -> None:
        super().__init__(name="bench-viewer", daemon=True)
        self.port = port
        self.stop = stop
        self.frames = 0
        self.bytes = 0
        self.lags_ms: list[float] = []
        self.error: str | None = None
        self.counting = False

    def run(self) -> None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5.0) as sock:
                sock.settimeout(60.0)  # the app held for a bare window sends a frame each 5 s
                req = f"GET /videostream HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n\r\n"
                sock.sendall(req.encode("ascii"))
                self._read(sock)
        except OSError as exc:
            if not self.stop.is_set():
                self.error = repr(exc)

    def _read(self, sock: socket.socket) -> None:
        tail = b""
        while not self.stop.is_set():
            chunk = sock.recv(1 << 16)
            if not chunk:
                return
            data = tail + chunk
            start = 0
            while (at := data.find(self.MARK, start)) >= 0:
                end = data.find(b"\r\n", at)
                if end < 0:
                    break
                start = end
                if self.counting:
                    self.frames += 1
                    ms = data[at + len(self.MARK) : end].split(b"-", 1)[0]
                    with contextlib.suppress(ValueError):
                        self.lags_ms.append(time.time() * 1000.0 - int(ms))
            if self.counting:
                self.bytes += len(chunk)
            tail = data[max(start, len(data) - 64) :]


# --- the app (child process) ----------------------------------------------------------------------
class _Hold:
    """The app's source with a hold, for the bare model's windows: while held, the capture
    thread waits before its next read; on release the file is due that much later
    (``OpenCVSource.delay``), so it goes on at its rate instead of catching up."""

    def __init__(self, source: Any) -> None:
        self.inner = source
        self.go = threading.Event()
        self.go.set()

    def __getattr__(self, name: str) -> Any:  # id, fps, cancel ...: the source's own
        return getattr(self.inner, name)

    def read(self) -> Any:
        if not self.go.is_set():
            t0 = time.monotonic()
            self.go.wait()
            self.inner.delay(time.monotonic() - t0)
        return self.inner.read()


class _PoseClock:
    """The CPU the engine's thread spends in the model's ``estimate`` (``time.thread_time``),
    added up; with the model's own worker threads (the ``native`` group) it is the model's
    CPU inside the app, at the same moments as the app's, so no drift of the machine comes
    between the two (``cpu_vs_model_in_app``, a diagnostic beside ``cpu_ratio``)."""

    def __init__(self, estimate: Any) -> None:
        self.estimate_inner = estimate
        self.cpu_s = 0.0

    def __call__(self, frame: Any) -> Any:
        t0 = time.thread_time()
        try:
            return self.estimate_inner(frame)
        finally:
            self.cpu_s += time.thread_time() - t0


def _drain(engine: Any, timeout: float = 10.0) -> None:
    """Until the engine finished every frame it had (none for ``DRAIN_S``)."""
    frames, since = engine.status.frames, time.monotonic()
    deadline = since + timeout
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if engine.status.frames != frames:
            frames, since = engine.status.frames, time.monotonic()
        elif time.monotonic() - since >= DRAIN_S:
            return


class _Sampler(threading.Thread):
    """Peak RSS of the app process and of the Redis server, sampled every 0.2 s; one sample
    every 5 s is kept in ``series`` (MB), to tell a plateau from a leak."""

    def __init__(self, procs: list[Any]) -> None:
        super().__init__(name="bench-sampler", daemon=True)
        self.procs = procs
        self.peak = 0
        self.series: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.wait(_SAMPLE_S):
            total = 0
            for p in self.procs:
                with contextlib.suppress(Exception):
                    total += p.memory_info().rss
            self.peak = max(self.peak, total)
            if n % 25 == 0:
                self.series.append(round(total / 2**20, 1))
            n += 1


def _thread_group(name: str) -> str:
    if name == "hiitpi-engine":
        return "engine"
    if name.startswith("hiitpi-capture"):
        return "capture"
    if name.startswith(("CP Server", "hiitpi-web", "hiitpi-frames")):  # cheroot's workers
        return "web"
    if name.startswith("bench-"):
        return "bench"
    return "other_python"


ALWAYS_REPORTED = frozenset({"engine", "redis_server"})


def _cpu_by_thread(proc: Any) -> dict[str, float]:
    """CPU seconds per thread group of this process (threads Python does not know: native)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = {}
    for t in proc.threads():
        group = _thread_group(names[t.id]) if t.id in names else "native"
        out[group] = out.get(group, 0.0) + t.user_time + t.system_time
    return out


def _cpu_s(proc: Any) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def live_child(conn: Connection, settings_json: dict[str, Any], exercise: str) -> None:
    """Entry point of the child process (``multiprocessing`` spawn)."""
    try:
        _live_child(conn, settings_json, exercise)
    except BaseException:
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


def _live_child(conn: Connection, settings_json: dict[str, Any], exercise: str) -> None:
    import psutil

    me = psutil.Process()
    born = me.create_time()
    from hiitpi.app import App
    from hiitpi.config import Settings
    from hiitpi.logs import setup_logging

    settings = Settings.model_validate(settings_json)
    setup_logging(settings.log_level)
    app = App(settings, exercise=exercise)
    t_start = time.time()
    try:
        app.start()
        assert app.engine is not None and app.store is not None
        engine = app.engine
        if not hasattr(engine, "on_timing"):
            raise RuntimeError("this LiveEngine has no on_timing hook: per-frame timings missing")
        timings: list[Any] = []
        engine.on_timing = timings.append
        pose_clock = _PoseClock(engine.estimator.estimate)
        engine.estimator.estimate = pose_clock  # type: ignore[method-assign]  # this one only
        while engine.status.frames == 0:
            if engine.capture.ended or time.time() - t_start > READY_TIMEOUT_S:
                raise RuntimeError(f"no frame processed: {engine.status.error}")
            time.sleep(0.002)
        first = time.time()
        redis_pid = int(app.store.client.info("server")["process_id"])
        redis = psutil.Process(redis_pid)
        sampler = _Sampler([me, redis])
        sampler.start()
        conn.send(
            (
                "ready",
                {
                    "port": app.port,
                    "camera_fps": float(engine.capture.source.fps or 30.0),
                    "startup_s": round(first - born, 3),
                    "app_start_s": round(first - t_start, 3),
                },
            )
        )
        hold = _Hold(engine.capture.source)
        engine.capture.source = hold  # the capture thread reads through it from its next read
        runs: dict[int, _Run] = {}
        while (msg := conn.recv()) is not None:
            if msg[0] == "hold":
                hold.go.clear()
                _drain(engine)
                conn.send(("held", {}))
            elif msg[0] == "release":
                hold.go.set()
                conn.send(("released", {}))
            else:  # ("window", viewers, seconds)
                _, viewers, seconds = msg
                run = runs.setdefault(int(viewers), _Run())
                summary = _window(run, engine, timings, me, redis, float(seconds), pose_clock)
                conn.send(("window", summary))
        sampler.stop.set()
        sampler.join()
        own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        redis_rss = redis.memory_info().rss
        memory = {
            "peak_rss_mb": round(max(sampler.peak, own_peak + redis_rss) / 2**20, 1),
            "rss_mb_every_5s": sampler.series,
            "rss_breakdown_mb": {
                "app_process_peak": round(own_peak / 2**20, 1),
                "redis_server": round(redis_rss / 2**20, 1),
            },
        }
        status = {
            "status_stages_ms": dict(engine.status.stages_ms),
            "api_status_budget": _api_budget(app.port),
            "errors": engine.status.error,
        }
        figures = {n: {**_figures(run, engine), **status, **memory} for n, run in runs.items()}
        conn.send(("result", figures))
    finally:
        app.stop()


@dataclass
class _Run:
    """One viewer count's windows added up (the schedule alternates counts, window by window)."""

    wall: float = 0.0
    frames: int = 0
    captured: int = 0
    dropped: int = 0
    cpu: float = 0.0
    by_group: dict[str, float] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    windows: list[dict[str, Any]] = field(default_factory=list)
    pose_cpu: float = 0.0  # the engine thread's CPU in the model's estimate


def _window(
    run: _Run,
    engine: Any,
    timings: list[Any],
    me: Any,
    redis: Any,
    duration: float,
    pose_clock: _PoseClock,
) -> dict[str, Any]:
    """Everything the app does during ``duration`` s from now, added to ``run``; returns the
    window's own CPU % and fps, and the count's fps over its windows so far."""
    timings.clear()
    frames0, dropped0, captured0 = engine.status.frames, engine.slot.dropped, engine.capture.frames
    pose0 = pose_clock.cpu_s
    cpu0 = _cpu_s(me) + _cpu_s(redis)
    threads0 = _cpu_by_thread(me)
    redis0 = _cpu_s(redis)
    t0 = time.monotonic()
    time.sleep(duration)
    wall = time.monotonic() - t0
    frames = engine.status.frames - frames0
    window = list(timings)
    cpu = _cpu_s(me) + _cpu_s(redis) - cpu0
    threads1 = _cpu_by_thread(me)
    by_group = {g: threads1.get(g, 0.0) - threads0.get(g, 0.0) for g in threads1}
    by_group["redis_server"] = _cpu_s(redis) - redis0
    run.pose_cpu += pose_clock.cpu_s - pose0
    run.wall += wall
    run.frames += frames
    run.captured += engine.capture.frames - captured0
    run.dropped += engine.slot.dropped - dropped0
    run.cpu += cpu
    for g, v in by_group.items():
        run.by_group[g] = run.by_group.get(g, 0.0) + v
    run.rows.extend(asdict(t) for t in window)
    ncpu = os.cpu_count() or 1
    summary = {
        "duration_s": round(wall, 2),
        "delivered_fps": round(frames / wall, 2),
        "cpu_pct": round(100.0 * cpu / (wall * ncpu), 1),
    }
    run.windows.append(summary)
    # and for the driver: this count's rate over its windows so far (the next bare window's)
    return {**summary, "run_delivered_fps": round(run.frames / run.wall, 2)}


def _figures(run: _Run, engine: Any) -> dict[str, Any]:
    """One viewer count's figures over all its windows."""
    rows, wall = run.rows, run.wall
    ncpu = os.cpu_count() or 1
    model = run.pose_cpu + run.by_group.get("native", 0.0)
    return {
        "duration_s": round(wall, 2),
        "frames": run.frames,
        "captured_frames": run.captured,
        "delivered_fps": round(run.frames / wall, 2),
        "rendered_frames": sum(1 for r in rows if r["to_jpeg"] is not None),
        "dropped_frames": run.dropped,
        "viewers_seen_by_engine": engine.status.viewers,
        "latency_to_count_ms": percentiles(r["to_count"] for r in rows),
        "latency_to_jpeg_ms": percentiles(r["to_jpeg"] for r in rows),
        "stages_ms": {s: percentiles(r[s] for r in rows) for s in STAGES},
        "cpu_pct": round(100.0 * run.cpu / (wall * ncpu), 1),
        # the model inside the app: the engine thread in ``estimate`` plus the native threads
        # (LiteRT's workers), ms a frame; the app's CPU over it needs no bare run to compare with
        "model_in_app_cpu_ms_per_frame": round(1000.0 * model / run.frames, 2)
        if run.frames
        else 0.0,
        "cpu_vs_model_in_app": round(run.cpu / model, 3) if model > 0 else 0.0,
        # a thread group that did not run is left out; the engine and the Redis server are
        # always named, even when a short window gives them less than one clock tick (0.0)
        "cpu_pct_by_part": {
            g: round(100.0 * s / (wall * ncpu), 1)
            for g, s in sorted(run.by_group.items())
            if s > 0 or g in ALWAYS_REPORTED
        },
        "windows": run.windows,
    }


def _api_budget(port: int) -> dict[str, Any]:
    """The per-stage budget as ``GET /api/status`` shows it (what a user sees live)."""
    import json
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5.0) as resp:
        status = json.load(resp)
    return {"stages_ms": status.get("stages_ms"), "latency_ms": status.get("latency_ms")}


# --- the driver (parent process) ----------------------------------------------------------------
ROUNDS = 3  # each viewer count gets this many windows, in alternating order (1,10,10,1,1,10)


def schedule(
    counts: list[int], duration: float, rounds: int = ROUNDS, bare: bool = False
) -> list[tuple[int, float]]:
    """The windows of a run: each count ``rounds`` times for ``duration / rounds`` s, the order
    reversed every other round, so a drift of the machine's speed (other tenants, its clock)
    falls on every count alike and their CPU ratio is measured side by side. ``bare``: a
    window of the bare model (``BARE``; its length is the caller's) before each round and
    after the last, so the model alone is timed between the app's windows too."""
    counts = list(dict.fromkeys(counts))
    rounds = 1 if len(counts) == 1 else rounds
    out: list[tuple[int, float]] = []
    for r in range(rounds):
        out += [(BARE, 0.0)] if bare else []
        out += [(n, duration / rounds) for n in (counts if r % 2 == 0 else counts[::-1])]
    return out + ([(BARE, 0.0)] if bare else [])


def run_live(
    settings_json: dict[str, Any],
    exercise: str,
    duration: float,
    viewers: list[int],
    warmup: float,
    bare: Callable[[float], dict[str, Any]] | None = None,
) -> tuple[dict[int, dict[str, Any]], list[dict[str, Any]]]:
    """One app, its windows alternating between the viewer counts (:func:`schedule`, ``duration``
    s for each count); the child's figures plus the viewers', for each count. ``bare(fps)``:
    the bare model's window at that frame rate (the camera's for the first, then what the app
    delivered to one viewer so far), run here while the app is held, before each round and
    after the last; their results are the second value."""
    import multiprocessing as mp

    import psutil

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=live_child, args=(child, settings_json, exercise), daemon=True)
    proc.start()
    child.close()
    clients: list[Viewer] = []
    seen: dict[int, dict[str, Any]] = {}  # per count: viewer frames by slot, lags, client CPU
    me = psutil.Process()

    def attach(n: int, port: int) -> None:  # the first viewers stay: they are the same tabs
        while len(clients) > n:
            gone = clients.pop()
            gone.stop.set()
        while len(clients) < n:
            clients.append(Viewer(port, threading.Event()))
            clients[-1].start()

    bare_windows: list[dict[str, Any]] = []
    try:
        info = _expect(parent, "ready", READY_TIMEOUT_S)
        time.sleep(warmup)  # the app's first frames are slow (bare windows warm up their own)
        rate = float(info["camera_fps"])
        for n, seconds in schedule(viewers, duration, bare=bare is not None):
            if n == BARE:
                assert bare is not None
                parent.send(("hold",))
                _expect(parent, "held", 30.0)
                bare_windows.append(bare(rate))
                parent.send(("release",))
                _expect(parent, "released", 30.0)
                continue
            attach(n, int(info["port"]))
            time.sleep(min(warmup, SETTLE_S))  # the engine sees new viewers within 0.2 s
            for c in clients:
                c.frames, c.lags_ms, c.counting = 0, [], True
            cpu0 = _cpu_s(me)
            parent.send(("window", n, seconds))
            window = _expect(parent, "window", seconds + 60.0)
            for c in clients:
                c.counting = False
            if n == min(viewers):  # the next bare window's rate: what the app delivered so far
                rate = window["run_delivered_fps"]
            acc = seen.setdefault(n, {"frames": [0] * n, "lags": [], "cpu": 0.0, "errors": []})
            acc["cpu"] += _cpu_s(me) - cpu0
            for i, c in enumerate(clients):
                acc["frames"][i] += c.frames
                acc["lags"] += c.lags_ms
            acc["errors"] += [c.error for c in clients if c.error]
        parent.send(None)
        figures: dict[int, dict[str, Any]] = _expect(parent, "result", 60.0)
    finally:
        for c in clients:
            c.stop.set()
        proc.join(30.0)
        if proc.is_alive():
            proc.kill()
            proc.join(5.0)
    for n, fig in figures.items():
        wall = float(fig["duration_s"])
        acc = seen[n]
        fig.update(
            startup_s=info["startup_s"],
            app_start_s=info["app_start_s"],
            viewers=n,
            viewer_fps=[round(f / wall, 2) for f in acc["frames"]],
            viewer_errors=acc["errors"],
            store_to_viewer_ms=percentiles(acc["lags"]),
            viewer_client_cpu_pct=round(100.0 * acc["cpu"] / (wall * (os.cpu_count() or 1)), 1),
        )
        fig["latency_p90_ms"] = fig["latency_to_jpeg_ms"]["p90"]
    return figures, bare_windows


def _expect(conn: Connection, kind: str, timeout: float) -> Any:
    if not conn.poll(timeout):
        raise RuntimeError(f"the live app did not answer within {timeout:.0f} s")
    got, payload = conn.recv()
    if got == "error":
        raise RuntimeError(f"the live app failed:\n{payload}")
    if got != kind:
        raise RuntimeError(f"unexpected message from the live app: {got}")
    return payload
