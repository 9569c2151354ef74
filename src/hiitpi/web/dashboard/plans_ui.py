"""The dashboard's side of workout plans: the picker's choices and the create/edit form.

Plans live in ``hiitpi.plans`` (presets plus the user's TOML files); this module only lists
them and turns the form's fields into a plan to save. Without that package (an older build)
the picker is empty and the form says plans are not available.
"""

from __future__ import annotations

import logging
from typing import Any

from dash import dcc, html

from hiitpi.web.dashboard import ids as I
from hiitpi.web.dashboard.context import Dashboard

log = logging.getLogger(__name__)


def _plans_module() -> Any | None:
    try:
        import hiitpi.plans as plans
    except ImportError:
        return None
    return plans


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def plan_choices() -> list[tuple[str, str]]:
    """``(id, name)`` of every plan, presets and the user's, as ``hiitpi.plans`` lists them."""
    plans = _plans_module()
    if plans is None:
        return []
    out = []
    for plan in plans.available_plans():
        pid = str(_field(plan, "id") or "")
        if pid:
            out.append((pid, str(_field(plan, "name") or pid)))
    return out


def _number(label: str, sid: str, value: int, lo: int, hi: int) -> html.Label:
    return html.Label(
        [html.Span(label), dcc.Input(id=sid, type="number", value=value, min=lo, max=hi, step=1)],
        className="field",
    )


def editor(ctx: Dashboard) -> html.Details:
    """A form for a one-exercise interval plan (time or rep target per work block)."""
    exercises = [{"label": ex.label, "value": ex.id} for ex in ctx.exercises]
    return html.Details(
        [
            html.Summary("Create or edit a plan"),
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
                    _number("target reps", I.PLAN_TARGET, 10, 1, 500),
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
    )


def save(fields: dict[str, Any]) -> str:
    """Save the form as a user plan; returns what to tell the user."""
    plans = _plans_module()
    if plans is None or not hasattr(plans, "save_user_plan"):
        return "Plans are not available in this version."
    try:
        plan = build_plan(plans, fields)
        saved = plans.save_user_plan(plan)
    except (ValueError, TypeError) as exc:
        return f"Not saved: {exc}"
    pid = _field(saved, "id") or _field(plan, "id") or fields.get("name")
    return f"Saved plan {pid}. Pick it above."


def build_plan(plans: Any, fields: dict[str, Any]) -> Any:
    """A plan object from the form's fields, built with ``hiitpi.plans``' own parser."""
    name = str(fields.get("name") or "").strip()
    exercise = str(fields.get("exercise") or "")
    if not name:
        raise ValueError("give the plan a name")
    if not exercise:
        raise ValueError("choose an exercise")
    block: dict[str, Any] = {
        "exercise": exercise,
        "rest_s": int(fields.get("rest") or 0),
        "rounds": int(fields.get("rounds") or 1),
        "countdown_s": int(fields.get("countdown") or 0),
    }
    if fields.get("kind") == "reps":
        block["target_reps"] = int(fields.get("target") or 0)
    else:
        block["work_s"] = int(fields.get("work") or 0)
    return plans.plan_from_dict({"name": name, "blocks": [block]})
