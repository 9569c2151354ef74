"""Is the live engine keeping up with the camera? A watch over the delivered frame rate.

The engine feeds it the time of every frame it finishes. Delivered fps is the count of frames
in the last :data:`WINDOW_S` seconds over that window. When it stays below ``ratio`` x the
camera's rate for ``hold_s`` seconds, the watch says the engine is falling behind, with a
sentence a person can act on; once it holds the rate again for :data:`CLEAR_S` seconds, it
says so no more. Pure: it reads no clock, the caller passes the time.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

WINDOW_S = 2.0  # delivered fps = frames in this window / its length
RATIO = 0.9  # below 0.9 x the camera's rate counts as behind
HOLD_S = 10.0  # ... for this long before the warning shows
CLEAR_S = 3.0  # back at the rate this long before it goes away


@dataclass(frozen=True, slots=True)
class Pace:
    delivered_fps: float
    falling_behind: bool
    warning: str | None


class PaceWatch:
    """``update(now)`` once per processed frame; ``now`` in seconds on any monotonic clock."""

    def __init__(
        self,
        camera_fps: float,
        backend: str = "",
        *,
        ratio: float = RATIO,
        hold_s: float = HOLD_S,
        clear_s: float = CLEAR_S,
        window_s: float = WINDOW_S,
    ) -> None:
        if camera_fps < 0 or not 0 < ratio <= 1 or hold_s < 0 or clear_s < 0 or window_s <= 0:
            raise ValueError(
                f"PaceWatch: camera_fps >= 0, 0 < ratio <= 1, hold_s, clear_s >= 0 and "
                f"window_s > 0; got {camera_fps}, {ratio}, {hold_s}, {clear_s}, {window_s}"
            )
        self.camera_fps = camera_fps  # 0: unknown, the watch never warns
        self.backend = backend
        self.ratio, self.hold_s, self.clear_s, self.window_s = ratio, hold_s, clear_s, window_s
        self._times: deque[float] = deque()
        self._first = 0.0
        self._below_since: float | None = None
        self._above_since: float | None = None
        self.falling_behind = False

    def delivered(self, now: float) -> float:
        while self._times and self._times[0] <= now - self.window_s:
            self._times.popleft()
        span = min(self.window_s, now - self._first)
        return len(self._times) / span if span > 0 else 0.0

    def update(self, now: float) -> Pace:
        if not self._times and not self._first:
            self._first = now
        self._times.append(now)
        fps = self.delivered(now)
        if self.camera_fps <= 0 or now - self._first < self.window_s:
            return Pace(round(fps, 2), self.falling_behind, self.warning(fps))
        if fps < self.ratio * self.camera_fps:
            self._above_since = None
            self._below_since = now if self._below_since is None else self._below_since
            if now - self._below_since >= self.hold_s:
                self.falling_behind = True
        else:
            self._below_since = None
            self._above_since = now if self._above_since is None else self._above_since
            if now - self._above_since >= self.clear_s:
                self.falling_behind = False
        return Pace(round(fps, 2), self.falling_behind, self.warning(fps))

    def warning(self, fps: float) -> str | None:
        if not self.falling_behind:
            return None
        lighter = (
            "lower the camera resolution or frame rate"
            if self.backend.startswith(("movenet", "posenet"))
            else "choose a lighter model with --backend movenet or lower the camera resolution"
        )
        return (
            f"The pose engine is falling behind ({fps:.0f} of {self.camera_fps:.0f} fps): {lighter}"
        )
