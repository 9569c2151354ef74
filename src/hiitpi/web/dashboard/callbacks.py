"""Dash callbacks: read snapshots and history, send commands; never referee, never consume.

The workout page polls the live store every 500 ms: the chart gets only the metrics after the
stream id it has reached (``extendData``, the stream id is the cursor; nothing is popped), the
indicators get the last snapshot. Commands go through the live store to the one engine.
"""

from __future__ import annotations

import random
import re
from typing import Any
from urllib.parse import parse_qs, quote

import dash
from dash import Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from hiitpi.errors import StoreError
from hiitpi.live.base import Command, CommandKind, LiveSnapshot, validate_player
from hiitpi.web.dashboard import figures, pages
from hiitpi.web.dashboard import ids as I
from hiitpi.web.dashboard.context import Dashboard

_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
METRICS_PER_TICK = 500


def route(ctx: Dashboard, pathname: str | None, search: str | None, remembered: str | None) -> Any:
    """The page for ``pathname`` (the server already answered 404 for unknown URLs)."""
    path = (pathname or "/").rstrip("/") or "/"
    query = parse_qs((search or "").lstrip("?"))
    if path == "/":
        return pages.welcome(ctx.player_names())
    if path == "/workout":
        return pages.workout(ctx)
    if path.startswith("/workout/"):
        workout = path.removeprefix("/workout/")
        return pages.workout(ctx, workout) if ctx.known(workout) else pages.not_found(path)
    if path == "/leaderboard":
        return pages.leaderboard(ctx)
    if path == "/history":
        player = (query.get("player") or [remembered or ""])[0]
        return pages.history(ctx.player_names(), player or None)
    if path == "/status":
        return pages.status()
    return pages.not_found(path)


def live_values(ctx: Dashboard, snap: LiveSnapshot | None) -> list[str]:
    """Player, workout, reps, no-reps, last reason, pace, elapsed, phase and message."""
    if snap is None:
        return ["-", "-", "0", "0", "", "/", "-", "-", "engine not running"]
    player = snap.status.player or "-"
    state = snap.state
    if state is None:
        return [player, "-", "0", "0", "", "/", "-", "-", "choose a workout"]
    elapsed = None
    if snap.status.active:
        elapsed = ctx.elapsed_s(snap.status.player, state.exercise)
    return [
        player,
        figures.label_of(state.exercise, ctx.labels) + ("" if snap.status.active else " (stopped)"),
        str(state.reps),
        str(state.no_reps),
        state.last_reason or "",
        figures.fmt_pace(state.pace),
        figures.fmt_elapsed(elapsed),
        state.phase,
        snap.status.error or state.message,
    ]


def start_command(ctx: Dashboard, value: str | None) -> tuple[Command | None, str]:
    """The START command for a dropdown value (Random picks one); None + why when invalid."""
    if not value:
        return None, ""
    if value == I.RANDOM_WORKOUT:
        value = random.choice([ex.id for ex in ctx.exercises])
    if not ctx.known(value):
        return None, f"unknown workout {value!r}"
    return Command(CommandKind.START, exercise=value), f"Started {ctx.labels[value]}"


def register(app: dash.Dash, ctx: Dashboard) -> None:
    @app.callback(
        Output(I.PAGE, "children"),
        Input(I.URL, "pathname"),
        Input(I.URL, "search"),
        State(I.PLAYER_MEMORY, "data"),
    )
    def _route(pathname: str | None, search: str | None, remembered: str | None) -> Any:
        return route(ctx, pathname, search, remembered)

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
        ctx.store.send_command(Command(CommandKind.SET_PLAYER, player=name))
        if ctx.history is not None:
            ctx.history.get_or_create_player(name)
        return "", "/workout", name

    @app.callback(
        Output(I.LIVE_CHART, "extendData"),
        Output(I.LIVE_CURSOR, "data"),
        Output(I.CURRENT_PLAYER, "children"),
        Output(I.IND_WORKOUT, "children"),
        Output(I.IND_REPS, "children"),
        Output(I.IND_NO_REPS, "children"),
        Output(I.IND_LAST_REASON, "children"),
        Output(I.IND_PACE, "children"),
        Output(I.IND_ELAPSED, "children"),
        Output(I.IND_PHASE, "children"),
        Output(I.IND_MESSAGE, "children"),
        Input(I.LIVE_INTERVAL, "n_intervals"),
        State(I.LIVE_CURSOR, "data"),
    )
    def _tick(_n: int, cursor: str | None) -> Any:
        if not cursor or not _STREAM_ID.match(cursor):
            cursor = "0-0"
        try:
            snap = ctx.store.get_state()
            rows = ctx.store.metrics(cursor, METRICS_PER_TICK)
        except StoreError as exc:
            return no_update, no_update, *live_values(ctx, None)[:-1], f"live store: {exc}"
        extend = figures.metrics_extend([m for _, m in rows])
        new_cursor = rows[-1][0] if rows else no_update
        return extend if extend is not None else no_update, new_cursor, *live_values(ctx, snap)

    @app.callback(
        Output(I.COMMAND_FEEDBACK, "children"),
        Output(I.WORKOUT_DROPDOWN, "value"),
        Input(I.WORKOUT_DROPDOWN, "value"),
        Input(I.DONE_BUTTON, "n_clicks"),
        prevent_initial_call=True,
    )
    def _command(value: str | None, _done: int) -> Any:
        if dash.ctx.triggered_id == I.DONE_BUTTON:
            ctx.store.send_command(Command(CommandKind.STOP))
            snap = ctx.store.get_state()
            if snap is None or snap.state is None or not snap.status.active:
                return "No workout running.", None
            s = snap.state
            return f"Done! {s.reps} reps, {s.no_reps} no-reps: set saved.", None
        command, message = start_command(ctx, value)
        if command is None:
            return message or no_update, no_update
        ctx.store.send_command(command)
        return message, no_update

    @app.callback(
        Output(I.URL, "pathname", allow_duplicate=True),
        Output(I.PLAYER_MEMORY, "data", allow_duplicate=True),
        Input(I.EXIT_BUTTON, "n_clicks"),
        prevent_initial_call=True,
    )
    def _exit(clicks: int) -> Any:
        if not clicks:
            raise PreventUpdate
        ctx.store.send_command(Command(CommandKind.STOP))
        return "/", None

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
            {"label": f"{r['when']} {r['workout']}: {r['reps']} reps", "value": r["id"]}
            for r in rows
        ]
        table = pages.table(pages.SESSION_COLUMNS, rows[:50]) if rows else None
        href = f"/export/{quote(player, safe='')}.csv" if player else ""
        return (
            figures.history_figure(sessions, labels),
            table,
            options,
            rows[0]["id"] if rows else None,
            href,
            "button" if player else "button hidden",
        )

    @app.callback(
        Output(I.TIMELINE_CHART, "figure"),
        Output(I.TIMELINE_TABLE, "children"),
        Input(I.HISTORY_SESSION, "value"),
    )
    def _timeline(session_id: int | None) -> Any:
        records = (
            []
            if ctx.history is None or session_id is None
            else ctx.history.session_timeline(int(session_id))
        )
        rows = figures.timeline_rows(records)
        return figures.timeline_figure(records), pages.table(
            pages.TIMELINE_COLUMNS, rows
        ) if rows else "No reps in this session."


def _register_status(app: dash.Dash, ctx: Dashboard) -> None:
    @app.callback(Output(I.STATUS_TABLE, "children"), Input(I.STATUS_INTERVAL, "n_intervals"))
    def _status(_n: int) -> Any:
        return pages.table((("key", "What"), ("value", "Value")), status_rows(ctx))


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
