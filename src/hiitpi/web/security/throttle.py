"""Wrong PINs are rate-limited: a 4-digit PIN has 10,000 values, so guessing must be slow.

Each client address gets :data:`FREE_TRIES` wrong PINs, then waits 1 s, 2 s, 4 s ... (at most
:data:`MAX_WAIT_S`) before each further try; a right PIN clears its count. Across all clients at
most :data:`GLOBAL_FAILURES` wrong PINs in :data:`GLOBAL_WINDOW_S` are judged, so a device that
changes its address (IPv6 privacy addresses) gains nothing: past that, every PIN try waits.
While a client waits its PIN is not even checked, so it learns nothing. In memory: a restart
forgets the counts, which costs an attacker a restart of the station per few tries.

Flask-Limiter counts requests, not wrong answers, and would be a new dependency for 40 lines.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

FREE_TRIES = 5
BASE_WAIT_S = 1.0
MAX_WAIT_S = 300.0
GLOBAL_FAILURES = 30  # an hour: 10,000 four-digit PINs take 2 weeks of non-stop guessing
GLOBAL_WINDOW_S = 3600.0
MAX_CLIENTS = 4096  # addresses remembered (the oldest are forgotten first)


class PinThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._clients: OrderedDict[str, tuple[int, float]] = OrderedDict()  # failures, not before
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()

    def wait_s(self, client: str) -> float:
        """Seconds before ``client`` may try a PIN again; 0 = now."""
        now = self._clock()
        with self._lock:
            while self._recent and self._recent[0] <= now - GLOBAL_WINDOW_S:
                self._recent.popleft()
            wait = 0.0
            if len(self._recent) >= GLOBAL_FAILURES:
                wait = self._recent[0] + GLOBAL_WINDOW_S - now
            _, not_before = self._clients.get(client, (0, 0.0))
            return max(wait, not_before - now, 0.0)

    def failed(self, client: str) -> None:
        now = self._clock()
        with self._lock:
            failures, _ = self._clients.pop(client, (0, 0.0))
            failures += 1
            over = failures - FREE_TRIES
            not_before = now + min(MAX_WAIT_S, BASE_WAIT_S * 2 ** (over - 1)) if over > 0 else 0.0
            self._clients[client] = (failures, not_before)
            while len(self._clients) > MAX_CLIENTS:
                self._clients.popitem(last=False)
            self._recent.append(now)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._clients.pop(client, None)
