"""Another web page cannot drive the station (issue 13, finding 9), in real Chromium.

A person starts a set on the station, then, in the same browser (the station's cookies in it),
opens a page of another site: a second local HTTP server whose page auto-submits a
cross-origin form (``action=stop``), a multipart ``set_player`` and a ``fetch()`` POST. Every
one of them is answered 403 and the set runs on under the same player. Then the same site
tries DNS rebinding: its name resolves to the station (Chromium's host resolver rules map
``evil.example`` to 127.0.0.1) and the station refuses the foreign Host with 400.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from hiitpi.web.dashboard import ids as I

from . import helpers as H
from .conftest import DESKTOP, Server, launch_chromium

pytestmark = [pytest.mark.slow, pytest.mark.model, pytest.mark.shared]

EVIL_HOST = "evil.example"
ATTACK = """<!doctype html><html><body><h1>Cute cat pictures</h1>
<iframe name="sink1"></iframe><iframe name="sink2"></iframe>
<form id="stop" method="post" action="{station}/api/command" target="sink1">
  <input name="action" value="stop"><input name="confirm" value="true"></form>
<form id="player" method="post" action="{station}/api/command" target="sink2"
  enctype="multipart/form-data">
  <input name="action" value="set_player"><input name="player" value="Mallory"></form>
<script>
  document.getElementById("stop").submit();
  document.getElementById("player").submit();
  fetch("{station}/api/command", {{method: "POST", mode: "no-cors", credentials: "include",
    headers: {{"Content-Type": "application/x-www-form-urlencoded"}},
    body: "action=stop&confirm=true"}}).finally(function () {{ document.title = "sent"; }});
</script></body></html>"""


@pytest.fixture(scope="module")
def evil_browser() -> Iterator[Any]:
    """Chromium where ``evil.example`` resolves to this machine (a rebinding attacker's DNS)."""
    yield from launch_chromium(f"--host-resolver-rules=MAP {EVIL_HOST} 127.0.0.1")


@pytest.fixture
def evil_site(server: Server) -> Iterator[str]:
    """A second HTTP server, on another port: the attacker's page about the station."""
    page = ATTACK.format(station=server.url).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{EVIL_HOST}:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_another_site_cannot_stop_the_set_or_switch_the_player(
    evil_browser: Any, server: Server, evil_site: str, screenshots: Path
) -> None:
    dialogs: list[str] = []
    context, page = H.new_page(evil_browser, DESKTOP, dialogs)
    try:
        H.login(page, server, "Ann")
        H.start(page, I.EXERCISE_SELECT, "push_up")
        H.state_is(page, "state", "running")
        assert server.get_json("/api/status")["active"]

        answers: list[tuple[str, int]] = []
        context.on(
            "response",
            lambda r: (
                answers.append((r.request.method, r.status))
                if r.url.startswith(server.url + "/api/command")
                else None
            ),
        )
        attack = context.new_page()
        attack.goto(evil_site)
        attack.wait_for_function("document.title === 'sent'")
        deadline = time.monotonic() + 10
        while len(answers) < 3 and time.monotonic() < deadline:
            attack.wait_for_timeout(100)
        attack.screenshot(path=screenshots / "csrf-attack-desktop.png")
        assert answers == [("POST", 403)] * 3, answers

        time.sleep(1.0)  # a command that got through would have been answered by now
        status = server.get_json("/api/status")
        assert status["active"] and status["player"] == "Ann", status
        H.player_is(page, "Ann")

        # DNS rebinding: the attacker's name now points at the station itself
        rebound = attack.goto(server.url.replace("127.0.0.1", EVIL_HOST) + "/")
        assert rebound is not None and rebound.status == 400
        assert "host not allowed" in attack.inner_text("body")
        assert server.get_json("/api/status")["active"]

        H.end(page)  # the station's own page still works: the set ends when Ann says so
        H.state_is(page, "state", "idle")
        assert dialogs == []
    finally:
        context.close()
