"""Native runtimes' start-up chatter, kept off the user's terminal."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def muted_native_stderr(log: logging.Logger) -> Iterator[None]:
    """Silence C++ log lines (absl, TFLite) written straight to fd 2 while a runtime loads.

    MediaPipe prints absl's "not initialised" banner and TFLite INFO lines, LiteRT its
    "Created TensorFlow Lite XNNPACK delegate" line; no environment variable turns them off.
    Skipped when ``log`` has debug logging on. Python exceptions still propagate.
    """
    if log.isEnabledFor(logging.DEBUG):
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
