"""Curls with both arms together or one after the other (``sides = "merge"``).

Following the most confident arm counted two-arm curls but only half of the alternating ones;
each arm is now counted on its own and cycles that overlap in time are one rep.
"""

from __future__ import annotations

import numpy as np
import pytest

from hiitpi.core.events import EventKind
from hiitpi.referee import Referee, load_exercise
from hiitpi.referee.sides import Span, overlaps

from . import skeleton as sk


def curls(
    n: int,
    period: float,
    lag: float | None,
    depth: tuple[float, float] = (1.0, 1.0),
    conf: tuple[float, float] = (0.95, 0.95),
    fps: float = 30.0,
) -> sk.Frames:
    """``n`` curls of ``period`` s. ``lag`` None: the arms take turns (left, right, ...);
    else both arms curl together, the right one ``lag`` seconds behind."""
    lead, tail = 1.0, 1.0
    total = lead + n * period + (lag or 0.0) + tail
    frames: sk.Frames = []

    def lift(t: float, k_want: int | None) -> float:
        k, phase = divmod(t - lead, period)
        if not 0 <= k < n or (k_want is not None and int(k) % 2 != k_want):
            return 0.0
        return float(np.sin(np.pi * phase / period))

    for i in range(int(total * fps)):
        t = i / fps
        if lag is None:
            left, right = lift(t, 0), lift(t, 1)
        else:
            left, right = lift(t, None), lift(t - lag, None)
        frames.append((t, sk.front_curl(depth[0] * left, depth[1] * right, conf)))
    return frames


def run(frames: sk.Frames) -> Referee:
    return sk.feed(Referee(load_exercise("bicep_curl")), frames)


@pytest.mark.parametrize("fps", [30.0, 10.0, 6.0])
def test_alternating_curls_count_each_arm(fps: float) -> None:
    ref = run(sk.noisy(curls(6, 2.0, None, fps=fps), sigma=1.0))
    assert (ref.state.reps, ref.state.no_reps) == (6, 0)


def test_alternating_curls_with_a_weaker_arm_count_both() -> None:
    # the arm the camera sees worse is still seen: the most confident arm must not be all
    ref = run(sk.noisy(curls(6, 2.0, None, conf=(0.95, 0.65)), sigma=1.0))
    assert (ref.state.reps, ref.state.no_reps) == (6, 0)


@pytest.mark.parametrize("lag", [0.0, 0.3], ids=["together", "lagging"])
def test_two_arm_curls_count_once(lag: float) -> None:
    ref = run(sk.noisy(curls(5, 2.0, lag), sigma=1.0))
    assert (ref.state.reps, ref.state.no_reps) == (5, 0)


def test_a_lagging_short_arm_adds_no_no_rep_to_a_good_rep() -> None:
    # the right arm curls only part-way, behind the left: one movement, a rep
    ref = run(sk.noisy(curls(4, 2.0, 0.3, depth=(1.0, 0.55)), sigma=1.0))
    assert (ref.state.reps, ref.state.no_reps) == (4, 0)


def test_both_arms_short_is_one_no_rep_per_movement() -> None:
    # both arms reach 95 degrees, not the 75-degree standard: 4 movements, 4 no-reps
    depth = (0.58, 0.58)
    frames = curls(4, 2.0, 0.1, depth=depth)
    ref = run(sk.noisy(frames, sigma=1.0))
    assert ref.state.reps == 0
    assert [e.kind for e in ref.events] == [EventKind.NO_REP] * 4


def test_overlap_is_shared_time_over_the_shorter_cycle() -> None:
    rep = Span(0.0, 2.0, True)
    assert overlaps(rep, 0.3, 2.3)  # 1.7 of 2 s shared: both arms together
    assert not overlaps(rep, 1.6, 3.6)  # 0.4 of 2 s: the next arm started as this one lowered
    assert not overlaps(rep, 2.5, 4.5)


def test_an_arm_first_seen_at_the_top_of_its_curl_counts() -> None:
    # the right arm is hidden (confidence 0.2) until the top of its first curl: that is not
    # its rest level, so the curl still counts when it lowers
    frames = curls(4, 2.0, None)
    first_top = 1.0 + 2.0 + 1.0  # lead, the left arm's curl, half of the right arm's
    hidden = (0.95, 0.2)
    out: sk.Frames = []
    for t, pose in frames:
        if pose is not None and t < first_top:
            left = float(np.interp(t, [1.0, 2.0, 3.0], [0.0, 1.0, 0.0]))
            pose = sk.front_curl(left, 0.0, hidden)
        out.append((t, pose))
    ref = run(out)
    assert (ref.state.reps, ref.state.no_reps) == (4, 0)
