"""A bounded viewer load on a running station: many MJPEG viewers, idle sockets, a health probe.

Issue 13 finding 7 as a measurement: N viewers that read every frame, M sockets that ask for
``/videostream`` and never read, and ``GET /healthz`` every 100 ms, for a fixed time. Run in its
own process (``python -m hiitpi.benchmarks.viewers --port P``), so the load's own Python does
not share the server's GIL; it prints one JSON object. Only loopback addresses are accepted:
a load test never leaves this machine.

The viewers are one selector loop over non-blocking sockets (cheap: 50 viewers cost the load
process little); each counts the multipart boundaries it received. The probe is a thread with
its own connection per request and a timeout, recording each latency (a timeout counts).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import selectors
import socket
import sys
import threading
import time
from typing import Any

BOUNDARY = b"--frame\r\n"
PROBE_TIMEOUT_S = 2.0


def _request(path: str, host: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n".encode()


def _connect(host: str, port: int, path: str) -> socket.socket:
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(_request(path, f"{host}:{port}"))
    s.setblocking(False)
    return s


class _Viewer:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.frames = 0
        self.bytes = 0
        self.status: int | None = None
        self.closed = False
        self._tail = b""

    def feed(self, data: bytes) -> None:
        if self.status is None and data.startswith(b"HTTP/1."):
            self.status = int(data[9:12])
        self.bytes += len(data)
        chunk = self._tail + data
        self.frames += chunk.count(BOUNDARY)
        self._tail = chunk[-(len(BOUNDARY) - 1) :]


def _probe(host: str, port: int, until: float, every: float, out: list[float]) -> None:
    import http.client

    while time.monotonic() < until:
        t0 = time.monotonic()
        try:
            conn = http.client.HTTPConnection(host, port, timeout=PROBE_TIMEOUT_S)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            out.append(time.monotonic() - t0)
        except OSError:
            out.append(float("inf"))  # a timeout or a refused connection: the worst latency
        time.sleep(max(0.0, every - (time.monotonic() - t0)))


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(
    host: str, port: int, viewers: int, seconds: float, idle: int = 0, every: float = 0.1
) -> dict[str, Any]:
    """The load for ``seconds``; frames per viewer, 503s, idle sockets dropped, probe latency."""
    if not ipaddress.ip_address(socket.gethostbyname(host)).is_loopback:
        raise ValueError(f"{host} is not a loopback address: the load stays on this machine")
    until = time.monotonic() + seconds
    latencies: list[float] = []
    prober = threading.Thread(target=_probe, args=(host, port, until, every, latencies))
    prober.start()
    sel = selectors.DefaultSelector()
    watching = []
    for _ in range(viewers):
        v = _Viewer(_connect(host, port, "/videostream"))
        sel.register(v.sock, selectors.EVENT_READ, v)
        watching.append(v)
    # idle sockets: they ask for the stream, then never read (their buffers fill, then stall)
    idlers = []
    for _ in range(idle):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: it sticks
        s.settimeout(5)
        s.connect((host, port))
        s.sendall(_request("/videostream", f"{host}:{port}"))
        idlers.append(s)
    while (left := until - time.monotonic()) > 0:
        for key, _ in sel.select(min(left, 0.5)):
            v = key.data
            try:
                data = v.sock.recv(262144)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(v.sock)
                v.closed = True
                continue
            v.feed(data)
    dropped_idle = sum(1 for s in idlers if _peer_closed(s))
    for v in watching:
        v.sock.close()
    for s in idlers:
        s.close()
    prober.join()
    served = [v for v in watching if v.status == 200]
    frames = [v.frames for v in served]
    finite = [x for x in latencies if x != float("inf")]
    return {
        "viewers": viewers,
        "seconds": seconds,
        "served": len(served),
        "refused_503": sum(1 for v in watching if v.status == 503),
        "never_a_frame": sum(1 for v in served if v.frames == 0),
        "frames_min": min(frames, default=0),
        "frames_median": sorted(frames)[len(frames) // 2] if frames else 0,
        "mb_received": round(sum(v.bytes for v in watching) / 2**20, 1),
        "idle": idle,
        "idle_dropped_by_server": dropped_idle,
        "probes": len(latencies),
        "probe_timeouts": len(latencies) - len(finite),
        "healthz_p50_ms": _ms(_pct(latencies, 0.5)),
        "healthz_p99_ms": _ms(_pct(latencies, 0.99)),
        "healthz_max_ms": _ms(max(latencies, default=None)),
    }


def _ms(x: float | None) -> float | None:
    return None if x is None or x == float("inf") else round(x * 1000, 1)


def _peer_closed(s: socket.socket) -> bool:
    """True when the server closed this (never read) socket: drain what it holds, see EOF."""
    s.setblocking(False)
    try:
        while True:
            data = s.recv(1 << 20)
            if not data:
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--viewers", type=int, default=50)
    p.add_argument("--idle", type=int, default=0)
    p.add_argument("--seconds", type=float, default=20.0)
    args = p.parse_args(argv)
    out = run(args.host, args.port, args.viewers, args.seconds, args.idle)
    json.dump(out, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
