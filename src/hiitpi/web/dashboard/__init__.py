"""The Dash app on the Flask server: Welcome, Workout, Leaderboard, History and Status pages.

``mount_dashboard(server, store, history, settings)`` adds the pages at ``/`` and a CSV export
route, next to the server's own routes (``/videostream``, ``/api/*``, ``/healthz``), which it
leaves alone. URLs that name no page, or an unknown workout (``/workout/<id>``), get a 404.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import dash
from flask import Flask, Response, abort, request

from hiitpi.live.base import LiveStore
from hiitpi.referee import available_definitions
from hiitpi.web.dashboard import callbacks, pages
from hiitpi.web.dashboard.access import READ_ONLY_OUTPUTS
from hiitpi.web.dashboard.context import Dashboard
from hiitpi.web.dashboard.style import INDEX_STRING, STATIC_DIR
from hiitpi.web.security import READ_ONLY_KEY

if TYPE_CHECKING:
    from hiitpi.config import Settings
    from hiitpi.store import HistoryStore

__all__ = ["Dashboard", "mount_dashboard"]

PAGE_PATHS = frozenset([*(href for href, _ in pages.LINKS), pages.KIOSK, pages.PLANS])


class _Dash(dash.Dash):
    """Dash whose catch-all answers 404 for a URL that is not one of the pages: the app's own
    page (with the navigation) saying so, with the status code 404."""

    hiitpi: Dashboard

    def index(self, *args: Any, **kwargs: Any) -> Any:
        path = request.path.rstrip("/") or "/"
        workout = path.removeprefix("/workout/") if path.startswith("/workout/") else None
        page = super().index(*args, **kwargs)  # type: ignore[no-untyped-call]
        if path not in PAGE_PATHS and not (workout and self.hiitpi.known(workout)):
            return page, 404
        return page


def _filename(player: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", player).strip("_") or "player"
    return f"hiitpi-{slug}.csv"


def mount_dashboard(
    server: Flask, store: LiveStore, history: HistoryStore | None, settings: Settings
) -> dash.Dash:
    """Mount the dashboard at ``/`` on ``server``; returns the Dash app."""
    ctx = Dashboard(
        store=store,
        history=history,
        settings=settings,
        exercises=available_definitions(settings.user_exercises_dir),  # built-in + the user's
    )
    options: dict[str, Any] = {
        "server": server,
        "url_base_pathname": "/",
        "title": "HIIT PI",
        "update_title": None,  # the tab title stays "HIIT PI" while callbacks run
        "suppress_callback_exceptions": True,  # pages are rendered on navigation
        "serve_locally": True,  # works on a LAN without internet
        "assets_folder": str(STATIC_DIR),  # hiitpi.css, hiitpi-cues.js, hiitpi-live.js
    }
    app = _Dash(__name__, **options)
    app.hiitpi = ctx
    app.index_string = INDEX_STRING
    app.layout = pages.shell()
    callbacks.register(app, ctx)

    @server.get("/export/<path:player>.csv")
    def export_csv(player: str) -> Response:
        if history is None or player not in ctx.player_names():
            abort(404)
        return Response(
            history.export_csv(player),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{_filename(player)}"'},
        )

    @server.get("/api/<path:_rest>")
    def api_not_found(_rest: str) -> Response:
        abort(404)  # not the dashboard's catch-all: unknown API paths stay JSON 404s

    server.extensions["hiitpi_dashboard"] = app
    server.extensions[READ_ONLY_KEY] = READ_ONLY_OUTPUTS  # what a locked browser may still run
    return app
