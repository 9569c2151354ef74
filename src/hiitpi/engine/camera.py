"""How the engine sees its camera: delivering, being waited for (reconnecting), or ended.

A reconnecting source (:mod:`hiitpi.sources.reconnect`) reports its own health and how long it
has been gone; a file reports nothing until its capture ends. :class:`CameraWatch` turns that
into the status (``health["camera"]``, "waiting for camera") and into what the engine does to a
running set (``LiveEngine._watch_camera``): nothing for a short loss, a pause after
``source.reconnect_pause_s``, the set closed after ``source.reconnect_end_s``; a set it paused
goes on when frames are back.
"""

from __future__ import annotations

import time
from dataclasses import replace
from enum import Enum
from typing import Any

from hiitpi.config import SourceConfig
from hiitpi.live.base import EngineStatus, component
from hiitpi.sources.base import VideoSource

WAITING = "waiting for camera"  # the status message while a live camera is away
GONE = "the camera was gone"  # how the message of a set closed for that begins


class CameraAct(Enum):
    """What the engine does to a running set for its camera."""

    PAUSE = "pause"
    RESUME = "resume"
    END = "end"


def camera_gone_message(down_s: float) -> str:
    """What a person reads when a set was closed because the camera did not come back."""
    if down_s >= 90:
        return f"{GONE} for {down_s / 60:.0f} min: the set was closed"
    return f"{GONE} for {down_s:.0f} s: the set was closed"


class CameraWatch:
    """The camera's state as last checked, and whether the engine paused a set for it."""

    def __init__(self, source: VideoSource) -> None:
        self.source = source
        self.state: str | None = None  # None before the first check
        self.paused_set = False  # the engine paused the running set because of this outage
        self.down_s = 0.0  # how long no frame came, at the last check
        self._since = time.time()

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    def react(
        self, status: EngineStatus, cfg: SourceConfig, clock_paused: bool
    ) -> tuple[EngineStatus, CameraAct | None]:
        """``status`` as the camera is now, and what to do to the running set (or None)."""
        report = getattr(self.source, "health", None)
        health: dict[str, Any] = (
            report() if report is not None else component(True, "ok", None, self._since)
        )
        changed = health["state"] != self.state
        self.state = health["state"]
        status = replace(status, health={**status.health, "camera": health})
        if self.state != "waiting":
            self.down_s = 0.0
            if not changed:
                return status, None
            act = CameraAct.RESUME if self.paused_set and clock_paused else None
            self.paused_set = False
            error = status.error
            status = replace(
                status,
                error=None if error and error.startswith(WAITING) else error,
                message=None if status.message == WAITING else status.message,
                source_ended=False,
            )
            return status, act
        self.down_s = float(getattr(self.source, "down_s", 0.0))
        closed = status.message is not None and status.message.startswith(GONE)
        status = replace(
            status,
            error=f"{WAITING} {self.source.id}: {health['error']}",
            message=status.message if closed else WAITING,  # a closed set's message says more
            fps=0.0,
            source_ended=True,
        )
        if not status.busy:
            return status, None
        if self.down_s >= cfg.reconnect_end_s:
            self.paused_set = False
            return status, CameraAct.END
        if self.down_s >= cfg.reconnect_pause_s and not clock_paused and not self.paused_set:
            self.paused_set = True
            return status, CameraAct.PAUSE
        return status, None

    def ended(self, error: str) -> dict[str, Any]:
        """The source delivers no more frames (a file's end, or a capture that failed)."""
        if self.state != "ended":
            self.state, self._since = "ended", time.time()
        return component(False, "ended", error, self._since)
