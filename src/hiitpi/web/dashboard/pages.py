"""Page layouts: functions of the current data, rendered when a page is opened.

Every user-typed text (player names, reasons) is a plain text child, which React escapes;
no component here is given raw HTML.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from dash import dcc, html

from hiitpi.core.names import PLAYER_MAX_LEN
from hiitpi.web.dashboard import access, figures, live, plans_ui
from hiitpi.web.dashboard import ids as I
from hiitpi.web.dashboard.context import Dashboard

LIVE_INTERVAL_MS = 500
STATUS_INTERVAL_MS = 2000
CHART_CONFIG: Any = {"displaylogo": False, "displayModeBar": False, "responsive": True}
LINKS = (
    ("/", "Welcome"),
    ("/workout", "Workout"),
    ("/leaderboard", "Leaderboard"),
    ("/history", "History"),
    ("/status", "Status"),
)
KIOSK = "/tv"  # the workout screen without controls; not in the navigation
PLANS = "/plans"  # the plan list and editor, linked from the workout screen


def _data(**attrs: str) -> Any:
    """``data-*`` attributes for a component (the browser tests find boards by them)."""
    return {f"data-{k}": v for k, v in attrs.items()}


def shell() -> html.Div:
    """The frame around every page: navigation, the URL and the page container."""
    return html.Div(
        [
            dcc.Location(id=I.URL, refresh=False),
            dcc.Store(id=I.PLAYER_MEMORY, storage_type="session"),
            html.Nav(
                [dcc.Link("HIIT PI", href="/", className="brand", title="Welcome")]
                + [
                    dcc.Link(text, href=href, className="nav-link")
                    for href, text in LINKS
                    if href != "/"
                ],
                id=I.NAV,
            ),
            html.Main(id=I.PAGE),
        ]
    )


def table(
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Mapping[str, Any]],
    cls: str = "",
    **kw: Any,
) -> html.Div:
    """An HTML table of text cells (escaped by React); ``cls`` adds classes (``kv``: a
    what/value table whose values may break anywhere, e.g. a long path on a phone)."""
    head = html.Thead(html.Tr([html.Th(title) for _, title in columns]))
    body = html.Tbody([html.Tr([html.Td(str(r[key])) for key, _ in columns]) for r in rows])
    table_ = html.Table([head, body], className=f"table {cls}".strip(), **kw)
    return html.Div(table_, className="table-wrap")


def welcome(players: Sequence[str]) -> html.Div:
    return html.Div(
        [
            access.lock_notice("/"),
            html.H1("Who is working out?"),
            html.Div(
                [
                    dcc.Input(
                        id=I.PLAYER_INPUT,
                        type="text",
                        placeholder="your name",
                        maxLength=PLAYER_MAX_LEN,
                        debounce=False,
                        autoFocus=True,
                    ),
                    html.Button("Let's go!", id=I.LOGIN_BUTTON, n_clicks=0),
                ],
                className="row",
            ),
            html.Div(id=I.LOGIN_ERROR, className="error"),
            html.P("or pick a player:"),
            dcc.Dropdown(
                id=I.PLAYER_PICK,
                options=[{"label": p, "value": p} for p in players],
                placeholder="existing players",
                clearable=True,
            ),
        ],
        className="card narrow",
    )


def workout(
    ctx: Dashboard, player: str | None = None, preselect: str | None = None, *, kiosk: bool = False
) -> html.Div:
    """The workout screen (``/workout``, ``/workout/<id>``) or the kiosk (``/tv``)."""
    return live.screen(ctx, player, plans_ui.plan_choices(ctx), preselect, kiosk=kiosk)


PLAN_COLUMNS = (("name", "Plan"), ("what", "What"), ("id", "Id"))


def plans_list(ctx: Dashboard) -> html.Div | html.P:
    """Every plan, presets and the user's, as a table (redrawn when one is saved)."""
    labels = ctx.labels
    rows = [
        {"id": p.id, "name": p.name, "what": plans_ui.describe(p, labels)}
        for p in plans_ui.plans(ctx)
    ]
    return table(PLAN_COLUMNS, rows) if rows else html.P("No plans available.")


def plans_page(ctx: Dashboard) -> html.Div:
    return html.Div(
        [
            html.H1("Plans"),
            access.lock_notice(PLANS),
            plans_ui.editor(ctx),
            html.Div(plans_list(ctx), id=I.PLANS_LIST),
            dcc.Link("Back to the workout", href="/workout", className="button"),
        ]
    )


def plan_blocks(ctx: Dashboard, session_id: int) -> Any:
    """A plan session's blocks side by side (reps, no-reps, pace, drift), when it is one."""
    if ctx.history is None:
        return None
    one = ctx.history.get_session(session_id)
    if one is None or one.plan_session_id is None:
        return None
    summary = ctx.history.plan_session(one.plan_session_id)
    if summary is None or not summary.blocks:
        return None
    overall = figures.fmt_drift(summary.drift, summary.drift_pct)
    cards = [
        html.Div(
            [
                html.Div(b["title"], className="muted"),
                html.Div(b["reps"], className="big"),
                html.Div(b["detail"]),
                html.Div(b["drift"], className=f"drift-{b['drift_kind']}"),
            ],
            className="block",
        )
        for b in figures.block_cards(summary.blocks, ctx.labels)
    ]
    title = f"{summary.plan_name}: blocks side by side"
    return html.Div(
        [html.H3(title), html.P(overall, className="muted"), html.Div(cards, className="blocks")]
    )


