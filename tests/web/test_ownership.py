"""One owner per station and the five state bugs of issue 12, at the API level.

A real engine runs over a real clip (the small generated MP4) and a real Redis; two Flask test
clients are two browsers (separate cookie jars, so separate Flask sessions). The pose model is
not under test here: the estimator finds nobody (``ReplayEstimator({})``, the engine tests'
documented test double), so counts stay 0 unless a test records events itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.clips import write_clip
from engine.conftest import ReplayEstimator
from hiitpi.config import Settings, SourceConfig
from hiitpi.engine.live import LiveEngine
from hiitpi.engine.recorder import SessionRecorder
from hiitpi.live import RedisLiveStore
from hiitpi.sources import open_source
from hiitpi.store import HistoryStore
from hiitpi.web import create_app
from hiitpi.web.commands import REFUSAL_HINTS


@dataclass
class Station:
    app: Flask
    engine: LiveEngine
    history: HistoryStore
    recorder: SessionRecorder
    store: RedisLiveStore

    def browser(self) -> FlaskClient:
        return self.app.test_client()


def _station(store: RedisLiveStore, tmp_path: Path, *, loop: bool) -> Iterator[Station]:
    clip = write_clip(tmp_path / "clip.mp4", frames=90)
    settings = Settings(source=SourceConfig(uri=str(clip), loop=loop), data_dir=tmp_path)
    history = HistoryStore(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    recorder = SessionRecorder(history, station=store.station, background=False)
    source = open_source(settings.source, paced=True)
    engine = LiveEngine(source, ReplayEstimator({}), store, settings, recorder=recorder)
    engine.start()
    app = create_app(store, settings)
    try:
        yield Station(app, engine, history, recorder, store)
    finally:
        engine.stop()
        source.close()
        app.extensions["hiitpi_frames"].close()
        recorder.close()
        history.close()


@pytest.fixture
def station(store: RedisLiveStore, tmp_path: Path) -> Iterator[Station]:
    yield from _station(store, tmp_path, loop=True)


def status(client: FlaskClient) -> dict[str, Any]:
    return client.get("/api/status").get_json()  # type: ignore[no-any-return]


def command(client: FlaskClient, **body: Any) -> dict[str, Any]:
    return client.post("/api/command", json=body).get_json()  # type: ignore[no-any-return]


def wait_status(client: FlaskClient, pred: Any, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body = status(client)
    while not pred(body) and time.monotonic() < deadline:
        time.sleep(0.05)
        body = status(client)
    assert pred(body), body
    return body


def test_bug1_a_new_player_starts_on_a_clean_screen(station: Station) -> None:
    ana, bob = station.browser(), station.browser()
    assert command(ana, action="start", exercise="push_up", player="ana")["ok"]
    wait_status(ana, lambda s: s["active"])
    assert command(ana, action="stop")["ok"]
    wait_status(ana, lambda s: not s["active"])
    assert command(bob, action="set_player", player="bob")["ok"]
    s = wait_status(bob, lambda s: s["player"] == "bob")
    assert s["workout"] is None and s["reps"] == 0 and s["count"] == 0  # not ana's set


def test_bug2_a_second_login_does_not_take_over(station: Station) -> None:
    ana, bob = station.browser(), station.browser()
    assert command(ana, action="start", exercise="push_up", player="ana")["ok"]
    wait_status(ana, lambda s: s["active"])
    got = command(bob, action="set_player", player="bob")
    busy = {"ok": False, "error": "busy", "owner": "ana", "hint": REFUSAL_HINTS["busy"]}
    assert got == busy and '"confirm": true' in got["hint"]
    assert command(bob, action="stop") == busy
    assert command(bob, action="pause")["error"] == "busy"
    s = status(bob)
    assert s["active"] and s["player"] == "ana" and s["role"] == "viewer"
    assert status(ana)["role"] == "owner"
    # ending that session needs a confirmation, then bob owns the station
    assert command(bob, action="set_player", player="bob", confirm=True)["ok"]
    s = wait_status(bob, lambda s: s["player"] == "bob")
    assert not s["active"] and s["workout"] is None


def test_bug3_a_start_is_answered_by_the_engine(station: Station) -> None:
    ana = station.browser()
    for _ in range(2):  # choosing the same workout again starts it again
        got = command(ana, action="start", exercise="push_up", player="ana")
        assert got["ok"] and got["active"] and got["workout"] == "push_up", got
        assert command(ana, action="stop")["ok"]


def test_bug5_switching_mid_set_asks_and_an_empty_set_is_not_saved(station: Station) -> None:
    ana = station.browser()
    assert command(ana, action="start", exercise="push_up", player="ana")["ok"]
    got = command(ana, action="start", exercise="squat")
    assert got["ok"] is False and got["error"] == "running", got
    assert got["hint"] == REFUSAL_HINTS["running"]
    assert status(ana)["workout"] == "push_up"
    got = command(ana, action="start", exercise="squat", confirm=True)
    assert got["ok"] and got["workout"] == "squat"
    assert command(ana, action="stop")["ok"]
    assert station.recorder.flush()
    assert station.history.player_history("ana") == []  # two sets of 0 reps: none saved


def test_bug4_a_source_that_ends_closes_the_set_with_words(
    store: RedisLiveStore, tmp_path: Path
) -> None:
    for st in _station(store, tmp_path, loop=False):
        ana = st.browser()
        assert command(ana, action="start", exercise="squat", player="ana")["ok"]
        s = wait_status(ana, lambda s: s["source_ended"], timeout=15)
        assert not s["active"] and s["message"] == "the video ended", s
        assert s["interval"] is None and s["remaining_s"] is None
        assert str(tmp_path) not in s["message"]


def test_a_plan_through_the_api_one_clock_pause_skip_and_a_correction(station: Station) -> None:
    ana, tv = station.browser(), station.browser()
    got = command(ana, action="start", plan="tabata-push_up", player="ana")
    assert got["ok"] and got["plan"] == "tabata-push_up", got
    a, b = status(ana), status(tv)
    assert a["interval"] == "countdown" and a["blocks"] == 1 and a["rounds"] == 8
    assert a["next"] == "push_up" and a["next_name"] == "Push-up" and a["plan_name"]
    assert abs(a["remaining_s"] - b["remaining_s"]) < 0.5  # the same clock on two pages
    assert b["role"] == "viewer" and a["role"] == "owner" and b["player"] == "ana"
    assert command(ana, action="pause")["paused"] is True
    frozen = status(ana)["remaining_s"]
    time.sleep(0.3)
    assert status(tv)["remaining_s"] == frozen  # paused: the clock stands still everywhere
    assert command(ana, action="resume")["paused"] is False
    assert command(ana, action="skip")["interval"] == "work"
    s = status(ana)
    assert s["active"] and s["target"] is None and 19 < s["remaining_s"] <= 20
    got = command(ana, action="adjust", delta=1, set="current")
    assert got["ok"] and got["correction"] == 1 and got["count"] == 0
    assert command(tv, action="adjust", delta=1)["error"] == "busy"
    assert command(ana, action="pause")["paused"] is True
    assert command(ana, action="stop")["ok"]
    s = wait_status(ana, lambda s: not s["busy"])
    assert s["interval"] == "done" and s["correction"] == 1 and s["paused"] is False
    assert station.recorder.flush()
    (ps,) = station.history.player_plan_sessions("ana")
    (block,) = ps.blocks
    assert (block.set.reps, block.set.correction, block.set.corrected_reps) == (0, 1, 1)
    assert ",0,1,1," in station.history.export_csv("ana")  # referee 0, fix +1, corrected 1
    assert command(ana, action="adjust", delta=5)["error"]  # only +1 / -1


def test_bad_plan_and_adjust_requests_are_clear_errors(client: FlaskClient) -> None:
    r = client.post("/api/command", json={"action": "start", "plan": "nope"})
    assert r.status_code == 404 and "unknown plan 'nope'" in r.get_json()["error"]
    r = client.post("/api/command", json={"action": "adjust", "delta": 2})
    assert r.status_code == 400 and "delta must be 1 or -1" in r.get_json()["error"]
    r = client.post("/api/command", json={"action": "adjust", "delta": 1, "set": "other"})
    assert r.status_code == 400


def test_a_browser_that_never_logged_in_starts_as_a_guest_not_as_the_last_player(
    station: Station,
) -> None:
    ana, other = station.browser(), station.browser()
    assert command(ana, action="start", exercise="squat", player="ana")["ok"]
    assert command(ana, action="stop")["ok"]
    got = command(other, action="start", exercise="squat")
    assert got["ok"] and got["player"] is None, got  # recorded as the guest, not as ana
    got = command(other, action="adjust", delta=-1)
    assert got == {"ok": False, "error": "the corrected count cannot go below 0"}


def test_fixing_the_running_and_the_last_set(station: Station) -> None:
    ana = station.browser()
    assert command(ana, action="start", exercise="squat", player="ana")["ok"]
    assert command(ana, action="adjust", delta=1)["correction"] == 1  # the referee missed one
    assert command(ana, action="stop")["ok"]
    got = command(ana, action="adjust", delta=1, set="last")
    assert got["ok"] and got["correction"] == 2
    assert station.recorder.flush()
    (s,) = station.history.player_history("ana")  # a set with a fix is kept, even at 0 reps
    assert (s.reps, s.correction, s.corrected_reps) == (0, 2, 2)
    assert command(ana, action="start", exercise="squat")["ok"]
    assert command(ana, action="stop")["ok"]  # an empty set: not saved ...
    got = command(ana, action="adjust", delta=-1, set="last")
    assert got["error"] == "the corrected count cannot go below 0"
    assert command(ana, action="adjust", delta=1, set="last")["error"] == "no set to correct"
