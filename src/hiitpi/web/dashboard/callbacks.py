"""Dash callbacks: read snapshots and history, send commands; never referee, never consume.

The workout screen is drawn by ``static/hiitpi-live.js`` from ``GET /api/status`` and sends
its commands to ``POST /api/command`` (the owner check lives there). Here: routing, login, the
plan editor, history, and the Status page, whose developer chart gets only the metrics after
the stream id it has reached (``extendData``, the stream id is the cursor; nothing is popped).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, quote

import dash
from dash import Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from hiitpi.core.names import validate_player
from hiitpi.errors import StoreError
from hiitpi.live.base import Command, CommandKind, LiveSnapshot
from hiitpi.web.dashboard import figures, pages, plans_ui
from hiitpi.web.dashboard import ids as I
from hiitpi.web.dashboard.context import Dashboard

FORM_IDS = {
    "name": I.PLAN_NAME,
    "exercise": I.PLAN_EXERCISE,
    "kind": I.PLAN_KIND,
    "work": I.PLAN_WORK,
    "target": I.PLAN_TARGET,
    "rest": I.PLAN_REST,
    "rounds": I.PLAN_ROUNDS,
    "countdown": I.PLAN_COUNTDOWN,
}
_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
METRICS_PER_TICK = 500


def route(ctx: Dashboard, pathname: str | None, search: str | None, remembered: str | None) -> Any:
    """The page for ``pathname`` (the server already answered 404 for unknown URLs)."""
    path = (pathname or "/").rstrip("/") or "/"
    query = parse_qs((search or "").lstrip("?"))
    if path == "/":
        return pages.welcome(ctx.player_names())
    if path == "/workout":
        return pages.workout(ctx, remembered)
    if path == pages.KIOSK:
        return pages.workout(ctx, None, kiosk=True)
    if path.startswith("/workout/"):
        workout = path.removeprefix("/workout/")
        return pages.workout(ctx, remembered, workout) if ctx.known(workout) else None
    if path == pages.PLANS:
        return pages.plans_page(ctx)
    if path == "/leaderboard":
        return pages.leaderboard(ctx)
    if path == "/history":
        player = (query.get("player") or [remembered or ""])[0]
        return pages.history(ctx.player_names(), player or None)
    if path == "/status":
        return pages.status()
    return pages.not_found(path)


def login_takes_over(snap: LiveSnapshot | None, name: str) -> bool:
    """Would naming ``name`` the station's player relabel someone else's running set?"""
    return (
        snap is not None
        and snap.status.active
        and bool(snap.status.player)
        and snap.status.player != name
    )


def register(app: dash.Dash, ctx: Dashboard) -> None:
    @app.callback(
        Output(I.PAGE, "children"),
        Input(I.URL, "pathname"),
        Input(I.URL, "search"),
        State(I.PLAYER_MEMORY, "data"),
    )
    def _route(pathname: str | None, search: str | None, remembered: str | None) -> Any:
        page = route(ctx, pathname, search, remembered)
        return pages.not_found(pathname or "/") if page is None else page

    @app.callback(
        Output(I.LOGIN_ERROR, "children"),
        Output(I.URL, "pathname", allow_duplicate=True),
        Output(I.PLAYER_MEMORY, "data", allow_duplicate=True),
        Input(I.LOGIN_BUTTON, "n_clicks"),
        Input(I.PLAYER_INPUT, "n_submit"),
        Input(I.PLAYER_PICK, "value"),
        State(I.PLAYER_INPUT, "value"),
        prevent_initial_call=True,
    )
    def _login(clicks: int, submit: int | None, picked: str | None, typed: str | None) -> Any:
        if not (clicks or submit or picked):  # the page was just inserted: nothing to do yet
            raise PreventUpdate
        if dash.ctx.triggered_id == I.PLAYER_PICK:
            if not picked:
                raise PreventUpdate
            typed = picked
        try:
            name = validate_player(typed or "")
        except ValueError as exc:
            return str(exc), no_update, no_update
        # a login while someone else's set runs only remembers the name in this browser:
        # the workout screen then offers to watch, or to end that session
        if not login_takes_over(ctx.store.get_state(), name):
            ctx.store.send_command(Command(CommandKind.SET_PLAYER, player=name))
        if ctx.history is not None:
            ctx.history.get_or_create_player(name)
        return "", "/workout", name

    @app.callback(
        Output(I.URL, "pathname", allow_duplicate=True),
        Output(I.PLAYER_MEMORY, "data", allow_duplicate=True),
        Input(I.EXIT_BUTTON, "n_clicks"),
        prevent_initial_call=True,
    )
    def _exit(clicks: int) -> Any:
        """Exit? forgets this browser's player; a running set goes on (End ends it, asking)."""
        if not clicks:
            raise PreventUpdate
        return "/", None

    @app.callback(
        Output(I.PLAN_FEEDBACK, "children"),
        Output(I.PLAN_LOAD, "options"),
        Output(I.PLAN_LOAD, "placeholder"),
        Output(I.PLAN_LOAD, "disabled"),
        Output(I.PLANS_LIST, "children"),
        Input(I.PLAN_SAVE, "n_clicks"),
        State(I.PLAN_NAME, "value"),
        State(I.PLAN_EXERCISE, "value"),
        State(I.PLAN_KIND, "value"),
        State(I.PLAN_WORK, "value"),
        State(I.PLAN_TARGET, "value"),
        State(I.PLAN_REST, "value"),
        State(I.PLAN_ROUNDS, "value"),
        State(I.PLAN_COUNTDOWN, "value"),
        prevent_initial_call=True,
    )
    def _save_plan(clicks: int, *values: Any) -> Any:
        """Save the form; the editor's picker and the plans table show the plan at once."""
        if not clicks:
            raise PreventUpdate
        said = plans_ui.save(ctx, dict(zip(plans_ui.FORM_KEYS, values, strict=True)))
        return (said, *plans_ui.editable(ctx), pages.plans_list(ctx))

    @app.callback(
        Output(I.PLAN_WORK, "disabled"),
        Output(I.PLAN_TARGET, "disabled"),
        Input(I.PLAN_KIND, "value"),
    )
    def _plan_kind(kind: str | None) -> tuple[bool, bool]:
        """Work by time takes "work s", work to a target "target reps": only that one is on."""
        return kind == "reps", kind != "reps"

    @app.callback(
        [Output(FORM_IDS[k], "value") for k in plans_ui.FORM_KEYS],
        Input(I.PLAN_LOAD, "value"),
        prevent_initial_call=True,
    )
    def _load_plan(plan_id: str | None) -> Any:
        plan = next((p for p in plans_ui.user_plans(ctx) if p.id == plan_id), None)
        if plan is None or len(plan.blocks) != 1:
            raise PreventUpdate
        values = plans_ui.form_values(plan)
        return [values[k] for k in plans_ui.FORM_KEYS]

    _register_history(app, ctx)
    _register_status(app, ctx)


