"""Every page at 1920x1080 and on a 390x844 phone: nothing scrolls sideways, the navigation is
one row, the count is the largest thing on the workout screens, and on the phone every control
is at least 44 px tall. Screenshots go to .screens/ (one per page and size) so a person looks
at them before a release."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hiitpi.web.dashboard import ids as I

from . import helpers as H
from .conftest import DESKTOP, PHONE, Server

pytestmark = [pytest.mark.slow, pytest.mark.model, pytest.mark.shared]

PAGES = ("/", "/workout", "/tv", "/plans", "/leaderboard", "/history", "/status", "/nowhere")
# what a finger taps, shorter than 44 px (words inside a sentence, the hidden focus target of a
# dropdown and a radio's dot inside its taller label are not targets of their own; a Dash
# input's box is its container, which clips the field inside)
SMALL_TARGETS = """[...document.querySelectorAll(
        'button, a, select, input, summary, .dash-options-list-option, .dash-input-container')]
    .filter(e => e.offsetParent !== null || getComputedStyle(e).position === 'fixed')
    .filter(e => getComputedStyle(e).display !== 'inline')
    .filter(e => !e.matches('.dash-dropdown-focus-target, label input, .dash-input-container *'))
    .map(e => [e.id || e.className || e.tagName, (e.innerText || '').trim().slice(0, 20),
               Math.round(e.getBoundingClientRect().height)])
    .filter(([, , h]) => h > 0 && h < 44)"""
TABLE_OVERFLOW = """[...document.querySelectorAll('.table-wrap')]
    .map(e => e.scrollWidth - e.clientWidth)"""
READY = {  # what each page shows once its callbacks have run
    "/": f"#{I.PLAYER_INPUT}",
    "/workout": f"#{I.LIVE_SCREEN}[data-state]",
    "/tv": f"#{I.LIVE_SCREEN}[data-kiosk]",
    "/plans": f"#{I.PLAN_EDIT}",
    "/leaderboard": f"#{I.WEEK_CHART} .main-svg",
    "/history": f"#{I.HISTORY_CHART} .main-svg",
    "/status": f"#{I.STATUS_TABLE} table",
    "/nowhere": ".notfound",
}


@pytest.mark.parametrize("size", ["desktop", "phone"])  # in this order: desktop records a set
def test_every_page_fits_and_reads(browser: Any, server: Server, screenshots: Path, size: str):
    viewport = DESKTOP if size == "desktop" else PHONE
    dialogs: list[str] = []
    context, page = H.new_page(browser, viewport, dialogs)
    wide: dict[str, int] = {}
    small: dict[str, list[Any]] = {}
    try:
        H.login(page, server, "Layla")
        if size == "desktop":  # a set of Layla's, so history and the boards have rows
            H.start(page, I.EXERCISE_SELECT, "push_up")
            H.wait_count(page, 2)
            H.end(page)
            H.state_is(page, "state", "idle")
        for path in PAGES:
            page.goto(server.url + path)
            page.wait_for_selector(READY[path])
            page.wait_for_timeout(600)  # a poll of the live screen, plotly's resize
            name = path.strip("/") or "welcome"
            page.screenshot(path=screenshots / f"{name}-{size}.png")
            width = H.scroll_width(page)
            if width > viewport["width"]:
                wide[path] = width
            if size == "phone" and (targets := page.evaluate(SMALL_TARGETS)):
                small[path] = targets
            tables = page.evaluate(TABLE_OVERFLOW)
            if any(t > 1 for t in tables):  # a table that scrolls inside the page
                wide[f"{path} table"] = max(tables)
            if path == "/tv":
                assert page.locator(f"#{I.NAV}").is_hidden()  # a kiosk: no navigation
            else:
                nav = page.locator(f"#{I.NAV}").bounding_box()
                assert nav is not None and nav["height"] < 60, (path, nav)  # one row
            if path in ("/workout", "/tv"):
                box = page.locator(f"#{I.LIVE_COUNT}").bounding_box()
                floor = 0.25 if size == "desktop" else 0.2
                assert box is not None and box["height"] >= floor * viewport["height"], box
    finally:
        context.close()
    assert wide == {}, f"pages wider than {viewport['width']} px: {wide}"
    assert small == {}, f"controls shorter than a finger (44 px) on the phone: {small}"
    assert dialogs == []
