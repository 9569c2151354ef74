"""The plan editor: the form's fields become a plan in the user's folder, errors are words."""

from __future__ import annotations

from typing import Any

import pytest

from hiitpi.plans import load_plan
from hiitpi.web.dashboard import plans_ui
from hiitpi.web.dashboard.context import Dashboard

FORM: dict[str, Any] = {
    "name": "My Push-ups!",
    "exercise": "push_up",
    "kind": "time",
    "work": 6,
    "target": 10,
    "rest": 4,
    "rounds": 2,
    "countdown": 3,
}


def test_a_saved_plan_is_listed_and_loads_back(ctx: Dashboard) -> None:
    before = dict(plans_ui.plan_choices(ctx))
    assert "tabata-push_up" in before and "my-push-ups" not in before
    assert plans_ui.save(ctx, FORM).startswith("Saved plan 'My Push-ups!' (my-push-ups)")
    choices = dict(plans_ui.plan_choices(ctx))
    assert choices["my-push-ups"] == "My Push-ups!: 2 x Push-up 6 s, rest 4 s"
    assert choices["tabata-push_up"] == "Tabata push-ups: 8 x Push-up 20 s, rest 10 s"
    assert "as many rounds as fit in" in choices["amrap-circuit"]
    plan = load_plan("my-push-ups", ctx.settings.data_dir)
    (block,) = plan.blocks
    assert (plan.rounds, plan.countdown_s, block.work_s, block.target, block.rest_s) == (
        2, 3, 6, None, 4,
    )  # fmt: skip
    # the same name again edits it: a rep target instead of a time
    plans_ui.save(ctx, {**FORM, "kind": "reps", "target": 5})
    (block,) = load_plan("my-push-ups", ctx.settings.data_dir).blocks
    assert (block.work_s, block.target) == (None, 5)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"name": "  "}, "give the plan a name"),
        ({"exercise": None}, "choose an exercise"),
        ({"work": 0}, "work_s"),
        ({"rounds": 1000}, "rounds"),
        ({"name": "Tabata push_up", "exercise": "push_up"}, "preset"),
    ],
)
def test_a_bad_form_says_what_is_wrong(ctx: Dashboard, change: dict[str, Any], words: str):
    message = plans_ui.save(ctx, {**FORM, **change})
    assert message.startswith("Not saved") and words in message, message


def test_a_plan_of_yours_loads_into_the_form_and_saves_back_equal(ctx: Dashboard) -> None:
    assert plans_ui.user_plans(ctx) == []  # presets are not yours to edit
    plans_ui.save(ctx, FORM)
    (mine,) = plans_ui.user_plans(ctx)
    values = plans_ui.form_values(mine)
    assert values == {**FORM, "target": 10}
    assert plans_ui.build_plan(values) == mine