def _register_history(app: dash.Dash, ctx: Dashboard) -> None:
    @app.callback(
        Output(I.HISTORY_CHART, "figure"),
        Output(I.HISTORY_SESSIONS, "children"),
        Output(I.HISTORY_SESSION, "options"),
        Output(I.HISTORY_SESSION, "value"),
        Output(I.EXPORT_LINK, "href"),
        Output(I.EXPORT_LINK, "className"),
        Input(I.HISTORY_PLAYER, "value"),
    )
    def _player(player: str | None) -> Any:
        sessions = [] if ctx.history is None or not player else ctx.history.player_history(player)
        labels = ctx.labels
        rows = figures.session_rows(sessions, labels)
        options = [
            {
                "label": f"{r['when']} {r['workout']}: {figures.count_words(r['reps'])}",
                "value": r["id"],
            }
            for r in rows
        ]
        table = pages.table(pages.SESSION_COLUMNS, rows[:50], "sessions") if rows else None
        href = f"/export/{quote(player, safe='')}.csv" if player else ""
        return (
            figures.history_figure(sessions, labels),
            table,
            options,
            figures.newest_with_attempts(rows),
            href,
            "button" if player else "button hidden",
        )

    @app.callback(
        Output(I.TIMELINE_CHART, "figure"),
        Output(I.TIMELINE_TABLE, "children"),
        Output(I.HISTORY_BLOCKS, "children"),
        Input(I.HISTORY_SESSION, "value"),
    )
    def _timeline(session_id: int | None) -> Any:
        records = (
            []
            if ctx.history is None or session_id is None
            else ctx.history.session_timeline(int(session_id))
        )
        rows = figures.timeline_rows(records)
        blocks = None
        if ctx.history is not None and session_id is not None:
            blocks = pages.plan_blocks(ctx, int(session_id))
        table = pages.table(pages.TIMELINE_COLUMNS, rows) if rows else "No reps in this set."
        return figures.timeline_figure(records), table, blocks


