"""Live sources that come back: a camera that stops delivering is reopened, with backoff.

A USB camera unplugged for a moment, a phone's RTSP/MJPEG stream that drops with the Wi-Fi, a
Pi camera whose cable wobbles: none of them ends a workout. :class:`ReconnectingSource` wraps
the real source; its ``read`` never returns ``None`` for a lost camera (only once ``cancel`` or
``close`` was called): it closes the dead source and opens it again, waiting 0.5 s, 1 s, 2 s ...
up to ``backoff_max_s`` between attempts, until frames flow again. A camera that is down when
the app starts is the same case: ``open`` tries once and never raises for it.

:meth:`ReconnectingSource.health` says how the camera is (``ok`` or ``waiting``, the last error
and since when), for ``EngineStatus.health["camera"]``; :attr:`ReconnectingSource.down_s` says
for how long it has been gone, which the engine turns into pausing and then closing a set.

Frames keep one clock and one numbering across reconnects: ``index`` counts every frame
delivered and ``t`` is the monotonic time since ``open``, so a set's clock goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from hiitpi.core.frame import Frame
from hiitpi.errors import SourceError
from hiitpi.live.base import component
from hiitpi.sources.base import VideoSource

log = logging.getLogger(__name__)

_STILL_WAITING_LOG_S = 30.0  # a long outage is logged again this often, not per attempt


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    backoff_first_s: float = 0.5
    backoff_max_s: float = 5.0
    # connected but no frame for this long (a stalled stream, before its read times out):
    # reported as waiting
    stall_s: float = 2.0


class ReconnectingSource:
    """``source`` (a live camera or stream), reopened whenever it stops delivering frames.

    Owns ``source``: ``close`` closes it. Attributes the wrapper does not have (a Pi camera's
    ``use_lores``, ``hardware_view``) are the wrapped source's.
    """

    def __init__(self, source: VideoSource, policy: ReconnectPolicy | None = None) -> None:
        self.source = source
        self.id = source.id
        self.fps = float(source.fps or 0.0)
        self.policy = policy or ReconnectPolicy()
        self.reconnects = 0  # successful reopenings after a loss
        self._open = False  # the wrapped source is open
        self._cancelled = threading.Event()
        self._lock = threading.Lock()  # state read by health() from other threads
        self._reading = False  # a read of the wrapped source is under way (capture thread)
        self._close_after_read = False
        self._state = "waiting"
        self._error: str | None = "not opened yet"
        self._since = time.time()
        self._lost_at = time.monotonic()  # when frames stopped (or open was called)
        self._last_frame = 0.0
        self._failures = 0
        self._next_try = 0.0
        self._logged_at = 0.0
        self._t0 = time.monotonic()
        self._index = 0
        self._view: _FollowingView | None = None

    def __getattr__(self, name: str) -> Any:
        # only called for names this object lacks; "source" itself must exist first
        if name == "source":
            raise AttributeError(name)
        return getattr(self.source, name)

    # --- the VideoSource protocol ------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._open

    def open(self) -> None:
        """One attempt now; a camera that is down is retried by ``read``, never an error here."""
        self._cancelled.clear()
        self._t0 = self._lost_at = time.monotonic()
        self._index = 0
        self._failures, self._next_try = 0, 0.0
        self._connect()

    def read(self) -> Frame | None:
        """The next frame, reconnecting for as long as it takes; None only once cancelled."""
        while not self._cancelled.is_set():
            if not self._open:
                wait = self._next_try - time.monotonic()
                if wait > 0:
                    self._cancelled.wait(wait)
                else:
                    self._connect()
                continue
            frame, error = self._read_once()
            if frame is not None:
                return self._delivered(frame)
            self._lose(error or SourceError("no frame (the stream ended or the device went away)"))
        return None

    def cancel(self) -> None:
        """Make a ``read`` that waits for the camera return None (from any thread)."""
        self._cancelled.set()

    def close(self) -> None:
        """Cancel, and close the wrapped source (after a read in progress returns: closing a
        capture under a blocked read can crash its driver)."""
        self.cancel()
        with self._lock:
            if self._reading:
                self._close_after_read = True
                return
        self._close_source()

    def hardware_view(self) -> Any:
        """The wrapped camera's hardware MJPEG view (a Pi 4's), following the camera across
        reopenings; None where there is none, or while the camera is down at start (the engine
        then encodes the view in software)."""
        make = getattr(self.source, "hardware_view", None)
        if make is None or not self._open:
            return None
        view = make()
        if view is None:
            return None
        self._view = _FollowingView(self, view)
        return self._view

    # --- what the engine reads -----------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """``component(ok, "ok" | "waiting", error, since)`` for ``health["camera"]``."""
        with self._lock:
            state, error, since = self._state, self._error, self._since
            stalled = (
                state == "ok"
                and self._last_frame
                and time.monotonic() - self._last_frame >= self.policy.stall_s
            )
        if stalled:
            gap = time.monotonic() - self._last_frame
            return component(False, "waiting", f"no frame from {self.id} for {gap:.0f} s", since)
        return component(state == "ok", state, error, since)

    @property
    def down_s(self) -> float:
        """Seconds since the camera last delivered a frame (0.0 while frames flow)."""
        with self._lock:
            if self._state == "ok" and self._last_frame:
                gap = time.monotonic() - self._last_frame
                return gap if gap >= self.policy.stall_s else 0.0
            return time.monotonic() - self._lost_at

    # --- inside ------------------------------------------------------------------------------
    def _read_once(self) -> tuple[Frame | None, SourceError | None]:
        with self._lock:
            self._reading = True
        try:
            return self.source.read(), None
        except SourceError as exc:
            return None, exc
        except Exception as exc:  # a driver's own error: the camera is lost all the same
            error = SourceError(f"reading {self.id} failed: {exc!r}")
            error.__cause__ = exc
            return None, error
        finally:
            with self._lock:
                self._reading = False
                late_close = self._close_after_read
            if late_close:
                self._close_source()

    def _delivered(self, frame: Frame) -> Frame:
        now = time.monotonic()
        with self._lock:
            if self._state != "ok":
                was_down = now - self._lost_at
                if self._error != "not opened yet" and self._index:
                    self.reconnects += 1
                    log.warning("%s delivers frames again after %.1f s", self.id, was_down)
                self._state, self._error, self._since = "ok", None, time.time()
            self._last_frame = now
            self._failures = 0
        out = replace(frame, index=self._index, t=now - self._t0)
        self._index += 1
        return out

    def _connect(self) -> None:
        try:
            self.source.open()
        except SourceError as exc:
            self._failed(exc)
            return
        except Exception as exc:  # e.g. a driver's RuntimeError: retried like any outage
            self._failed(SourceError(f"{self.id}: cannot open: {exc!r}"))
            return
        self._open = True
        if self.source.fps:
            self.fps = float(self.source.fps)
        if self._view is not None:
            self._view.rebind()  # the new camera object gets the view's encoder

    def _lose(self, error: SourceError) -> None:
        """The open source stopped delivering: close it and schedule the next attempt."""
        with self._lock:
            if self._state == "ok":
                self._lost_at = time.monotonic()
        log.warning("%s stopped delivering frames (%s): reconnecting", self.id, error)
        self._logged_at = time.monotonic()
        self._close_source()
        self._failed(error, logged=True)

    def _failed(self, error: SourceError, *, logged: bool = False) -> None:
        delay = min(self.policy.backoff_max_s, self.policy.backoff_first_s * 2**self._failures)
        self._failures += 1
        now = time.monotonic()
        self._next_try = now + delay
        with self._lock:
            if self._state != "waiting":
                self._since = time.time()
            self._state, self._error = "waiting", str(error)
            down = now - self._lost_at
        if not logged and (self._failures == 1 or now - self._logged_at >= _STILL_WAITING_LOG_S):
            self._logged_at = now
            log.warning(
                "waiting for %s (%.0f s): %s; retrying every %.0f s at most",
                self.id,
                down,
                error,
                self.policy.backoff_max_s,
            )

    def _close_source(self) -> None:
        with self._lock:
            self._close_after_read = False
        self._open = False
        try:
            self.source.close()
        except Exception as exc:  # cleanup of a dead camera must not stop the reconnecting
            log.warning("closing %s failed: %s", self.id, exc)


class _FollowingView:
    """A camera's hardware view (``hiitpi.sources.picamera_view.CameraView``) that is started
    again on the new camera object each time the camera is reopened."""

    def __init__(self, owner: ReconnectingSource, view: Any) -> None:
        self._owner = owner
        self._view = view
        self._put: Any = None
        self._quality = 80
        self._draw: Any = None
        self._lock = threading.Lock()

    @property
    def current(self) -> Any:
        """The view on the camera object open now."""
        return self._view

    def start(self, put: Any, quality: int = 80) -> None:
        with self._lock:
            self._put, self._quality = put, quality
            self._view.start(put, quality)

    def show(self, draw: Any) -> None:
        with self._lock:
            self._draw = draw
            self._view.show(draw)

    def stop(self) -> None:
        with self._lock:
            self._put = None
            _quietly_stop(self._view)

    def rebind(self) -> None:
        """From the capture thread, after the camera was reopened."""
        make = getattr(self._owner.source, "hardware_view", None)
        view = make() if make is not None else None
        with self._lock:
            if view is None or self._put is None:
                return
            _quietly_stop(self._view)  # its camera is closed
            view.start(self._put, self._quality)
            view.show(self._draw)
            self._view = view


def _quietly_stop(view: Any) -> None:
    try:
        view.stop()
    except Exception as exc:  # the view of a camera already gone
        log.warning("stopping the camera view failed: %s", exc)
