"""The phase machine passes phases in their order; optional phases; burpees' real phases."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from hiitpi.core.events import EventKind
from hiitpi.referee import Referee, load_exercise
from hiitpi.referee.definition import ExerciseDefinition, parse_definition
from hiitpi.referee.machine import Cycle, PhaseMachine

from . import skeleton as sk

HEAD = """
id = "{id}"
label = "Scratch"
required = [["shoulder", "elbow", "wrist"]]
min_rep_s = 0.1
attempt = [{{ feature = "a", above = 30 }}]
[features]
a = {{ kind = "angle", points = ["shoulder", "elbow", "wrist"] }}
b = {{ kind = "angle", points = ["hip", "knee", "ankle"] }}
[start]
when = [{{ feature = "a", below = 10 }}]
[[phases]]
name = "rest"
min_s = 0.0
when = [{{ feature = "a", below = 10, exit = 20 }}]
"""


def phase(name: str, cond: str, optional: bool = False) -> str:
    opt = "optional = true\n" if optional else ""
    return f'[[phases]]\nname = "{name}"\nmin_s = 0.05\n{opt}when = [{cond}]\n'


A_UP = '{ feature = "a", above = 50, exit = 40 }'
B_UP = '{ feature = "b", above = 50, exit = 40 }'
BOTH = A_UP + ", " + B_UP


def definition(*phases: str, name: str = "scratch") -> ExerciseDefinition:
    return parse_definition(HEAD.format(id=name) + "".join(phases), f"{name}.toml")


def run(d: ExerciseDefinition, frames: Sequence[tuple[float, float]]) -> list[Cycle]:
    """Feed (a, b) pairs at 30 fps; the finished cycles."""
    m = PhaseMachine(d)
    out = []
    for i, (a, b) in enumerate(frames):
        cycle = m.step({"a": a, "b": b}, i / 30.0)
        if cycle is not None:
            out.append(cycle)
    return out


def hold(a: float, b: float, s: float = 0.3) -> list[tuple[float, float]]:
    return [(a, b)] * int(s * 30)


THREE = definition(phase("mid", B_UP), phase("turn", A_UP))


def test_three_phases_a_skipped_middle_phase_is_not_a_rep() -> None:
    """The reproduction from the issue: the turning phase holds, the middle one never did."""
    cycles = run(THREE, hold(0, 0) + hold(60, 0) + hold(0, 0))
    assert [(c.complete, c.missed and c.missed.name) for c in cycles] == [(False, "mid")]


def test_three_phases_in_order_count() -> None:
    cycles = run(THREE, hold(0, 0) + hold(25, 60) + hold(60, 60) + hold(0, 0))
    assert [c.complete for c in cycles] == [True]


def test_three_phases_in_the_wrong_order_do_not_count() -> None:
    """The last phase first, then the middle one, each alone: not in order."""
    cycles = run(THREE, hold(0, 0) + hold(60, 0) + hold(30, 0) + hold(30, 60) + hold(0, 0))
    assert [c.complete for c in cycles] == [False]


FOUR = definition(
    phase("one", B_UP),
    phase("two", BOTH, optional=True),
    phase("three", '{ feature = "b", below = 20, exit = 30 }, ' + A_UP),
    name="four",
)


@pytest.mark.parametrize(
    "path,complete,passed",
    [
        ([(25, 60), (60, 60), (60, 0)], True, [1, 2, 3]),  # through the optional phase
        ([(25, 60), (30, 0), (60, 0)], True, [1, 3]),  # optional phase skipped
        ([(60, 0)], False, []),  # phase one never held
        ([(25, 60), (35, 0)], False, [1]),  # phase three never held
    ],
    ids=["all", "optional-skipped", "first-missed", "last-missed"],
)
def test_four_phases_with_an_optional_one(
    path: list[tuple[float, float]], complete: bool, passed: list[int]
) -> None:
    frames = hold(0, 0)
    for a, b in path:
        frames += hold(a, b)
    cycles = run(FOUR, frames + hold(0, 0))
    assert len(cycles) == 1
    assert cycles[0].complete is complete
    assert cycles[0].attempt.passed == passed


def test_optional_rest_phase_is_refused() -> None:
    text = HEAD.format(id="bad").replace('name = "rest"', 'name = "rest"\noptional = true')
    with pytest.raises(Exception, match="cannot be optional"):
        parse_definition(text + phase("turn", A_UP), "bad.toml")


def burpee_with_push_up(p: float) -> sk.Pose:
    """Stand (0) -> squat (0.35) -> plank (0.6-0.7) -> chest down (0.85) -> plank (1)."""
    if p < 0.6:
        return sk.burpee(p / 0.6 * 0.7)
    dip = 1.0 - abs(p - 0.85) / 0.15 if p > 0.7 else 0.0
    return sk.push_up(max(0.0, dip))


@pytest.mark.parametrize("pose_at", [sk.burpee, burpee_with_push_up], ids=["plain", "push-up"])
@pytest.mark.parametrize("fps", [6.0, 10.0, 30.0])
def test_burpees_with_and_without_the_chest_to_the_floor(pose_at: object, fps: float) -> None:
    frames = sk.noisy(sk.sequence(pose_at, sk.reps(4, 3.0), fps=fps), sigma=1.0)  # type: ignore[arg-type]
    ref = sk.feed(Referee(load_exercise("burpee")), frames)
    assert (ref.state.reps, ref.state.no_reps) == (4, 0)


def test_a_burpee_without_the_plank_is_a_no_rep() -> None:
    """Squat thrusts that never kick back: every attempt is a no-rep naming the plank."""
    frames = sk.noisy(sk.sequence(lambda p: sk.standing_side(178 - 110 * p), sk.reps(3, 2.0)))
    ref = sk.feed(Referee(load_exercise("burpee")), frames)
    assert ref.state.reps == 0
    assert [e.kind for e in ref.events] == [EventKind.NO_REP] * len(ref.events)
