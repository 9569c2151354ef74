"""What a person does on the pages, as Playwright steps (shared by the browser tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hiitpi.web.dashboard import ids as I

from .conftest import CUE_SPY, Server

REPS_TIMEOUT_MS = 45_000


def new_page(browser: Any, viewport: dict[str, int], dialogs: list[str]) -> tuple[Any, Any]:
    """A fresh browser (own cookies: another device) with the cue spy, and its page."""
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    context.add_init_script(CUE_SPY)
    page = context.new_page()

    def on_dialog(dialog: Any) -> None:  # the app never opens one: it asks in the page
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return context, page


@contextmanager
def owner_and_tv(
    browser: Any,
    server: Server,
    player: str,
    viewports: tuple[dict[str, int], dict[str, int]],
    dialogs: list[str],
) -> Iterator[tuple[Any, Any]]:
    """Two devices: ``player`` logged in on the workout page (first viewport) and the room's
    screen on /tv (second); both closed after."""
    owner_ctx, owner = new_page(browser, viewports[0], dialogs)
    tv_ctx, tv = new_page(browser, viewports[1], dialogs)
    try:
        login(owner, server, player)
        tv.goto(server.url + "/tv")
        yield owner, tv
    finally:
        owner_ctx.close()
        tv_ctx.close()


def csrf(page: Any) -> dict[str, str]:
    """The header the station's own pages send with a change: its CSRF cookie's token."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "_csrf_token")
    return {"X-CSRFToken": token}


def login(page: Any, server: Server, name: str) -> None:
    page.goto(server.url + "/")
    page.fill(f"#{I.PLAYER_INPUT}", name)
    page.click(f"#{I.LOGIN_BUTTON}")
    page.wait_for_url("**/workout")
    player_is(page, name)


def player_is(page: Any, name: str) -> None:
    page.wait_for_function(
        "([id, name]) => document.getElementById(id)?.textContent === name",
        arg=[I.CURRENT_PLAYER, name],
    )


def count(page: Any) -> int:
    return int(page.inner_text(f"#{I.LIVE_COUNT}"))


def wait_count(page: Any, at_least: int, timeout: int = REPS_TIMEOUT_MS) -> None:
    page.wait_for_function(
        "([id, n]) => parseInt(document.getElementById(id)?.textContent) >= n",
        arg=[I.LIVE_COUNT, at_least],
        timeout=timeout,
    )


def state_is(page: Any, attr: str, value: str, timeout: int = 30_000) -> None:
    """Wait until the live screen's ``data-<attr>`` is ``value`` (state, interval, mine...)."""
    page.wait_for_selector(f"#{I.LIVE_SCREEN}[data-{attr}='{value}']", timeout=timeout)


def start(page: Any, select: str, value: str) -> None:
    """Pick ``value`` in ``select`` (a plan or an exercise) and press its Start button."""
    page.select_option(f"#{select}", value)
    page.click(f"[data-command='start'][data-select='{select}']")


def answer(page: Any, yes: bool) -> str:
    """Answer the page's own confirmation; returns its question."""
    page.wait_for_selector(f"#{I.CONFIRM}:not([hidden])")
    question = page.inner_text(f"#{I.CONFIRM_TEXT}")
    page.click(f"#{I.CONFIRM_YES if yes else I.CONFIRM_NO}")
    page.wait_for_selector(f"#{I.CONFIRM}[hidden]", state="attached")
    return question


def end(page: Any) -> str:
    """End the running session (the page asks first); returns the question it asked."""
    page.click(f"#{I.LIVE_SCREEN} [data-command='stop']:visible")
    return answer(page, yes=True)


def clock(page: Any) -> float:
    return float(page.get_attribute(f"#{I.LIVE_CLOCK}", "data-seconds") or "nan")


def cues(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("window.__cues"))


def scroll_width(page: Any) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth"))


def record_counts(page: Any) -> None:
    """From now on, the page notes the wall-clock time of every count it shows."""
    page.evaluate(
        """(id) => {
            window.__counts = [];
            const el = document.getElementById(id);
            new MutationObserver(() => window.__counts.push([el.textContent, Date.now() / 1000]))
                .observe(el, { childList: true, characterData: true, subtree: true });
        }""",
        I.LIVE_COUNT,
    )


def shown_counts(page: Any) -> dict[int, float]:
    """Count -> when the page first showed it (seconds since the epoch)."""
    out: dict[int, float] = {}
    for text, t in page.evaluate("window.__counts"):
        if text.isdigit():
            out.setdefault(int(text), t)
    return out
