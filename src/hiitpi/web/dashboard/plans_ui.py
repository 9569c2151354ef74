"""The dashboard's side of workout plans: the picker's choices and the create/edit form.

Plans live in ``hiitpi.plans`` (presets plus the user's TOML files in ``<data_dir>/plans``);
this module lists them and turns the form's fields into a plan that ``save_user_plan`` writes.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from dash import dcc, html
from pydantic import ValidationError

from hiitpi.errors import HiitPiError
from hiitpi.plans import Block, Plan, available_plans, presets, save_user_plan
from hiitpi.web.dashboard import ids as I
from hiitpi.web.dashboard.context import Dashboard

log = logging.getLogger(__name__)
_SLUG = re.compile(r"[^a-z0-9_-]+")


def plans(ctx: Dashboard) -> list[Plan]:
    """Every plan, presets and the user's (bad user files are logged and left out)."""
    try:
        return available_plans(ctx.settings.data_dir)
    except HiitPiError as exc:  # a broken preset must not take the workout screen down
        log.warning("plans unavailable: %s", exc)
        return []


def plan_choices(ctx: Dashboard) -> list[tuple[str, str]]:
    """``(id, "name: what it is")`` for the plan picker."""
    labels = ctx.labels
    return [(p.id, f"{p.name}: {describe(p, labels)}") for p in plans(ctx)]


def _block(block: Block, labels: dict[str, str]) -> str:
    parts = [labels.get(block.exercise, block.exercise)]
    if block.target is not None:
        parts.append(f"{block.target} reps")
    if block.work_s is not None:
        parts.append(f"{block.work_s:g} s" if block.target is None else f"(max {block.work_s:g} s)")
    if block.period_s is not None:
        parts.append(f"every {block.period_s:g} s")
    text = " ".join(parts)
    return f"{text}, rest {block.rest_s:g} s" if block.rest_s else text


def describe(plan: Plan, labels: dict[str, str]) -> str:
    """What a plan is in a few words: ``8 x Push-up 20 s, rest 10 s``."""
    blocks = "; ".join(_block(b, labels) for b in plan.blocks)
    if plan.time_cap_s is not None:
        return f"as many rounds as fit in {plan.time_cap_s / 60:g} min of {blocks}"
    return f"{plan.rounds} x {blocks}" if plan.rounds > 1 else blocks


def _number(
    label: str, sid: str, value: int, lo: int, hi: int, disabled: bool = False
) -> html.Label:
    field = dcc.Input(id=sid, type="number", value=value, min=lo, max=hi, step=1, disabled=disabled)
    return html.Label([html.Span(label), field], className="field")


def editable(ctx: Dashboard) -> tuple[list[dict[str, str]], str, bool]:
    """The "edit one of your plans" picker: its options, placeholder and whether it is off."""
    mine = [{"label": p.name, "value": p.id} for p in user_plans(ctx) if len(p.blocks) == 1]
    return mine, "edit one of your plans" if mine else "no plans of yours yet", not mine


def editor(ctx: Dashboard) -> html.Details:
    """A form for a one-exercise interval plan (time or rep target per work block)."""
    exercises = [{"label": ex.label, "value": ex.id} for ex in ctx.exercises]
    mine, placeholder, off = editable(ctx)
    return html.Details(
        [
            html.Summary("Create or edit a plan"),
            dcc.Dropdown(id=I.PLAN_LOAD, options=mine, placeholder=placeholder, disabled=off),
            html.Div(
                [
                    dcc.Input(id=I.PLAN_NAME, type="text", placeholder="plan name", maxLength=40),
                    dcc.Dropdown(
                        id=I.PLAN_EXERCISE,
                        options=exercises,
                        placeholder="exercise",
                        clearable=False,
                        className="grow",
                    ),
                    dcc.RadioItems(
                        id=I.PLAN_KIND,
                        options=[
                            {"label": "work by time", "value": "time"},
                            {"label": "work to a rep target", "value": "reps"},
                        ],
                        value="time",
                        inline=True,
                    ),
                ],
                className="row",
            ),
            html.Div(
                [
                    _number("work s", I.PLAN_WORK, 20, 1, 3600),
                    _number("target reps", I.PLAN_TARGET, 10, 1, 500, disabled=True),
                    _number("rest s", I.PLAN_REST, 10, 0, 3600),
                    _number("rounds", I.PLAN_ROUNDS, 8, 1, 100),
                    _number("countdown s", I.PLAN_COUNTDOWN, 3, 0, 10),
                    html.Button("Save plan", id=I.PLAN_SAVE, n_clicks=0),
                ],
                className="row",
            ),
            html.Div(id=I.PLAN_FEEDBACK, className="feedback"),
        ],
        id=I.PLAN_EDIT,
        className="card plan-edit",
        open=True,
    )


def user_plans(ctx: Dashboard) -> list[Plan]:
    """The user's own plans (the presets cannot be edited)."""
    shipped = set(presets())
    return [p for p in plans(ctx) if p.id not in shipped]


FORM_KEYS = ("name", "exercise", "kind", "work", "target", "rest", "rounds", "countdown")


def form_values(plan: Plan) -> dict[str, Any]:
    """The editor's fields for a one-block ``plan`` (what :func:`build_plan` reads back)."""
    (block,) = plan.blocks
    by_reps = block.target is not None and block.work_s is None
    return {
        "name": plan.name,
        "exercise": block.exercise,
        "kind": "reps" if by_reps else "time",
        "work": block.work_s if block.work_s is not None else 20,
        "target": block.target if block.target is not None else 10,
        "rest": block.rest_s,
        "rounds": plan.rounds,
        "countdown": plan.countdown_s,
    }


def plan_id(name: str) -> str:
    """The file id of a plan named ``name``: lowercase, dashes (``My HIIT!`` -> ``my-hiit``)."""
    return _SLUG.sub("-", name.strip().lower()).strip("-_")[:64]


def build_plan(fields: dict[str, Any]) -> Plan:
    """A one-exercise plan from the form's fields; ValueError (pydantic's) names what is wrong."""
    name = str(fields.get("name") or "").strip()
    if not plan_id(name):
        raise ValueError("give the plan a name with a letter or a digit")
    if not fields.get("exercise"):
        raise ValueError("choose an exercise")
    block: dict[str, Any] = {"exercise": fields["exercise"], "rest_s": fields.get("rest") or 0}
    if fields.get("kind") == "reps":
        block["target"] = fields.get("target")
    else:
        block["work_s"] = fields.get("work")
    return Plan(
        id=plan_id(name),
        name=name,
        kind="tabata" if fields.get("kind") != "reps" else "circuit",
        rounds=fields.get("rounds") or 1,
        countdown_s=fields.get("countdown") or 0,
        blocks=[Block.model_validate(block)],
    )


def save(ctx: Dashboard, fields: dict[str, Any]) -> str:
    """Save the form as a user plan (same name: replaced, which is how a plan is edited)."""
    try:
        plan = build_plan(fields)
        save_user_plan(plan, ctx.settings.data_dir)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        return f"Not saved: {where + ': ' if where else ''}{first['msg']}"
    except (ValueError, HiitPiError) as exc:
        return f"Not saved: {exc}"
    return f"Saved plan {plan.name!r} ({plan.id}). Pick it on the workout screen."
