"""Ids are unique constants; every page renders; every callback id exists on some page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from flask import Flask

from hiitpi.core.events import WorkoutState
from hiitpi.web.dashboard import callbacks, mount_dashboard, pages
from hiitpi.web.dashboard import ids as I
from hiitpi.web.dashboard.context import Dashboard

from .conftest import EVIL, LiveForTests


def _walk(component: Any) -> Iterator[Any]:
    yield component
    children = getattr(component, "children", None)
    if isinstance(children, list | tuple):
        for child in children:
            yield from _walk(child)
    elif children is not None and hasattr(children, "to_plotly_json"):
        yield from _walk(children)


def _ids(component: Any) -> set[str]:
    return {c.id for c in _walk(component) if getattr(c, "id", None)}


def test_ids_are_unique_css_friendly_strings() -> None:
    assert len(set(I.ALL)) == len(I.ALL)
    assert all(re.fullmatch(r"[a-z][a-z0-9-]*", i) for i in I.ALL)


def test_every_callback_id_is_on_a_page(ctx: Dashboard) -> None:
    app = mount_dashboard(Flask(__name__), ctx.store, ctx.history, ctx.settings)
    rendered = _ids(pages.shell())
    for page in (
        pages.welcome([]),
        pages.workout(ctx),
        pages.workout(ctx, kiosk=True),
        pages.plans_page(ctx),
        pages.leaderboard(ctx),
        pages.history([], None),
        pages.status(),
    ):
        rendered |= _ids(page)
    used = set()
    for cb in app.callback_map.values():
        used |= {d["id"] for d in cb["inputs"] + cb["state"]}
        outputs = cb["output"] if isinstance(cb["output"], list) else [cb["output"]]
        used |= {o.component_id for o in outputs}
    assert used <= rendered, used - rendered
    assert rendered <= set(I.ALL)


def _find(page: Any, cid: str) -> Any:
    return next(c for c in _walk(page) if getattr(c, "id", None) == cid)


def test_route_picks_the_page(ctx: Dashboard) -> None:
    ctx.history.get_or_create_player(EVIL)
    assert I.PLAYER_INPUT in _ids(callbacks.route(ctx, "/", "", None))
    page = callbacks.route(ctx, "/workout", "", EVIL)
    assert {I.LIVE_COUNT, I.LIVE_CLOCK, I.PLAN_SELECT, I.CONFIRM} <= _ids(page)
    assert _find(page, I.LIVE_SCREEN).to_plotly_json()["props"]["data-me"] == EVIL
    page = callbacks.route(ctx, "/workout/push_up", "", None)
    chosen = [o.value for o in _walk(_find(page, I.EXERCISE_SELECT)) if getattr(o, "selected", 0)]
    assert chosen == ["push_up"]
    assert callbacks.route(ctx, "/workout/nope", "", None) is None  # the shell shows the 404
    assert I.WEEK_CHART in _ids(callbacks.route(ctx, "/leaderboard", "", None))
    page = callbacks.route(ctx, "/history", "?player=%3Csvg%2Fonload%3Dalert()%3E", None)
    assert _find(page, I.HISTORY_PLAYER).value == EVIL
    page = callbacks.route(ctx, "/history", "", EVIL)  # the tab's last player
    assert _find(page, I.HISTORY_PLAYER).value == EVIL
    status = _ids(callbacks.route(ctx, "/status/", "", None))
    assert {I.STATUS_TABLE, I.LIVE_CHART} <= status  # the developer chart lives here now
    assert I.PLAN_SAVE in _ids(callbacks.route(ctx, "/plans", "", None))
    assert "There is no page here" in str(callbacks.route(ctx, "/elsewhere", "", None))


def test_the_kiosk_has_the_screen_and_no_control(ctx: Dashboard) -> None:
    page = callbacks.route(ctx, "/tv", "", EVIL)
    ids = _ids(page)
    assert {I.LIVE_COUNT, I.LIVE_CLOCK, I.LIVE_NEXT, I.VIDEO, I.AUDIO_UNLOCK} <= ids
    assert not ids & {I.PLAN_SELECT, I.EXERCISE_SELECT, I.EXIT_BUTTON, I.CONFIRM}
    props = [c.to_plotly_json()["props"] for c in _walk(page) if hasattr(c, "to_plotly_json")]
    assert not [p for p in props if "data-command" in p]
    assert {p["data-cue"] for p in props if "data-cue" in p} == {"sound", "voice", "flash"}
    assert _find(page, I.LIVE_SCREEN).to_plotly_json()["props"]["data-kiosk"] == "1"


def test_every_command_button_names_a_contract_action(ctx: Dashboard) -> None:
    page = callbacks.route(ctx, "/workout", "", EVIL)
    props = [c.to_plotly_json()["props"] for c in _walk(page) if hasattr(c, "to_plotly_json")]
    buttons = [p for p in props if "data-command" in p]
    actions = {p["data-command"] for p in buttons}
    assert actions == {"start", "pause", "resume", "skip", "stop", "adjust"}
    adjust = {(p["data-delta"], p["data-set"]) for p in buttons if p["data-command"] == "adjust"}
    assert adjust == {("1", "current"), ("-1", "current"), ("1", "last"), ("-1", "last")}
    selects = {p["data-select"] for p in buttons if p["data-command"] == "start"}
    assert selects == {I.PLAN_SELECT, I.EXERCISE_SELECT} and selects <= _ids(page)


def test_a_login_never_relabels_someone_elses_running_set(live: LiveForTests) -> None:
    assert not callbacks.login_takes_over(None, "Bob")
    live.publish(WorkoutState("push_up", 1.0, reps=3), player="Ana", running=True, active=True)
    assert callbacks.login_takes_over(live.get_state(), "Bob")
    assert not callbacks.login_takes_over(live.get_state(), "Ana")
    live.publish(WorkoutState("push_up", 1.0, reps=3), player="Ana", running=True, active=False)
    assert not callbacks.login_takes_over(live.get_state(), "Bob")  # nothing running: fine


def test_status_rows_report_engine_redis_and_database(ctx: Dashboard, live: LiveForTests) -> None:
    rows = dict((r["key"], r["value"]) for r in callbacks.status_rows(ctx))
    assert rows["Redis"] == "ok" and rows["Database"].startswith("ok (sqlite")
    assert rows["Engine"] == "no state published yet"
    status = {"source": "cam0", "backend": "mediapipe-full", "fps": 29.5, "inference_ms": 21.0}
    live.publish(None, **status, running=True, active=True)
    rows = dict((r["key"], r["value"]) for r in callbacks.status_rows(ctx))
    assert (rows["Source"], rows["Pose backend"], rows["FPS"], rows["Inference (ms)"]) == (
        "cam0", "mediapipe-full", "29.5", "21.0",
    )  # fmt: skip
    assert rows["Engine"] == "running"
    snap = live.get_state()
    budget = _with_budget(snap.status, {"pose": 21.04}, {"capture_to_count": 40.0})
    live.store.publish_state(snap.state, budget)
    rows = dict((r["key"], r["value"]) for r in callbacks.status_rows(ctx))
    assert rows.get("Stage pose (ms)", "21.0") == "21.0"
    assert rows.get("Latency capture_to_count (ms)", "40.0") == "40.0"
    live.publish(None, **status, running=True, active=False)  # no inference without a workout
    assert dict((r["key"], r["value"]) for r in callbacks.status_rows(ctx))["Inference (ms)"] == (
        "- (no workout)"
    )


def _with_budget(status: Any, stages: dict[str, float], latency: dict[str, float]) -> Any:
    """The status with a per-stage budget, on engines that publish one."""
    if not hasattr(status, "stages_ms"):
        return status
    return replace(status, stages_ms=stages, latency_ms=latency)
