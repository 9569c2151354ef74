"""How the engine sees its camera: delivering, being waited for (reconnecting), or ended.

A reconnecting source (:mod:`hiitpi.sources.reconnect`) reports its own health and how long it
has been gone; a file reports nothing until its capture ends. :class:`CameraWatch` turns that
into ``EngineStatus.health["camera"]`` and into what the engine does to a running set
(``LiveEngine._watch_camera``): nothing for a short loss, a pause after
``source.reconnect_pause_s``, the set closed after ``source.reconnect_end_s``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from hiitpi.live.base import component
from hiitpi.sources.base import VideoSource

WAITING = "waiting for camera"  # the status message while a live camera is away
GONE = "the camera was gone"  # how the message of a set closed for that begins


def camera_gone_message(down_s: float) -> str:
    """What a person reads when a set was closed because the camera did not come back."""
    if down_s >= 90:
        return f"{GONE} for {down_s / 60:.0f} min: the set was closed"
    return f"{GONE} for {down_s:.0f} s: the set was closed"


@dataclass(frozen=True, slots=True)
class CameraSeen:
    health: dict[str, Any]  # component(ok, state, error, since)
    waiting: bool
    changed: bool  # the state differs from the last check
    down_s: float  # how long no frame came (0.0 while frames flow)


class CameraWatch:
    """The camera's state as last checked, and whether the engine paused a set for it."""

    def __init__(self, source: VideoSource) -> None:
        self.source = source
        self.state: str | None = None  # None before the first check
        self.paused_set = False  # the engine paused the running set because of this outage
        self._since = time.time()

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    def check(self) -> CameraSeen:
        report = getattr(self.source, "health", None)
        health: dict[str, Any] = (
            report() if report is not None else component(True, "ok", None, self._since)
        )
        changed = health["state"] != self.state
        self.state = health["state"]
        waiting = health["state"] == "waiting"
        down = float(getattr(self.source, "down_s", 0.0)) if waiting else 0.0
        return CameraSeen(health, waiting, changed, down)

    def ended(self, error: str) -> dict[str, Any]:
        """The source delivers no more frames (a file's end, or a capture that failed)."""
        if self.state != "ended":
            self.state, self._since = "ended", time.time()
        return component(False, "ended", error, self._since)
