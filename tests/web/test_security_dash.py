"""Dash callbacks under the station PIN: a locked browser can watch, not change.

Every callback is a POST to ``/_dash-update-component``; the guard lets a locked browser run
only those whose outputs the dashboard declared read-only. The callbacks that change state (the
Welcome login names the station's player, the plan editor saves a file) need the PIN.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from hiitpi.config import Settings
from hiitpi.live import RedisLiveStore
from hiitpi.web import create_app
from hiitpi.web.dashboard import ids as I
from hiitpi.web.dashboard import mount_dashboard
from hiitpi.web.security import CSRF_COOKIE, CSRF_HEADER
from hiitpi.web.security.credentials import PIN_FILE
from hiitpi.web.sessions import OwnerStampedStore

CHANGES = {I.LOGIN_ERROR, I.PLAN_FEEDBACK}  # the first output of each state-changing callback


@pytest.fixture
def station(store: RedisLiveStore, tmp_path: Path) -> Iterator[Flask]:
    (tmp_path / PIN_FILE).write_text(generate_password_hash("2468", method="scrypt:1024:8:1"))
    settings = Settings(data_dir=tmp_path)
    app = create_app(store, settings, index=False)
    mount_dashboard(app, OwnerStampedStore(store), None, settings)
    yield app
    app.extensions["hiitpi_frames"].close()


def callbacks(app: Flask) -> dict[str, dict[str, Any]]:
    """First output id -> the request body Dash's renderer would send for that callback."""
    out = {}
    for key, cb in app.extensions["hiitpi_dashboard"].callback_map.items():
        parts = [part.split("@")[0].split(".", 1) for part in key.strip(".").split("...")]
        ids = [cid for cid, _ in parts]
        outputs = [{"id": cid, "property": prop} for cid, prop in parts]
        body = {
            "output": key,
            "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [{**d, "value": None} for d in cb["inputs"]],
            "state": [{**d, "value": None} for d in cb["state"]],
            "changedPropIds": [],
        }
        out[ids[0]] = body
    return out


def locked_browser(app: Flask) -> tuple[FlaskClient, dict[str, str]]:
    client = FlaskClient(app)
    assert client.get("/").status_code == 200
    return client, {CSRF_HEADER: client.get_cookie(CSRF_COOKIE).value}


def test_a_locked_browser_runs_the_read_only_callbacks_only(station):
    client, headers = locked_browser(station)
    found = callbacks(station)
    assert found.keys() >= CHANGES
    for first, body in found.items():
        r = client.post("/_dash-update-component", json=body, headers=headers)
        if first in CHANGES:
            assert r.status_code == 401, first
        else:
            assert r.status_code != 401, (first, r.get_data(as_text=True)[:200])
    client.post("/login", data={"pin": "2468"}, headers=headers)
    body = found[I.LOGIN_ERROR]
    body["inputs"][0]["value"] = 1  # Let's go! pressed
    body["state"][0]["value"] = "Ann"
    r = client.post("/_dash-update-component", json=body, headers=headers)
    assert r.status_code == 200


def test_the_welcome_page_says_the_station_is_locked(station):
    client, headers = locked_browser(station)
    body = callbacks(station)[I.PAGE]
    body["inputs"][0]["value"] = "/"
    r = client.post("/_dash-update-component", json=body, headers=headers)
    assert r.status_code == 200 and "Unlock with the PIN" in r.get_data(as_text=True)
    client.post("/login", data={"pin": "2468"}, headers=headers)
    r = client.post("/_dash-update-component", json=body, headers=headers)
    assert "Unlock with the PIN" not in r.get_data(as_text=True)


def test_a_command_sent_by_any_callback_needs_the_pin(station, store):
    """The backstop: whichever callback sends a command, a locked request cannot."""
    from werkzeug.exceptions import Unauthorized

    from hiitpi.live import Command, CommandKind

    stamped = OwnerStampedStore(store)
    with station.test_request_context("/_dash-update-component", method="POST"):
        station.preprocess_request()
        with pytest.raises(Unauthorized):
            stamped.send_command(Command(CommandKind.STOP))
