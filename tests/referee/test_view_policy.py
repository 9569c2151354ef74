"""What a definition's ``[views]`` does: no silent 0 from a view it cannot count from, and reps
that count without a form verdict from a view it cannot judge form from."""

from __future__ import annotations

import pytest

from hiitpi.core.events import EventKind
from hiitpi.errors import ExerciseError
from hiitpi.referee import RefereePipeline, load_exercise
from hiitpi.referee.definition import ExerciseDefinition, Views, parse_definition
from hiitpi.referee.pipeline import MSG_NOT_JUDGED, turn_hint
from hiitpi.referee.view import View

from . import skeleton as sk


def with_views(exercise: str, **views: object) -> ExerciseDefinition:
    d = load_exercise(exercise)
    return d.model_copy(update={"views": Views(**views)})  # type: ignore[arg-type]


def run(definition: ExerciseDefinition, frames: sk.Frames) -> RefereePipeline:
    pipeline = RefereePipeline(definition)
    for t, pose in frames:
        pipeline.update(pose, t)
    return pipeline


def test_a_view_it_cannot_count_from_says_how_to_turn_the_camera() -> None:
    """Front-view wide squats bend the knees as a squat does; counting only from the side,
    the squat referee says so instead of counting or staying silent."""
    frames = sk.sequence(sk.side_squat, sk.reps(4, 2.0))
    anywhere = run(load_exercise("squat"), frames)
    side_only = run(with_views("squat", count=["side"], judge=["side"]), frames)
    assert anywhere.state.view == "front"
    assert side_only.state.view == "front"
    assert side_only.state.reps == 0
    assert side_only.state.message == "Turn the camera to your side for Squat"


def test_the_same_definition_counts_from_the_side() -> None:
    frames = sk.noisy(sk.sequence(sk.squat, sk.reps(4, 2.0)))
    pipeline = run(with_views("squat", count=["side"], judge=["side"]), frames)
    assert pipeline.state.view == "side"
    assert pipeline.state.reps == 4
    assert all(e.form_judged for e in pipeline.events)


def test_from_a_view_form_cannot_be_judged_reps_count_unjudged() -> None:
    """Sagging push-ups: no-reps where form is judged, reps with form_judged False where not."""
    frames = sk.sequence(lambda p: sk.push_up(p, sag=0.7 * p), sk.reps(2, 2.0))
    judged = run(load_exercise("push_up"), frames)
    assert [e.reason_code for e in judged.events] == ["hips_sagging", "hips_sagging"]
    unjudged = run(with_views("push_up", judge=["front"]), frames)
    assert unjudged.state.view == "side"
    assert unjudged.state.reps == 2
    assert [e.kind for e in unjudged.events] == [EventKind.REP, EventKind.REP]
    assert not any(e.form_judged for e in unjudged.events)
    assert {e.form_reason for e in unjudged.events} == {MSG_NOT_JUDGED}
    assert unjudged.state.form_judged is False
    assert MSG_NOT_JUDGED in unjudged.state.message


def test_the_state_carries_the_view_and_its_confidence() -> None:
    pipeline = run(load_exercise("squat"), sk.noisy(sk.sequence(sk.squat, sk.reps(2, 2.0))))
    assert pipeline.state.view == View.SIDE.value
    assert pipeline.state.view_confidence >= 0.9
    assert pipeline.state.form_judged is True


def test_hint_names_the_views_or_is_the_definitions_own() -> None:
    two = with_views("squat", count=["side", "three_quarter"], judge=[])
    assert (
        turn_hint(two) == "Turn the camera to see you from the side or at three-quarters for Squat"
    )
    own = with_views("squat", count=["front"], hint="Face the camera")
    assert turn_hint(own) == "Face the camera"


@pytest.mark.parametrize(
    "views,key",
    [
        ('count = ["sideways"]', "views.count.0"),
        ("count = []", "views.count"),
        ('count = ["side"]\njudge = ["front"]', "views"),
        ('count = ["side", "side"]', "views"),
        ("colour = 1", "views.colour"),
    ],
)
def test_bad_views_name_the_file_and_the_key(views: str, key: str) -> None:
    text = (
        'id = "my_move"\nlabel = "Mine"\nrequired = [["knee"]]\n'
        '[features]\nknee = { kind = "angle", points = ["hip", "knee", "ankle"] }\n'
        '[start]\nwhen = [{ feature = "knee", above = 150 }]\n'
        '[[phases]]\nname = "up"\nwhen = [{ feature = "knee", above = 150 }]\n'
        '[[phases]]\nname = "down"\nwhen = [{ feature = "knee", below = 100 }]\n'
        f"[views]\n{views}\n"
    )
    with pytest.raises(ExerciseError) as err:
        parse_definition(text, "my_move.toml")
    assert str(err.value).startswith(f"my_move.toml: {key}")
