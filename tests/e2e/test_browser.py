"""The whole app in real headless Chromium: a push-up set from login to history.

A user logs in, picks push-ups, watches the reps rise (the looped clip is the camera), a second
browser watches at the same time without changing the count, Done! saves the set, and the set
is on the leaderboard and in the history with every rep. A player name that is HTML is shown as
text everywhere; no dialog ever opens. Every page is saved in artifacts/screenshots/.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from hiitpi.store import HistoryStore
from hiitpi.web.dashboard import ids as I

from .conftest import Server

pytestmark = [pytest.mark.slow, pytest.mark.model, pytest.mark.shared]

EVIL = "<svg/onload=alert()>"  # 20 characters: a valid name, and live HTML if ever injected
SCRIPT = "<script>alert(1)</script>"  # 25 characters: the field keeps the first 20
REPS_TIMEOUT_MS = 45_000


def _reps(page: Any) -> int:
    return int(page.inner_text(f"#{I.IND_REPS}"))


def _watch_dialogs(page: Any, dialogs: list[str]) -> None:
    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)


def _current_player_is(page: Any, name: str) -> None:
    page.wait_for_function(
        "([id, name]) => document.getElementById(id)?.textContent === name",
        arg=[I.CURRENT_PLAYER, name],
    )


def _login(page: Any, server: Server, shots: Path) -> None:
    """A blank name is refused; a typed <script> tag is a name like any other; Exit? switches."""
    page.goto(server.url + "/")
    page.fill(f"#{I.PLAYER_INPUT}", "   ")
    page.click(f"#{I.LOGIN_BUTTON}")
    page.wait_for_selector(f"#{I.LOGIN_ERROR}:has-text('1-20 printable')")
    page.screenshot(path=shots / "1-welcome.png")
    page.fill(f"#{I.PLAYER_INPUT}", SCRIPT)
    typed = page.input_value(f"#{I.PLAYER_INPUT}")
    assert typed == SCRIPT[:20]  # the field takes 20 characters, as the server does
    page.click(f"#{I.LOGIN_BUTTON}")
    page.wait_for_url("**/workout")
    _current_player_is(page, typed)
    page.click(f"#{I.EXIT_BUTTON}")
    page.wait_for_selector(f"#{I.PLAYER_PICK}")
    assert page.url == server.url + "/"
    page.fill(f"#{I.PLAYER_INPUT}", EVIL)
    page.keyboard.press("Enter")  # the field has the focus: Enter logs in as the button does
    page.wait_for_url("**/workout")
    _current_player_is(page, EVIL)


def _choose(page: Any, label: str) -> None:
    page.click(f"#{I.WORKOUT_DROPDOWN}")
    page.get_by_role("option", name=label, exact=True).click()
    page.wait_for_selector(f"#{I.COMMAND_FEEDBACK}:has-text('Started {label}')")


def _wait_reps(page: Any, at_least: int) -> None:
    page.wait_for_function(
        "([id, n]) => parseInt(document.getElementById(id)?.textContent) >= n",
        arg=[I.IND_REPS, at_least],
        timeout=REPS_TIMEOUT_MS,
    )


def _second_viewer_changes_nothing(browser: Any, server: Server, page: Any, dialogs: list[str]):
    """Another browser watches too: both pages follow the one count, which never goes back.

    Each sample reads both pages, then the API: a page shows a snapshot at most 0.5 s old, so
    it may lag the API (reps can come two in a burst) but can never be ahead of it, and it
    catches up; a second referee or a reset would break one of these.
    """
    before = server.get_json("/api/status")["reps"]
    other = browser.new_context(viewport={"width": 1000, "height": 800})
    try:
        page2 = other.new_page()
        _watch_dialogs(page2, dialogs)
        page2.goto(server.url + "/workout")
        _wait_reps(page2, max(before, 1))
        samples = []
        for _ in range(8):
            samples.append((_reps(page), _reps(page2), server.get_json("/api/status")["reps"]))
            time.sleep(0.5)
        status = server.get_json("/api/status")
        assert status["viewers"] >= 2, status
        _wait_reps(page, status["reps"])  # both catch up with the count
        _wait_reps(page2, status["reps"])
    finally:
        other.close()
    for a, b, api in samples:
        assert a <= api and b <= api, samples
    for column in range(3):
        values = [s[column] for s in samples]
        assert values == sorted(values) and values[0] >= before, (before, samples)


def test_a_push_up_set_from_login_to_history(browser: Any, server: Server, screenshots: Path):
    dialogs: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    _watch_dialogs(page, dialogs)
    t0 = time.monotonic()

    _login(page, server, screenshots)
    _choose(page, "Push-up")
    _wait_reps(page, 2)
    page.wait_for_selector(f"#{I.LIVE_CHART} .scatterlayer .trace path.js-line")
    page.screenshot(path=screenshots / "2-workout.png", full_page=True)
    _second_viewer_changes_nothing(browser, server, page, dialogs)
    _wait_reps(page, 4)

    page.click(f"#{I.DONE_BUTTON}")
    page.wait_for_selector(f"#{I.COMMAND_FEEDBACK}:has-text('Done!')")
    shown = int(page.inner_text(f"#{I.COMMAND_FEEDBACK}").split()[1])
    deadline = time.monotonic() + 5
    while server.get_json("/api/status")["active"] and time.monotonic() < deadline:
        time.sleep(0.2)
    page.wait_for_timeout(1000)  # the stream turns to the blurred greyscale standby picture
    page.screenshot(path=screenshots / "3-done-standby.png", full_page=True)
    with HistoryStore(server.database_url, migrate=False) as history:
        (session,) = history.player_history(EVIL)
        attempts = len(history.session_timeline(session.id))
    assert session.workout == "push_up" and session.status == "done"
    assert shown <= session.reps <= shown + 1 and session.reps >= 4
    assert attempts == session.reps + session.no_reps

    page.goto(server.url + "/leaderboard")
    board = page.locator("section[data-workout='push_up']")
    board.locator("td", has_text=EVIL).wait_for()
    assert board.locator("td", has_text=f"{session.reps} (").count() == 1
    page.locator(f"#{I.WEEK_CHART} .xtick text", has_text=EVIL).wait_for()
    page.screenshot(path=screenshots / "4-leaderboard.png", full_page=True)

    page.goto(server.url + "/history")  # the tab remembers its player
    page.locator(f"#{I.HISTORY_SESSIONS} td", has_text="done").wait_for()
    rows = page.locator(f"#{I.TIMELINE_TABLE} tbody tr")
    rows.first.wait_for()
    assert rows.count() == attempts
    with page.expect_download() as download:
        page.click(f"#{I.EXPORT_LINK}")
    csv_lines = Path(download.value.path()).read_text().splitlines()
    assert len(csv_lines) == 1 + attempts and csv_lines[0].startswith("session_id,")
    page.screenshot(path=screenshots / "5-history.png", full_page=True)

    page.goto(server.url + "/status")
    table = page.locator(f"#{I.STATUS_TABLE}")
    table.locator("td", has_text="blazepose").wait_for()
    assert table.locator("tr", has_text="Redis").locator("td").nth(1).inner_text() == "ok"
    assert table.locator("tr", has_text="Database").inner_text().split("\t")[-1].startswith("ok")
    page.screenshot(path=screenshots / "6-status.png", full_page=True)

    assert page.locator("svg[onload]").count() == 0
    assert dialogs == []
    context.close()
    print(f"browser flow: {time.monotonic() - t0:.1f} s")


def test_unknown_urls_and_workouts_are_404(browser: Any, server: Server) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        assert page.goto(server.url + "/workout/no_such_workout").status == 404
        assert page.goto(server.url + "/nowhere").status == 404
        assert page.goto(server.url + "/workout/push_up").status == 200
        r = page.request.post(
            server.url + "/api/command", data={"action": "start", "exercise": "no_such_workout"}
        )
        assert r.status == 404 and "unknown exercise" in r.json()["error"]
    finally:
        context.close()
