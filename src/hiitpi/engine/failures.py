"""Frames the pose model or the referee fail on: what the engine's status says about them.

A frame that raises is skipped, never the set (:meth:`LiveEngine._referee_frame`). While frames
fail, the status carries the error (with the exception), a message for the person ("Something
went wrong in the referee: frames are skipped until it works again; your 12 reps are saved")
and the health entry ``referee`` (not ok, "failing"), which makes ``/healthz`` answer 503. All of
it clears once frames have worked for ``RECOVER_S`` in a row, so a model that fails every other
frame shows one steady failure instead of a message that flickers and a log line per frame; or
at once, without a word in the log, when nothing is refereed any more (a pause, a rest, the end
of the set).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from hiitpi.live.base import EngineStatus, component

log = logging.getLogger(__name__)

RECOVER_S = 1.0  # frames must work this long in a row before a failure is over
MESSAGE = "Something went wrong in {part}: frames are skipped until it works again{kept}"
HUD = "Referee error: frames are skipped"  # the same, on the live video
PART_POSE, PART_REFEREE = "the pose model", "the referee"
PART_RECORDER = "the workout recorder"  # a rep counted, not yet journaled: not "saved"


def kept_clause(reps: int, hold_s: float, unsaved: str | None = None) -> str:
    """ "; your 12 reps are saved" (or the time held, for a plank); nothing before any.

    ``unsaved``: why they are in memory only (the recorder's ``unsaved()``), which the clause
    then says instead: "; your 12 reps are counted but not saved yet (the disk refused ...)".
    """
    if reps > 0:
        what, verb = f"your {reps} rep{'' if reps == 1 else 's'}", "is" if reps == 1 else "are"
    elif hold_s >= 1.0:
        held = int(hold_s)
        what, verb = f"your {held // 60}:{held % 60:02d} held", "is"
    else:
        return ""
    if unsaved:
        return f"; {what} {verb} counted but not saved yet ({unsaved})"
    return f"; {what} {verb} saved"


@dataclass(slots=True)
class _Failure:
    error: str
    message: str
    since: float  # wall-clock time (time.time()) of its first failing frame
    ok_since: float | None = None  # monotonic time frames began to work again


class FrameFailures:
    """The engine's record of failing frames (engine thread only).

    Each method returns the status changes that say so; their ``health`` holds only the entry
    that changes (``referee``), to be laid over the status's other parts as they are by then.
    """

    def __init__(self, recover_s: float = RECOVER_S) -> None:
        self.recover_s = recover_s
        self._failure: _Failure | None = None

    @property
    def failing(self) -> bool:
        return self._failure is not None

    def failed(self, status: EngineStatus, part: str, error: str, kept: str) -> dict[str, Any]:
        """A frame failed in ``part`` with ``error``: the status changes (``kept``: what the
        message says is saved, from :func:`kept_clause`)."""
        message = MESSAGE.format(part=part, kept=kept)
        old = self._failure
        if old is not None and (old.error, old.message) == (error, message):
            old.ok_since = None
            return {}  # the status says so already
        self._failure = _Failure(error, message, old.since if old is not None else time.time())
        health = component(False, "failing", error, self._failure.since)
        return {"error": error, "message": message, "health": {"referee": health}}

    def worked(self, status: EngineStatus, now: float) -> dict[str, Any]:
        """A frame worked (``now``: time.monotonic()): after ``recover_s`` of them in a row the
        failure is over; the status changes that say so."""
        f = self._failure
        if f is None:
            return {}
        if f.ok_since is None:
            f.ok_since = now
        if now - f.ok_since < self.recover_s:
            return {}
        log.info("the pose model and the referee work again")
        return self._clear(status)

    def idle(self, status: EngineStatus) -> dict[str, Any]:
        """Nothing is refereed now: no failure to show (the status changes)."""
        return {} if self._failure is None else self._clear(status)

    def _clear(self, status: EngineStatus) -> dict[str, Any]:
        f = self._failure
        assert f is not None
        self._failure = None
        out: dict[str, Any] = {"health": {"referee": component(True, "ok")}}
        if status.error == f.error:  # not if something else has said more since
            out["error"] = None
        if status.message == f.message:
            out["message"] = None
        return out