BOARD_COLUMNS = (
    ("rank", "#"),
    ("player", "Player"),
    ("best", "Best set (good reps)"),
    ("best_pace", "Best pace /30 s"),
    ("good_share", "Good reps"),
    ("sessions", "Sets"),
)


def leaderboard(ctx: Dashboard) -> html.Div:
    if ctx.history is None:
        return html.Div(html.P("No history database configured."), className="card")
    totals = ctx.history.leaderboard_week()
    labels = ctx.labels
    boards = []
    for workout_id in sorted(
        {t.workout for t in totals}, key=lambda w: figures.label_of(w, labels)
    ):
        rows = figures.board_rows(ctx.history.workout_boards(workout_id))
        boards.append(
            html.Section(
                [html.H3(figures.label_of(workout_id, labels)), table(BOARD_COLUMNS, rows)],
                className="board",
                **_data(workout=workout_id),
            )
        )
    return html.Div(
        [
            html.H1("Leaderboard"),
            dcc.Graph(
                id=I.WEEK_CHART, figure=figures.week_figure(totals, labels), config=CHART_CONFIG
            ),
            html.Div(boards or html.P("No sets yet this week."), id=I.BOARDS),
            html.P(
                f"{figures.CORRECTED_MARK} a count fixed by hand (+1/-1 on the workout screen). "
                "Best pace counts sets of at least 30 s and 5 reps.",
                className="muted",
            ),
        ]
    )


SESSION_COLUMNS = (
    ("when", "Started"),
    ("workout", "Workout"),
    ("reps", "Reps (referee)"),
    ("fix", "Fixed"),
    ("no_reps", "No-reps"),
    ("pace", "Pace /30 s"),
    ("duration", "Duration"),
    ("status", "Status"),
)
TIMELINE_COLUMNS = (
    ("kind", "Kind"),
    ("index", "#"),
    ("t", "Time (s)"),
    ("duration", "Duration (s)"),
    ("quality", "Quality"),
    ("reason", "Reason"),
)


def history(players: Sequence[str], player: str | None) -> html.Div:
    return html.Div(
        [
            html.H1("History"),
            html.Div(
                [
                    dcc.Dropdown(
                        id=I.HISTORY_PLAYER,
                        options=[{"label": p, "value": p} for p in players],
                        value=player if player in players else None,
                        placeholder="choose a player",
                        className="grow",
                    ),
                    html.A("Export CSV", id=I.EXPORT_LINK, href="", className="button hidden"),
                ],
                className="row",
            ),
            dcc.Graph(
                id=I.HISTORY_CHART, figure=figures.history_figure([], {}), config=CHART_CONFIG
            ),
            html.Div(id=I.HISTORY_SESSIONS),
            html.H3("Rep timeline"),
            dcc.Dropdown(id=I.HISTORY_SESSION, placeholder="choose a session"),
            html.Div(id=I.HISTORY_BLOCKS),
            dcc.Graph(id=I.TIMELINE_CHART, figure=figures.timeline_figure([]), config=CHART_CONFIG),
            html.Div(id=I.TIMELINE_TABLE),
        ]
    )


def status() -> html.Div:
    # the developer chart starts 2 min back (the last set, even when it just ended): a stream
    # id is the Redis server's clock in ms; the figure keeps the last LIVE_POINTS points
    cursor = f"{int((time.time() - 120) * 1000)}-0"
    return html.Div(
        [
            html.H1("Status"),
            html.Div(id=I.STATUS_TABLE),
            html.H3("Inference time and pose score"),
            html.P(
                "The pose model's time and pose score of the last 300 refereed frames (10 s "
                "at 30 fps), from 2 minutes before this page opened: it moves only while a set "
                "runs, and is empty when none ran since.",
                className="muted",
            ),
            dcc.Graph(id=I.LIVE_CHART, figure=figures.live_figure(), config=CHART_CONFIG),
            dcc.Store(id=I.LIVE_CURSOR, data=cursor),
            dcc.Interval(id=I.LIVE_INTERVAL, interval=LIVE_INTERVAL_MS, n_intervals=0),
            dcc.Interval(id=I.STATUS_INTERVAL, interval=STATUS_INTERVAL_MS, n_intervals=0),
        ]
    )


def not_found(path: str) -> html.Div:
    links = [dcc.Link(text, href=href, className="button") for href, text in LINKS]
    return html.Div(
        [
            html.P("404", className="code"),
            html.H1("There is no page here"),
            html.P(f"Nothing at {path}. Pick a page:", className="muted"),
            html.Div(links, className="links"),
        ],
        className="card notfound",
    )
