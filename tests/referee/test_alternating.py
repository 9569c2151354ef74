"""Alternating exercises (each side's movement counts): toe taps on a synthetic skeleton."""

from __future__ import annotations

import numpy as np
import pytest

from hiitpi.config import RefereeConfig
from hiitpi.core.events import EventKind
from hiitpi.referee import Referee, load_exercise

from . import skeleton as sk


def taps(
    n: int, period: float, depth: float = 1.0, lead: float = 1.0, pose_at: object = sk.toe_tap
) -> sk.Frames:
    """``n`` taps alternating left, right, ...; each tap takes ``period`` seconds."""
    fps = 30.0
    total = lead + n * period + 1.0
    frames: sk.Frames = []
    for i in range(int(total * fps)):
        t = i / fps
        k, phase = divmod(t - lead, period)
        lift = 0.0
        if 0 <= k < n:
            lift = depth * float(np.sin(np.pi * phase / period))
        left, right = (lift, 0.0) if int(k) % 2 == 0 else (0.0, lift)
        frames.append((t, pose_at(left, right)))  # type: ignore[operator]
    return frames


def run(frames: sk.Frames) -> Referee:
    return sk.feed(Referee(load_exercise("toe_tap"), RefereeConfig()), frames)


@pytest.mark.parametrize(
    "n,period", [(10, 0.8), (12, 0.4), (4, 3.0)], ids=["steady", "fast", "slow"]
)
def test_every_tap_counts(n: int, period: float) -> None:
    ref = run(sk.noisy(taps(n, period), sigma=1.0))
    assert (ref.state.reps, ref.state.no_reps) == (n, 0)


def test_small_lifts_are_no_reps() -> None:
    # lifts of 0.29 torso lengths: above the 0.25 minimum movement, below the 0.3 standard
    ref = run(sk.noisy(taps(4, 1.0, depth=0.65), sigma=0.5))
    assert ref.state.reps == 0
    assert [e.reason_code for e in ref.events] == ["foot_not_lifted"] * 4
    assert ref.state.last_reason is not None and "higher" in ref.state.last_reason


def test_standing_still_with_jitter_counts_nothing() -> None:
    ref = run(sk.noisy(taps(0, 1.0, lead=8.0), sigma=4.0, seed=5))
    assert (ref.state.reps, ref.state.no_reps) == (0, 0)


def test_dropouts_and_tempo_change() -> None:
    slow = taps(4, 1.2)
    fast = taps(8, 0.45, lead=0.0)
    frames = sk.noisy(sk.concat(slow, fast), sigma=1.5, drop_kp=0.03, drop_frame=0.1, seed=2)
    ref = run(frames)
    assert ref.state.reps == 12
    assert all(e.kind == EventKind.REP for e in ref.events)


def test_high_knees_use_the_same_machinery() -> None:
    """A toe-tap sequence driven higher is a high-knees set (every knee drive counts)."""
    ref = sk.feed(Referee(load_exercise("high_knees")), sk.noisy(taps(10, 0.5, depth=2.0)))
    assert ref.state.reps == 10


@pytest.mark.parametrize("period", [0.3, 0.5, 1.5])
def test_mountain_climber_every_knee_drive_counts(period: float) -> None:
    frames = sk.noisy(taps(12, period, pose_at=sk.mountain_climber), sigma=1.0, drop_frame=0.05)
    ref = sk.feed(Referee(load_exercise("mountain_climber")), frames)
    assert (ref.state.reps, ref.state.no_reps) == (12, 0)


def test_mountain_climber_short_drives_are_no_reps() -> None:
    frames = sk.noisy(taps(4, 0.6, depth=0.6, pose_at=sk.mountain_climber), sigma=0.5)
    ref = sk.feed(Referee(load_exercise("mountain_climber")), frames)
    assert ref.state.reps == 0
    assert [e.reason_code for e in ref.events] == ["knee_not_in"] * 4
