"""Table tests on synthetic skeleton sequences: exact counts, no phantom reps, no-rep reasons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from hiitpi.config import RefereeConfig
from hiitpi.core.events import EventKind
from hiitpi.core.pose import Pose
from hiitpi.referee import Referee, load_exercise

from . import skeleton as sk


@dataclass(frozen=True)
class Case:
    exercise: str
    pose_at: Callable[[float], Pose]
    half: Callable[[float], Pose] | None = None  # a movement that misses a target
    half_reason: str = ""
    half_depth: float = 1.0
    fastest: float = 0.8  # seconds per rep a person can really manage


CASES = {
    "push_up": Case(
        "push_up", sk.push_up, half=sk.push_up, half_depth=0.65, half_reason="elbows_not_below_100"
    ),
    "squat": Case("squat", sk.squat, half=sk.squat, half_depth=0.45, half_reason="not_deep_enough"),
    "jumping_jacks": Case(
        "jumping_jacks",
        sk.jumping_jack,
        half=lambda p: sk.jumping_jack(p, feet=False),
        half_reason="feet_not_apart",
    ),
    "side_squat_jump": Case(
        "side_squat_jump",
        sk.side_squat,
        half=lambda p: sk.side_squat(p, wide=False),
        half_reason="feet_not_apart",
    ),
    "lunge": Case("lunge", sk.squat, half=sk.squat, half_depth=0.55, half_reason="not_deep_enough"),
    "squat_jump": Case(
        "squat_jump", sk.squat, half=sk.squat, half_depth=0.48, half_reason="not_deep_enough"
    ),
    "bicep_curl": Case(
        "bicep_curl", sk.bicep_curl, half=sk.bicep_curl, half_depth=0.6, half_reason="not_curled"
    ),
    "sit_up": Case(
        "sit_up", sk.sit_up, half=sk.sit_up, half_depth=0.65, half_reason="not_high_enough"
    ),
    "burpee": Case("burpee", sk.burpee, fastest=1.6),
}
IDS = list(CASES)
# Known weakness of the calibrated counter (docs/ACCURACY.md): a hold just past the attempt
# threshold with heavy jitter is judged as repeated half attempts (no-reps, never reps).
JITTER_NO_REP_SPAM = {("push_up", 0.2)}
HALF_IDS = [k for k, c in CASES.items() if c.half is not None]


def referee(exercise: str, **config: object) -> Referee:
    return Referee(load_exercise(exercise), RefereeConfig(**config))  # type: ignore[arg-type]


def count(exercise: str, frames: sk.Frames) -> tuple[int, list[str | None]]:
    ref = sk.feed(referee(exercise), frames)
    no_reps = [e.reason_code for e in ref.events if e.kind == EventKind.NO_REP]
    return ref.state.reps, no_reps


@pytest.mark.parametrize("name", IDS)
@pytest.mark.parametrize("n,period", [(5, 2.0), (8, 0.8), (3, 6.0)], ids=["steady", "fast", "slow"])
def test_exact_count_at_any_tempo(name: str, n: int, period: float) -> None:
    case = CASES[name]
    period = max(period, case.fastest)
    frames = sk.noisy(sk.sequence(case.pose_at, sk.reps(n, period)), sigma=1.0)
    assert count(case.exercise, frames) == (n, [])


@pytest.mark.parametrize("name", IDS)
def test_tempo_changes_within_a_set(name: str) -> None:
    case = CASES[name]
    keys = sk.reps(3, 2.5)
    fast = [(t + keys[-1][0], p) for t, p in sk.reps(4, max(0.9, case.fastest), lead=0.0)]
    frames = sk.noisy(sk.sequence(case.pose_at, keys + fast), sigma=1.0, seed=3)
    assert count(case.exercise, frames) == (7, [])


@pytest.mark.parametrize("name", IDS)
@pytest.mark.parametrize("level", [0.2, 0.5, 0.7])
def test_jitter_at_any_level_is_not_a_rep(name: str, level: float) -> None:
    """Holding still anywhere in the range, with heavy noise, counts nothing."""
    case = CASES[name]
    frames = sk.sequence(case.pose_at, [(0.0, 0.0), (1.0, 0.0), (1.5, level), (8.0, level)])
    ref = sk.feed(referee(case.exercise), sk.noisy(frames, sigma=4.0, seed=7))
    assert ref.state.reps == 0
    if (name, level) in JITTER_NO_REP_SPAM:
        pytest.xfail("known: holding at 20% depth under 4 px jitter gives repeated no-reps")
    assert len(ref.events) <= 1  # at most the one honest half attempt


@pytest.mark.parametrize("name", IDS)
def test_jitter_around_the_turning_threshold_counts_once(name: str) -> None:
    case = CASES[name]
    keys = [(0.0, 0.0), (1.0, 0.0), (2.0, 1.0)]
    keys += [(2.0 + 0.1 * i, 1.0 if i % 2 else 0.85) for i in range(1, 30)]
    keys += [(6.0, 0.0), (7.0, 0.0)]
    frames = sk.noisy(sk.sequence(case.pose_at, keys), sigma=2.0, seed=1)
    assert count(case.exercise, frames) == (1, [])


@pytest.mark.parametrize("name", HALF_IDS)
def test_half_reps_are_no_reps_with_a_reason(name: str) -> None:
    case = CASES[name]
    assert case.half is not None
    frames = sk.noisy(sk.sequence(case.half, sk.reps(3, 2.0, depth=case.half_depth)), sigma=1.0)
    reps, reasons = count(case.exercise, frames)
    assert reps == 0
    assert reasons == [case.half_reason] * 3


@pytest.mark.parametrize("name", IDS)
def test_keypoint_and_frame_dropouts(name: str) -> None:
    case = CASES[name]
    frames = sk.sequence(case.pose_at, sk.reps(6, 1.5))
    frames = sk.noisy(frames, sigma=1.5, drop_kp=0.05, drop_frame=0.15, seed=11)
    assert count(case.exercise, frames)[0] == 6


@pytest.mark.parametrize("name", IDS)
def test_leaving_mid_rep_never_counts_and_rearms(name: str) -> None:
    case = CASES[name]
    first = sk.sequence(case.pose_at, [(0.0, 0.0), (1.0, 0.0), (2.0, 0.6)])
    gone: sk.Frames = [(i / 30.0, None) for i in range(90)]
    back = sk.sequence(case.pose_at, sk.reps(2, 2.0))
    ref = sk.feed(referee(case.exercise), sk.concat(first, gone, back))
    assert ref.state.reps == 2
    assert ref.state.armed


def test_no_count_while_getting_into_push_up_position() -> None:
    """Standing, bending down, kneeling into the plank: no rep until the plank is held."""
    stand = [(i / 30.0, sk.standing_side()) for i in range(60)]
    crouch = [(i / 30.0, sk.standing_side(90.0)) for i in range(30)]
    plank = sk.sequence(sk.push_up, sk.reps(2, 2.0))
    ref = sk.feed(referee("push_up"), sk.noisy(sk.concat(stand, crouch, plank), sigma=1.0))
    assert ref.state.reps == 2


def test_idle_standing_is_not_a_squat() -> None:
    frames = sk.noisy([(i / 30.0, sk.standing_side()) for i in range(300)], sigma=3.0)
    ref = sk.feed(referee("squat"), frames)
    assert (ref.state.reps, ref.state.no_reps, ref.state.armed) == (0, 0, True)


def test_sagging_hips_void_a_push_up() -> None:
    frames = sk.sequence(lambda p: sk.push_up(p, sag=0.7 * p), sk.reps(2, 2.0))
    reps, reasons = count("push_up", sk.noisy(frames, sigma=1.0))
    assert reps == 0
    assert reasons == ["hips_sagging", "hips_sagging"]


def test_slightly_low_hips_lower_quality_only() -> None:
    frames = sk.sequence(lambda p: sk.push_up(p, sag=0.35 * p), sk.reps(2, 2.0))
    ref = sk.feed(referee("push_up"), sk.noisy(frames, sigma=0.5))
    assert ref.state.reps == 2
    assert all(e.quality < 0.8 for e in ref.events)
    assert all(e.kind == EventKind.REP and e.reason_code == "hips_low" for e in ref.events)
    assert ref.state.last_reason is None  # a form note on a counted rep is not a no-rep
    assert ref.state.message.startswith("Rep 2: Hips")


def test_rep_event_fields() -> None:
    frames = sk.sequence(sk.push_up, sk.reps(3, 2.0))
    ref = sk.feed(referee("push_up"), frames)
    events = ref.events
    assert [e.index for e in events] == [1, 2, 3]
    for e in events:
        assert e.kind == EventKind.REP
        assert 1.0 < e.duration < 2.0  # the time spent away from the start phase
        assert e.t - e.t_start == pytest.approx(e.duration, abs=1e-3)
        assert e.rom > 1.0  # 65 degrees is deeper than the 90 degree target
        assert e.quality == 1.0


@pytest.mark.parametrize("smoothing", ["one_euro", "ema", "none"])
def test_every_smoothing_counts(smoothing: str) -> None:
    frames = sk.noisy(sk.sequence(sk.push_up, sk.reps(4, 1.5)), sigma=1.0)
    ref = sk.feed(referee("push_up", smoothing=smoothing), frames)
    assert ref.state.reps == 4
