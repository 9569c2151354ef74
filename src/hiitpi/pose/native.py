"""Native runtimes' start-up chatter, kept off the user's terminal but not lost on failure."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

_KEEP_BYTES = 64 * 1024
_NOISE = ("INFO: Created TensorFlow Lite XNNPACK delegate",)


@dataclass
class NativeOutput:
    """What native code wrote to fd 2 inside :func:`muted_native_stderr` (set on exit)."""

    text: str = ""

    def detail(self, lines: int = 5) -> str:
        """The last ``lines`` meaningful lines, as a suffix for an error message ('' if none)."""
        kept = [
            line.strip()
            for line in self.text.splitlines()
            if line.strip() and not line.startswith(_NOISE)
        ]
        return f" (native log: {' | '.join(kept[-lines:])})" if kept else ""


@contextlib.contextmanager
def muted_native_stderr(log: logging.Logger) -> Iterator[NativeOutput]:
    """Capture what C++ code (absl, TFLite, the Edge TPU runtime) writes straight to fd 2
    while a runtime loads, instead of printing it.

    MediaPipe prints absl's "not initialised" banner and TFLite INFO lines, LiteRT its
    "Created TensorFlow Lite XNNPACK delegate" line; no environment variable turns them off.
    The captured text is in the yielded :class:`NativeOutput` once the block exits, so a load
    failure can quote the runtime's own reason (e.g. an Edge TPU runtime version mismatch).
    With debug logging on, nothing is captured. Python exceptions propagate unchanged.
    """
    out = NativeOutput()
    if log.isEnabledFor(logging.DEBUG):
        yield out
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except OSError:
        yield out
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            size = sink.seek(0, os.SEEK_END)
            sink.seek(max(0, size - _KEEP_BYTES))
            out.text = sink.read().decode("utf-8", errors="replace")
