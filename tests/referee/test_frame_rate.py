"""Counting does not depend on seeing the one turning-point frame: 5 to 60 fps, irregular
frame intervals, jitter and dropped frames, on synthetic skeletons with known counts."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from hiitpi.core.pose import Pose
from hiitpi.referee import Referee, load_exercise

from . import skeleton as sk

# exercise -> (pose function, seconds per rep a person really does)
STEADY: dict[str, tuple[Callable[[float], Pose], float]] = {
    "push_up": (sk.push_up, 1.5),
    "squat": (sk.squat, 1.8),
    "jumping_jacks": (sk.jumping_jack, 1.0),
    "bicep_curl": (sk.bicep_curl, 1.6),
    "sit_up": (sk.sit_up, 2.0),
    "lunge": (sk.squat, 2.0),
    "side_squat_jump": (sk.side_squat, 1.4),
}


def irregular(frames: sk.Frames, seed: int) -> sk.Frames:
    """Drop frames at random so that intervals vary by a factor of up to three."""
    rng = np.random.default_rng(seed)
    return [f for i, f in enumerate(frames) if i == 0 or rng.random() > 0.35]


@pytest.mark.parametrize("fps", [5.0, 6.0, 10.0, 15.0, 30.0, 60.0])
@pytest.mark.parametrize("name", list(STEADY))
def test_every_rep_counts_at_any_frame_rate(name: str, fps: float) -> None:
    pose_at, period = STEADY[name]
    frames = sk.noisy(sk.sequence(pose_at, sk.reps(6, period), fps=fps), sigma=1.0, seed=2)
    ref = sk.feed(Referee(load_exercise(name)), frames)
    assert (ref.state.reps, ref.state.no_reps) == (6, 0)


@pytest.mark.parametrize("name", list(STEADY))
def test_irregular_frame_intervals_at_a_low_rate(name: str) -> None:
    pose_at, period = STEADY[name]
    frames = sk.sequence(pose_at, sk.reps(6, period), fps=12.0)
    frames = sk.noisy(irregular(frames, seed=5), sigma=1.0, seed=3)
    ref = sk.feed(Referee(load_exercise(name)), frames)
    assert (ref.state.reps, ref.state.no_reps) == (6, 0)


@pytest.mark.parametrize("fps", [6.0, 10.0, 30.0])
def test_alternating_high_knees_at_low_rates(fps: float) -> None:
    """Each knee drive counts (0.6 s a drive) even when a drive is seen in 3-4 frames."""
    period = 0.6
    frames: sk.Frames = []
    for i in range(int((1.0 + 10 * period + 1.0) * fps)):
        t = i / fps
        k, phase = divmod(t - 1.0, period)
        lift = 2.0 * float(np.sin(np.pi * phase / period)) if 0 <= k < 10 else 0.0
        left, right = (lift, 0.0) if int(k) % 2 == 0 else (0.0, lift)
        frames.append((t, sk.toe_tap(left, right)))
    ref = sk.feed(Referee(load_exercise("high_knees")), sk.noisy(frames, sigma=1.0))
    assert ref.state.reps == 10


@pytest.mark.parametrize("fps", [6.0, 30.0])
def test_a_shallow_mover_counts_after_calibrating_and_fidgets_never_do(fps: float) -> None:
    """Squats to 60 % of the nominal depth count (the range is this person's); small knee
    wobbles below the minimum range never count, at either rate."""
    shallow = sk.sequence(sk.squat, sk.reps(6, 2.0, depth=0.6), fps=fps)
    ref = sk.feed(Referee(load_exercise("squat")), sk.noisy(shallow, sigma=1.0))
    assert ref.state.reps >= 5  # the first one may be judged against the prior
    wobble = sk.sequence(sk.squat, sk.reps(8, 1.0, depth=0.15), fps=fps)
    ref = sk.feed(Referee(load_exercise("squat")), sk.noisy(wobble, sigma=1.0))
    assert (ref.state.reps, ref.state.no_reps) == (0, 0)


@pytest.mark.parametrize("fps", [6.0, 10.0, 15.0, 30.0])
def test_a_start_pose_held_for_its_hold_time_arms_at_any_frame_rate(fps: float) -> None:
    """The start pose's hold counts as the phases' debouncing does: the first frame that shows
    it stands for its interval. A person who stands still for exactly the lunge's ``hold_s``
    (0.3 s) between getting up and dropping into the first lunge has that lunge counted at
    6 fps as at 30 (lunge__venkat__1 does this: up at 1.07 s, going down again at 1.4 s)."""
    definition = load_exercise("lunge")
    hold = definition.start.hold_s
    up = 1.0
    down = up + hold  # the first lunge begins (fast: halfway down 20 ms later)
    keys = [(0.0, 0.8), (up - 0.01, 0.8), (up, 0.0), (down, 0.0), (down + 0.02, 0.5)]
    keys += [(down + 0.5, 1.0), (down + 1.5, 0.0)]
    for k in range(2):  # then two lunges of 2 s
        t = down + 1.5 + 2.0 * k
        keys += [(t + 1.0, 1.0), (t + 2.0, 0.0)]
    keys.append((keys[-1][0] + 1.0, 0.0))
    frames = sk.noisy(sk.sequence(sk.squat, keys, fps=fps), sigma=1.0, seed=4)
    ref = sk.feed(Referee(definition), frames)
    assert (ref.state.reps, ref.state.no_reps) == (3, 0)
