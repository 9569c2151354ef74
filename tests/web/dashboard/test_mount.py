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
    assert client.get(path).status_code == 404


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


def test_workout_commands(client: FlaskClient, server: Flask, live: LiveForTests) -> None:
    value = f"{I.WORKOUT_DROPDOWN}.value"
    out = dispatch(client, server, I.COMMAND_FEEDBACK, {value: "push_up"}, value)
    assert out[I.COMMAND_FEEDBACK]["children"].startswith("Started")
    out = dispatch(client, server, I.COMMAND_FEEDBACK, {value: "<b>x</b>"}, value)
    assert "unknown workout" in out[I.COMMAND_FEEDBACK]["children"]
    live.publish(WorkoutState("push_up", 3.0, reps=4, no_reps=1), active=True, running=True)
    done = f"{I.DONE_BUTTON}.n_clicks"
    out = dispatch(client, server, I.COMMAND_FEEDBACK, {value: "push_up", done: 1}, done)
    assert out[I.COMMAND_FEEDBACK]["children"].startswith("Done! 4 reps, 1 no-reps")
    assert out[I.WORKOUT_DROPDOWN]["value"] is None  # the same workout can start again
    assert [c.kind for c in live.commands] == [CommandKind.START, CommandKind.STOP]


def test_live_tick_extends_the_chart_from_its_cursor(
    client: FlaskClient, server: Flask, live: LiveForTests
) -> None:
    ids = [live.append_metric(i / 30, 20.0 + i, 0.9) for i in range(1, 6)]
    live.publish(WorkoutState("push_up", 3.0, reps=2), player=EVIL, active=True, running=True)
    tick = f"{I.LIVE_INTERVAL}.n_intervals"
    values = {tick: 3, f"{I.LIVE_CURSOR}.data": ids[1]}
    out = dispatch(client, server, I.LIVE_CHART, values, tick)
    data, traces, cap = out[I.LIVE_CHART]["extendData"]
    assert traces == [0, 1] and data["y"][0] == [23.0, 24.0, 25.0] and cap > 0
    assert out[I.LIVE_CURSOR]["data"] == ids[4]
    assert out[I.CURRENT_PLAYER]["children"] == EVIL and out[I.IND_REPS]["children"] == "2"
    values[f"{I.LIVE_CURSOR}.data"] = ids[4]  # nothing new: the chart is left alone
    out = dispatch(client, server, I.LIVE_CHART, values, tick)
    assert I.LIVE_CHART not in out and I.LIVE_CURSOR not in out
    values[f"{I.LIVE_CURSOR}.data"] = "0-0; FLUSHALL"  # a forged cursor starts over
    out = dispatch(client, server, I.LIVE_CHART, values, tick)
    assert out[I.LIVE_CURSOR]["data"] == ids[4]


def test_picking_an_existing_player_logs_in(
    client: FlaskClient, server: Flask, live: LiveForTests, ctx: Dashboard
) -> None:
    ctx.history.get_or_create_player("Bob")
    pick = f"{I.PLAYER_PICK}.value"
    out = dispatch(client, server, I.LOGIN_ERROR, {pick: "Bob"}, pick)
    assert out[I.URL]["pathname"] == "/workout" and live.commands[0].player == "Bob"
    assert dispatch(client, server, I.LOGIN_ERROR, {pick: None}, pick) == {}  # cleared
