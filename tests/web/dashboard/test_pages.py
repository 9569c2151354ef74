"""Ids are unique constants; every page renders; every callback id exists on some page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from flask import Flask

from hiitpi.core.events import WorkoutState
from hiitpi.live.base import CommandKind
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


def test_route_picks_the_page(ctx: Dashboard) -> None:
    ctx.history.get_or_create_player(EVIL)
    assert I.PLAYER_INPUT in _ids(callbacks.route(ctx, "/", "", None))
    assert I.LIVE_CHART in _ids(callbacks.route(ctx, "/workout", "", None))
    page = callbacks.route(ctx, "/workout/push_up", "", None)
    dropdown = next(c for c in _walk(page) if getattr(c, "id", None) == I.WORKOUT_DROPDOWN)
    assert dropdown.value == "push_up"
    assert "Not found" in str(callbacks.route(ctx, "/workout/nope", "", None))
    assert I.WEEK_CHART in _ids(callbacks.route(ctx, "/leaderboard", "", None))
    page = callbacks.route(ctx, "/history", "?player=%3Csvg%2Fonload%3Dalert()%3E", None)
    picker = next(c for c in _walk(page) if getattr(c, "id", None) == I.HISTORY_PLAYER)
    assert picker.value == EVIL
    page = callbacks.route(ctx, "/history", "", EVIL)  # the tab's last player
    picker = next(c for c in _walk(page) if getattr(c, "id", None) == I.HISTORY_PLAYER)
    assert picker.value == EVIL
    assert I.STATUS_TABLE in _ids(callbacks.route(ctx, "/status/", "", None))
    assert "Not found" in str(callbacks.route(ctx, "/elsewhere", "", None))


def test_live_values_before_and_during_a_set(ctx: Dashboard, live: LiveForTests) -> None:
    assert callbacks.live_values(ctx, None)[-1] == "engine not running"
    live.publish(None, player=EVIL, running=True)
    assert callbacks.live_values(ctx, live.get_state())[:3] == [EVIL, "-", "0"]
    state = WorkoutState(
        "push_up", t=12.0, reps=7, no_reps=2, phase="down", pace=9.04,
        last_reason="not deep enough", message="good",
    )  # fmt: skip
    live.publish(state, player=EVIL, running=True, active=True)
    player, workout, reps, no_reps, reason, pace, elapsed, phase, msg = callbacks.live_values(
        ctx, live.get_state()
    )
    assert (player, reps, no_reps, reason, pace, phase) == (
        EVIL, "7", "2", "not deep enough", "9.0", "down",
    )  # fmt: skip
    assert workout == ctx.labels["push_up"] and elapsed == "-"  # no session recorded
    assert msg == "good"
    sid = ctx.history.start_session(EVIL, "push_up", station=live.station)
    ctx._starts.clear()  # "no set yet" is cached for a second
    assert sid and callbacks.live_values(ctx, live.get_state())[6].startswith("0:0")
    live.publish(state, player=EVIL, running=True, active=False)
    assert callbacks.live_values(ctx, live.get_state())[1].endswith("(stopped)")


def test_start_command_validates_the_workout(ctx: Dashboard) -> None:
    assert callbacks.start_command(ctx, None) == (None, "")
    command, message = callbacks.start_command(ctx, "<b>nope</b>")
    assert command is None and "unknown workout" in message
    command, message = callbacks.start_command(ctx, "push_up")
    assert command is not None and command.kind is CommandKind.START
    assert command.exercise == "push_up" and message.startswith("Started")
    picked = {callbacks.start_command(ctx, I.RANDOM_WORKOUT)[0].exercise for _ in range(30)}
    assert picked <= {ex.id for ex in ctx.exercises} and len(picked) > 1


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
