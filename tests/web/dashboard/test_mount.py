"""The dashboard on a Flask server: URLs, 404s, CSV export and callbacks over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hiitpi.core.events import EventKind, RepEvent, WorkoutState
from hiitpi.live.base import CommandKind
from hiitpi.web.dashboard import ids as I
from hiitpi.web.dashboard import mount_dashboard
from hiitpi.web.dashboard.context import Dashboard

from .conftest import EVIL, SCRIPT, LiveForTests


@pytest.fixture
def server(ctx: Dashboard) -> Flask:
    flask_app = Flask(__name__)
    mount_dashboard(flask_app, ctx.store, ctx.history, ctx.settings)
    return flask_app


@pytest.fixture
def client(server: Flask) -> FlaskClient:
    return server.test_client()


def dispatch(client: FlaskClient, server: Flask, first_output: str, values: dict[str, Any],
             changed: str) -> dict[str, Any]:  # fmt: skip
    """Call the callback whose first output is ``first_output`` the way the browser does."""
    app = server.extensions["hiitpi_dashboard"]
    key, cb = next(
        (k, v) for k, v in app.callback_map.items() if k.strip(".").startswith(first_output)
    )
    outputs = cb["output"] if isinstance(cb["output"], list) else [cb["output"]]

    def arg(d: dict[str, str]) -> dict[str, Any]:
        name = f"{d['id']}.{d['property']}"
        return {**d, "value": values.get(name)}

    body = {
        "output": key,
        "outputs": [{"id": o.component_id, "property": o.component_property} for o in outputs]
        if isinstance(cb["output"], list)
        else {"id": outputs[0].component_id, "property": outputs[0].component_property},
        "inputs": [arg(d) for d in cb["inputs"]],
        "state": [arg(d) for d in cb["state"]],
        "changedPropIds": [changed],
    }
    r = client.post("/_dash-update-component", json=body)
    if r.status_code == 204:
        return {}
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()["response"]


@pytest.mark.parametrize(
    "path", ["/", "/workout", "/workout/push_up", "/leaderboard", "/history", "/status", "/status/"]
)
def test_pages_are_served(client: FlaskClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and b'id="react-entry-point"' in r.data


@pytest.mark.parametrize("path", ["/workout/nope", "/workout/%3Cb%3E", "/nowhere", "/api/nope"])
def test_unknown_urls_are_404(client: FlaskClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    if not path.startswith("/api/"):  # the app's own page: it draws the 404 with navigation
        assert b'id="react-entry-point"' in r.data


def test_the_kiosk_is_a_page(client: FlaskClient) -> None:
    assert client.get("/tv").status_code == 200 and client.get("/plans").status_code == 200


def test_csv_export(client: FlaskClient, ctx: Dashboard) -> None:
    sid = ctx.history.start_session(EVIL, "push_up")
    ctx.history.record_event(sid, RepEvent(EventKind.REP, 1, 2.0, 0.5, 1.5, 0.9, 1.0))
    r = client.get("/export/%3Csvg%2Fonload%3Dalert()%3E.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"] == 'attachment; filename="hiitpi-svg_onload_alert.csv"'
    lines = r.get_data(as_text=True).splitlines()
    assert lines[0].startswith("session_id,workout") and len(lines) == 2
    assert client.get("/export/nobody.csv").status_code == 404


def test_login_validates_and_sends_set_player(
    client: FlaskClient, server: Flask, live: LiveForTests, ctx: Dashboard
) -> None:
    inserted = {f"{I.LOGIN_BUTTON}.n_clicks": 0}  # Dash calls it when the page appears
    assert dispatch(client, server, I.LOGIN_ERROR, inserted, f"{I.LOGIN_BUTTON}.n_clicks") == {}
    values = {f"{I.LOGIN_BUTTON}.n_clicks": 1, f"{I.PLAYER_INPUT}.value": SCRIPT}
    out = dispatch(client, server, I.LOGIN_ERROR, values, f"{I.LOGIN_BUTTON}.n_clicks")
    assert "1-20 printable" in out[I.LOGIN_ERROR]["children"] and not live.commands
    values[f"{I.PLAYER_INPUT}.value"] = f" {EVIL} "
    out = dispatch(client, server, I.LOGIN_ERROR, values, f"{I.LOGIN_BUTTON}.n_clicks")
    assert out[I.URL]["pathname"] == "/workout" and out[I.PLAYER_MEMORY]["data"] == EVIL
    assert [(c.kind, c.player) for c in live.commands] == [(CommandKind.SET_PLAYER, EVIL)]
    assert ctx.player_names() == [EVIL]


def test_a_login_during_someone_elses_set_only_remembers_the_name(
    client: FlaskClient, server: Flask, live: LiveForTests, ctx: Dashboard
) -> None:
    """Bug 2 of the issue: a second phone's login relabelled the running set."""
    live.publish(WorkoutState("push_up", 3.0, reps=4), player="Ana", active=True, running=True)
    values = {f"{I.LOGIN_BUTTON}.n_clicks": 1, f"{I.PLAYER_INPUT}.value": "Bob"}
    out = dispatch(client, server, I.LOGIN_ERROR, values, f"{I.LOGIN_BUTTON}.n_clicks")
    assert out[I.URL]["pathname"] == "/workout" and out[I.PLAYER_MEMORY]["data"] == "Bob"
    assert live.commands == []  # no SET_PLAYER: Ana's set keeps its name
    assert "Bob" in ctx.player_names()