def _register_status(app: dash.Dash, ctx: Dashboard) -> None:
    @app.callback(Output(I.STATUS_TABLE, "children"), Input(I.STATUS_INTERVAL, "n_intervals"))
    def _status(_n: int) -> Any:
        return pages.table((("key", "What"), ("value", "Value")), status_rows(ctx), "kv")

    @app.callback(
        Output(I.LIVE_CHART, "extendData"),
        Output(I.LIVE_CURSOR, "data"),
        Input(I.LIVE_INTERVAL, "n_intervals"),
        State(I.LIVE_CURSOR, "data"),
    )
    def _tick(_n: int, cursor: str | None) -> Any:
        """The developer chart: only the metrics after the stream id it has reached."""
        if not cursor or not _STREAM_ID.match(cursor):
            cursor = "0-0"
        try:
            rows = ctx.store.metrics(cursor, METRICS_PER_TICK)
        except StoreError:
            return no_update, no_update
        extend = figures.metrics_extend([m for _, m in rows])
        new_cursor = rows[-1][0] if rows else no_update
        return extend if extend is not None else no_update, new_cursor


def status_rows(ctx: Dashboard) -> list[dict[str, str]]:
    """Source, backend, fps, inference ms, Redis and database health, as text rows."""
    try:
        snap = ctx.store.get_state()
        redis = "ok" if ctx.store.ping() else "not answering"
    except StoreError as exc:
        snap, redis = None, f"error: {exc}"
    rows: dict[str, str] = {"Station": ctx.store.station, "Redis": redis}
    if ctx.history is None:
        rows["Database"] = "not configured"
    else:
        rows["Database"] = (
            "ok" if ctx.history.healthy() else "not answering"
        ) + f" ({ctx.history.url})"
    if snap is None:
        rows["Engine"] = "no state published yet"
    else:
        st = snap.status
        rows.update(
            {
                "Engine": "running" if st.running else "stopped",
                "Source": st.source or "-",
                "Pose backend": st.backend or "-",
                "Why this backend": getattr(st, "backend_reason", "") or "-",
                "FPS": f"{st.fps:.1f}",
                "Keeping up with the camera": (
                    getattr(st, "warning", None) or "no"
                    if getattr(st, "falling_behind", False)
                    else "yes"
                ),
                "Inference (ms)": f"{st.inference_ms:.1f}" if st.active else "- (no workout)",
                "Pose score": f"{st.pose_score:.2f}",
                "Player": st.player or "-",
                "Workout active": "yes" if st.active else "no",
                "Frames": str(st.frames),
                "Dropped frames": str(st.dropped),
                "Viewers": str(st.viewers),
                "Error": st.error or "-",
            }
        )
        # the engine's per-frame budget (rolling medians), when it publishes one
        for name, ms in (getattr(st, "stages_ms", None) or {}).items():
            rows[f"Stage {name} (ms)"] = f"{ms:.1f}"
        for name, ms in (getattr(st, "latency_ms", None) or {}).items():
            rows[f"Latency {name} (ms)"] = f"{ms:.1f}"
    return [{"key": k, "value": v} for k, v in rows.items()]
