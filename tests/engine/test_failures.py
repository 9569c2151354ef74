"""What the status says while the pose model or the referee fails on frames (pure: times given)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from hiitpi.engine.failures import PART_REFEREE, FrameFailures, kept_clause
from hiitpi.live import EngineStatus

ERROR = "the referee failed: ZeroDivisionError('division by zero')"


def _apply(status: EngineStatus, changes: dict[str, Any]) -> EngineStatus:
    """As the engine does: ``changes["health"]`` is laid over the other parts."""
    health = {**status.health, **changes.get("health", {})}
    return replace(status, **{**changes, "health": health})


@pytest.mark.parametrize(
    ("reps", "hold_s", "said"),
    [
        (12, 0.0, "; your 12 reps are saved"),
        (1, 0.0, "; your 1 rep is saved"),
        (0, 83.4, "; your 1:23 held is saved"),
        (0, 0.4, ""),
    ],
)
def test_the_message_says_what_is_saved(reps: int, hold_s: float, said: str) -> None:
    assert kept_clause(reps, hold_s) == said


def test_reps_in_memory_only_are_not_called_saved() -> None:
    why = "the disk refused them: [Errno 28] No space left on device"
    assert kept_clause(12, 0.0, why) == (
        "; your 12 reps are counted but not saved yet "
        "(the disk refused them: [Errno 28] No space left on device)"
    )
    assert kept_clause(0, 83.4, why).startswith("; your 1:23 held is counted but not saved yet")
    assert kept_clause(0, 0.0, why) == ""


def test_a_failure_shows_once_and_clears_after_a_second_of_working_frames() -> None:
    failures = FrameFailures(recover_s=1.0)
    status = EngineStatus(running=True, health={"camera": {"ok": True}})
    status = _apply(status, failures.failed(status, PART_REFEREE, ERROR, "; your 3 reps are saved"))
    assert status.error == ERROR
    assert status.message == (
        "Something went wrong in the referee: frames are skipped until it works again; "
        "your 3 reps are saved"
    )
    referee = status.health["referee"]
    assert referee["ok"] is False and referee["state"] == "failing" and referee["error"] == ERROR
    assert status.health["camera"] == {"ok": True}  # the other parts are left as they were
    since = referee["since"]

    # a model that fails every other frame: one steady failure, nothing to change each frame
    for i in range(10):
        assert failures.worked(status, 100.0 + i / 15) == {}
        assert failures.failed(status, PART_REFEREE, ERROR, "; your 3 reps are saved") == {}
    assert failures.failing

    assert failures.worked(status, 200.0) == {}  # working again: not over yet ...
    assert failures.worked(status, 200.5) == {}
    status = _apply(status, failures.worked(status, 201.0))  # ... until 1 s of working frames
    assert not failures.failing
    assert status.error is None and status.message is None
    assert status.health["referee"]["ok"] is True
    assert since is not None


def test_a_new_error_keeps_when_the_failure_began() -> None:
    failures = FrameFailures()
    status = EngineStatus(running=True)
    status = _apply(status, failures.failed(status, PART_REFEREE, ERROR, ""))
    since = status.health["referee"]["since"]
    status = _apply(
        status, failures.failed(status, PART_REFEREE, "the referee failed: KeyError()", "")
    )
    assert status.error == "the referee failed: KeyError()"
    assert status.health["referee"]["since"] == since


def test_nothing_refereed_clears_the_failure_but_not_what_was_said_since() -> None:
    failures = FrameFailures()
    status = EngineStatus(running=True)
    status = _apply(status, failures.failed(status, PART_REFEREE, ERROR, ""))
    status = replace(status, message="the video ended")  # another part said more since
    status = _apply(status, failures.idle(status))
    assert not failures.failing
    assert status.error is None and status.message == "the video ended"
    assert failures.idle(status) == {}  # once