def test_exit_forgets_the_player_and_ends_nothing(
    client: FlaskClient, server: Flask, live: LiveForTests
) -> None:
    """Bug 5: Exit? ended the running set without asking. Now End does that, asking first."""
    out = dispatch(client, server, I.URL, {f"{I.EXIT_BUTTON}.n_clicks": 1},
                   f"{I.EXIT_BUTTON}.n_clicks")  # fmt: skip
    assert out[I.URL]["pathname"] == "/" and out[I.PLAYER_MEMORY]["data"] is None
    assert live.commands == []


def test_live_tick_extends_the_chart_from_its_cursor(
    client: FlaskClient, server: Flask, live: LiveForTests
) -> None:
    ids = [live.append_metric(i / 30, 20.0 + i, 0.9) for i in range(1, 6)]
    tick = f"{I.LIVE_INTERVAL}.n_intervals"
    values = {tick: 3, f"{I.LIVE_CURSOR}.data": ids[1]}
    out = dispatch(client, server, I.LIVE_CHART, values, tick)
    data, traces, cap = out[I.LIVE_CHART]["extendData"]
    assert traces == [0, 1] and data["y"][0] == [23.0, 24.0, 25.0] and cap > 0
    assert out[I.LIVE_CURSOR]["data"] == ids[4]
    values[f"{I.LIVE_CURSOR}.data"] = ids[4]  # nothing new: the chart is left alone
    out = dispatch(client, server, I.LIVE_CHART, values, tick)
    assert I.LIVE_CHART not in out and I.LIVE_CURSOR not in out
    values[f"{I.LIVE_CURSOR}.data"] = "0-0; FLUSHALL"  # a forged cursor starts over
    out = dispatch(client, server, I.LIVE_CHART, values, tick)
    assert out[I.LIVE_CURSOR]["data"] == ids[4]


def test_the_screen_scripts_and_styles_are_served(client: FlaskClient) -> None:
    page = client.get("/workout").get_data(as_text=True)
    for name in ("hiitpi.css", "hiitpi-cues.js", "hiitpi-live.js"):
        assert f"/assets/{name}" in page
        r = client.get(f"/assets/{name}")
        assert r.status_code == 200 and len(r.data) > 1000, name


def test_picking_an_existing_player_logs_in(
    client: FlaskClient, server: Flask, live: LiveForTests, ctx: Dashboard
) -> None:
    ctx.history.get_or_create_player("Bob")
    pick = f"{I.PLAYER_PICK}.value"
    out = dispatch(client, server, I.LOGIN_ERROR, {pick: "Bob"}, pick)
    assert out[I.URL]["pathname"] == "/workout" and live.commands[0].player == "Bob"
    assert dispatch(client, server, I.LOGIN_ERROR, {pick: None}, pick) == {}  # cleared


def test_the_editor_saves_a_plan_and_loads_it_back(
    client: FlaskClient, server: Flask, ctx: Dashboard
) -> None:
    fields = {
        f"{I.PLAN_SAVE}.n_clicks": 1,
        f"{I.PLAN_NAME}.value": "Quick one",
        f"{I.PLAN_EXERCISE}.value": "squat",
        f"{I.PLAN_KIND}.value": "reps",
        f"{I.PLAN_WORK}.value": 20,
        f"{I.PLAN_TARGET}.value": 12,
        f"{I.PLAN_REST}.value": 30,
        f"{I.PLAN_ROUNDS}.value": 3,
        f"{I.PLAN_COUNTDOWN}.value": 5,
    }
    out = dispatch(client, server, I.PLAN_FEEDBACK, fields, f"{I.PLAN_SAVE}.n_clicks")
    assert out[I.PLAN_FEEDBACK]["children"].startswith("Saved plan 'Quick one' (quick-one)")
    # the editor's picker and the plans table have it at once, without a reload
    assert out[I.PLAN_LOAD]["options"] == [{"label": "Quick one", "value": "quick-one"}]
    assert out[I.PLAN_LOAD]["disabled"] is False
    assert out[I.PLAN_LOAD]["placeholder"] == "edit one of your plans"
    assert "Quick one" in str(out[I.PLANS_LIST]["children"])
    kind = f"{I.PLAN_KIND}.value"  # only the field the kind of plan uses is on
    out = dispatch(client, server, I.PLAN_WORK, {kind: "reps"}, kind)
    assert (out[I.PLAN_WORK]["disabled"], out[I.PLAN_TARGET]["disabled"]) == (True, False)
    out = dispatch(client, server, I.PLAN_WORK, {kind: "time"}, kind)
    assert (out[I.PLAN_WORK]["disabled"], out[I.PLAN_TARGET]["disabled"]) == (False, True)
    load = f"{I.PLAN_LOAD}.value"
    out = dispatch(client, server, I.PLAN_NAME, {load: "quick-one"}, load)
    assert out[I.PLAN_NAME]["value"] == "Quick one" and out[I.PLAN_KIND]["value"] == "reps"
    assert (out[I.PLAN_TARGET]["value"], out[I.PLAN_ROUNDS]["value"]) == (12, 3)
    assert dispatch(client, server, I.PLAN_NAME, {load: "tabata-push_up"}, load) == {}  # a preset
