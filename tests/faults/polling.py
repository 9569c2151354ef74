"""Waiting on a running station from a fault test: poll until a condition holds, or fail
with the last thing seen (an HTTP error while the station restarts is just "not yet")."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from typing import Any


def wait_until(pred: Callable[[], Any], timeout: float, what: str) -> Any:
    """The first truthy value of ``pred()`` within ``timeout`` s; AssertionError otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = pred()
        except (OSError, http.client.HTTPException, ValueError) as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")
