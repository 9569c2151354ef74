"""Page layouts: functions of the current data, rendered when a page is opened.

Every user-typed text (player names, reasons) is a plain text child, which React escapes;
no component here is given raw HTML.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from dash import dcc, html

from hiitpi.live.base import PLAYER_MAX_LEN
from hiitpi.web.dashboard import figures
from hiitpi.web.dashboard import ids as I
from hiitpi.web.dashboard.context import Dashboard

LIVE_INTERVAL_MS = 500
STATUS_INTERVAL_MS = 2000
CHART_CONFIG: Any = {"displaylogo": False, "displayModeBar": False}
LINKS = (
    ("/", "Welcome"),
    ("/workout", "Workout"),
    ("/leaderboard", "Leaderboard"),
    ("/history", "History"),
    ("/status", "Status"),
)


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
                [html.Span("HIIT PI", className="brand")]
                + [dcc.Link(text, href=href, className="nav-link") for href, text in LINKS],
                id=I.NAV,
            ),
            html.Main(id=I.PAGE),
        ]
    )


def table(
    columns: Sequence[tuple[str, str]], rows: Sequence[Mapping[str, Any]], **kw: Any
) -> html.Table:
    """An HTML table of text cells (escaped by React)."""
    head = html.Thead(html.Tr([html.Th(title) for _, title in columns]))
    body = html.Tbody([html.Tr([html.Td(str(r[key])) for key, _ in columns]) for r in rows])
    return html.Table([head, body], className="table", **kw)


def welcome(players: Sequence[str]) -> html.Div:
    return html.Div(
        [
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


def _indicator(title: str, value_id: str, initial: str, extra: Any = None) -> html.Div:
    children = [
        html.Div(title, className="ind-title"),
        html.Div(initial, id=value_id, className="ind-value"),
    ]
    if extra is not None:
        children.append(extra)
    return html.Div(children, className="indicator")


def workout(ctx: Dashboard, preselect: str | None = None) -> html.Div:
    options = [{"label": "Random", "value": I.RANDOM_WORKOUT}] + [
        {"label": ex.label, "value": ex.id} for ex in ctx.exercises
    ]
    # the chart starts 10 s back: a stream id is the Redis server's clock in ms
    cursor = f"{int((time.time() - 10) * 1000)}-0"
    return html.Div(
        [
            html.Div(
                [
                    html.Span("Player: "),
                    html.Strong("-", id=I.CURRENT_PLAYER),
                    html.Button("Exit?", id=I.EXIT_BUTTON, n_clicks=0, className="secondary"),
                ],
                className="row",
            ),
            html.Div(
                [
                    html.Div(
                        html.Img(
                            id=I.VIDEO, src="/videostream", alt="live video", className="video"
                        ),
                        className="video-box",
                    ),
                    html.Div(
                        [
                            dcc.Dropdown(
                                id=I.WORKOUT_DROPDOWN,
                                options=options,
                                value=preselect,
                                placeholder="choose a workout",
                                clearable=False,
                                searchable=False,
                            ),
                            html.Div(
                                [
                                    _indicator("Reps", I.IND_REPS, "0"),
                                    _indicator(
                                        "No-reps",
                                        I.IND_NO_REPS,
                                        "0",
                                        html.Div("", id=I.IND_LAST_REASON, className="reason"),
                                    ),
                                    _indicator("Pace /30 s", I.IND_PACE, "/"),
                                    _indicator("Time", I.IND_ELAPSED, "-"),
                                    _indicator("Workout", I.IND_WORKOUT, "-"),
                                    _indicator("Phase", I.IND_PHASE, "-"),
                                ],
                                className="indicators",
                            ),
                            html.Div("", id=I.IND_MESSAGE, className="message"),
                            html.Button("Done!", id=I.DONE_BUTTON, n_clicks=0, className="done"),
                            html.Div(id=I.COMMAND_FEEDBACK, className="feedback"),
                        ],
                        className="side",
                    ),
                ],
                className="workout",
            ),
            dcc.Graph(id=I.LIVE_CHART, figure=figures.live_figure(), config=CHART_CONFIG),
            dcc.Store(id=I.LIVE_CURSOR, data=cursor),
            dcc.Interval(id=I.LIVE_INTERVAL, interval=LIVE_INTERVAL_MS, n_intervals=0),
        ]
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
        ]
    )


SESSION_COLUMNS = (
    ("when", "Started"),
    ("workout", "Workout"),
    ("reps", "Reps"),
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
            dcc.Graph(id=I.TIMELINE_CHART, figure=figures.timeline_figure([]), config=CHART_CONFIG),
            html.Div(id=I.TIMELINE_TABLE),
        ]
    )


def status() -> html.Div:
    return html.Div(
        [
            html.H1("Status"),
            html.Div(id=I.STATUS_TABLE),
            dcc.Interval(id=I.STATUS_INTERVAL, interval=STATUS_INTERVAL_MS, n_intervals=0),
        ]
    )


def not_found(path: str) -> html.Div:
    return html.Div([html.H1("Not found"), html.P(f"No page at {path}.")], className="card")
