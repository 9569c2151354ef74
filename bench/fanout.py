"""What it costs to send one frame to N viewers: a thread per viewer woken per frame, or one
thread sending to all (the choice behind ``hiitpi.web.stream.Direct``), side by side.

    .venv/bin/python bench/fanout.py [VIEWERS] [SECONDS]

N local TCP viewers (reader processes) get a 17 kB frame at 30 fps, sent three ways in turn:
``threads`` (one thread per viewer waiting on a shared ``Condition``, as cheroot's threads did),
``events`` (one ``Event`` per viewer: is it the lock or the wake?) and ``single`` (one thread
sending to every socket). Prints the sender process's CPU per viewer-frame for each, measured
in the same run.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import socket
import sys
import threading
import time

FPS = 30
PAYLOAD = os.urandom(17_000)


def _sink(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as s:
        while s.recv(1 << 16):
            pass


def _run(mode: str, conns: list[socket.socket], seconds: float) -> float:
    cond = threading.Condition()
    events = [threading.Event() for _ in conns]
    state = {"seq": 0, "stop": False}

    def on_cond(c: socket.socket) -> None:
        last = 0
        while True:
            with cond:
                cond.wait_for(lambda last=last: state["seq"] != last or state["stop"])
                if state["stop"]:
                    return
                last = state["seq"]
            c.sendall(PAYLOAD)

    def on_event(c: socket.socket, ev: threading.Event) -> None:
        while True:
            ev.wait()
            ev.clear()
            if state["stop"]:
                return
            c.sendall(PAYLOAD)

    threads: list[threading.Thread] = []
    if mode == "threads":
        threads = [threading.Thread(target=on_cond, args=(c,)) for c in conns]
    elif mode == "events":
        pairs = zip(conns, events, strict=True)
        threads = [threading.Thread(target=on_event, args=a) for a in pairs]
    for t in threads:
        t.start()
    frames = int(seconds * FPS)
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(frames):
        delay = t0 + i / FPS - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if mode == "threads":
            with cond:
                state["seq"] += 1
                cond.notify_all()
        elif mode == "events":
            for ev in events:
                ev.set()
        else:
            for c in conns:
                c.sendall(PAYLOAD)
    cpu = time.process_time() - c0
    with cond:
        state["stop"] = True
        cond.notify_all()
    for ev in events:
        ev.set()
    for t in threads:
        t.join()
    return 1000.0 * cpu / (frames * len(conns))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(64)
        port = srv.getsockname()[1]
        sinks = [mp.Process(target=_sink, args=(port,), daemon=True) for _ in range(n)]
        for p in sinks:
            p.start()
        conns = [srv.accept()[0] for _ in range(n)]
        for mode in ("threads", "events", "single", "threads", "events", "single"):
            ms = _run(mode, conns, seconds)
            print(f"{n} viewers, {mode:7s}: {ms:.3f} ms of CPU a viewer-frame", flush=True)
        for c in conns:
            c.close()


if __name__ == "__main__":
    main()
