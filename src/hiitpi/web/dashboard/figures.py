"""Pure functions from store records to Plotly figures and display rows (no I/O, no clock).

Plotly renders a few HTML tags inside trace names, tick labels and hover text, so every text
that a user typed (a player name, a no-rep reason) goes through :func:`plot_text` first and is
shown literally. Dash text children need no such care: React escapes them.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hiitpi.core.events import EventKind
from hiitpi.live.base import Metric
from hiitpi.store.records import BlockSummary, BoardRow, RepRecord, SessionSummary, WeeklyTotal

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")
MIN_HISTORY_SPAN = timedelta(minutes=20)  # one session must not zoom the axis to milliseconds
CORRECTED_MARK = "✎"  # beside a count that was fixed by hand
LIVE_POINTS = 300  # points kept on the live chart (~10 s at 30 fps)
REP_COLOR = "#2ca02c"
NO_REP_COLOR = "#d62728"
_BASE_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "margin": {"l": 50, "r": 50, "t": 40, "b": 40},
    "legend": {"orientation": "h", "y": -0.2},
}


def plot_text(text: str) -> str:
    """``text`` safe for Plotly labels: ``<``, ``>`` and ``&`` become entities, shown as typed."""
    return html.escape(text, quote=False)


def label_of(workout: str, labels: Mapping[str, str]) -> str:
    return labels.get(workout, workout)


# --- formatting ------------------------------------------------------------------------------
def fmt_elapsed(seconds: float | None) -> str:
    """``m:ss`` (``h:mm:ss`` past an hour); ``-`` when unknown."""
    if seconds is None or seconds < 0:
        return "-"
    s = int(seconds)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def fmt_pace(pace: float | None) -> str:
    """Reps per 30 s with one decimal; ``/`` before there is a pace (as the original showed)."""
    return "/" if not pace else f"{pace:.1f}"


def fmt_share(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def fmt_when(when: datetime | None) -> str:
    """Local time, to the minute."""
    return "-" if when is None else when.astimezone().strftime("%d %b %Y %H:%M")


# --- live chart --------------------------------------------------------------------------------
def live_figure() -> go.Figure:
    """The empty live chart: inference ms (left axis) and pose score (right axis, 0-1)."""
    fig = go.Figure(
        [
            go.Scatter(x=[], y=[], name="inference (ms)", mode="lines", line={"color": "#1f77b4"}),
            go.Scatter(
                x=[], y=[], name="pose score", mode="lines", yaxis="y2", line={"color": "#ff7f0e"}
            ),
        ]
    )
    fig.update_layout(
        **_BASE_LAYOUT,
        height=260,
        uirevision="live",
        xaxis={"title": "t (s)"},
        yaxis={"title": "ms", "rangemode": "tozero"},
        yaxis2={"title": "score", "overlaying": "y", "side": "right", "range": [0, 1]},
    )
    return fig


def metrics_extend(
    metrics: Sequence[Metric], max_points: int = LIVE_POINTS
) -> tuple[dict[str, list[list[float]]], list[int], int] | None:
    """The ``extendData`` value that appends ``metrics`` to :func:`live_figure`; None if empty."""
    if not metrics:
        return None
    xs = [round(m.t, 3) for m in metrics]
    data = {
        "x": [xs, xs],
        "y": [
            [round(m.inference_ms, 2) for m in metrics],
            [round(m.pose_score, 3) for m in metrics],
        ],
    }
    return data, [0, 1], max_points


# --- leaderboard -------------------------------------------------------------------------------
def week_figure(totals: Iterable[WeeklyTotal], labels: Mapping[str, str]) -> go.Figure:
    """Good reps per player, one stacked segment per workout: horizontal bars of a fixed
    thickness, on an axis that leaves room, so one player's bar does not fill the chart.

    A timed hold (plank: no reps) gets a panel of its own below, by its seconds held with good
    form (``m:ss held`` on hover): on the reps bar a plank-only player had a bar of nothing.
    """
    totals = list(totals)
    holds = {
        w for w in {t.workout for t in totals} if _held_only([t for t in totals if t.workout == w])
    }
    reps = [t for t in totals if t.workout not in holds]
    held = [t for t in totals if t.workout in holds]
    panels = [(kind, rows) for kind, rows in (("reps", reps), ("held", held)) if rows]
    panels = panels or [("reps", [])]
    sizes = [len({t.player for t in rows}) or 1 for _, rows in panels]
    height = 170 + 48 * sum(sizes) + _WEEK_GAP_PX * (len(panels) - 1)
    # the figure's title names the first panel; the second is titled above its own bars, past
    # the first one's ticks and axis title
    fig = make_subplots(
        rows=len(panels),
        cols=1,
        row_heights=[n / sum(sizes) for n in sizes],
        vertical_spacing=_WEEK_GAP_PX / (height - 80),
        subplot_titles=["", *(_WEEK_TITLES[kind] for kind, _ in panels[1:])],
    )
    for row, (kind, rows) in enumerate(panels, 1):
        per_player: dict[str, float] = {}  # in the store's order
        for t in rows:
            per_player[t.player] = per_player.get(t.player, 0) + _week_value(kind, t)
        # the most in this panel first (a player's reps do not rank their hold); ties as stored
        players = sorted(per_player, key=lambda p: -per_player[p])
        for workout in sorted({t.workout for t in rows}):
            mine = {t.player: t for t in rows if t.workout == workout}
            values = [_week_value(kind, mine.get(p)) for p in players]
            bar: dict[str, Any] = {}
            if kind == "held":
                bar["customdata"] = [fmt_held(v) for v in values]
                bar["hovertemplate"] = "%{y}: %{customdata}"
            fig.add_bar(
                name=plot_text(label_of(workout, labels)),
                y=[plot_text(p) for p in players],
                x=values,
                orientation="h",
                width=0.6,
                row=row,
                col=1,
                **bar,
            )
        top = max(per_player.values(), default=0)
        fig.update_xaxes(
            title_text=_WEEK_AXES[kind], range=[0, max(10, top * 1.25)], row=row, col=1
        )
        fig.update_yaxes(type="category", autorange="reversed", automargin=True, row=row, col=1)
    fig.update_layout(
        **_BASE_LAYOUT,
        barmode="stack",
        title=_WEEK_TITLES[panels[0][0]],
        height=height,
    )
    fig.update_layout(margin={"l": 10, "r": 20, "t": 40, "b": 40})
    if not totals:
        fig.add_annotation(text="No workouts in the last 7 days", showarrow=False)
    return fig


_WEEK_TITLES = {"reps": "Good reps, last 7 days", "held": "Held with good form, last 7 days"}
_WEEK_AXES = {"reps": "reps", "held": "seconds held"}
_WEEK_GAP_PX = 110  # between the panels: the first one's ticks and axis title, then the title


def _held_only(sets: Sequence[SessionSummary] | Sequence[WeeklyTotal]) -> bool:
    """A timed hold's sets or totals (plank): time held, never a rep."""
    return any(t.hold_s for t in sets) and not any(t.reps for t in sets)


def _week_value(kind: str, total: WeeklyTotal | None) -> float:
    if total is None:
        return 0
    return round(total.hold_s) if kind == "held" else total.reps


def board_rows(rows: Iterable[BoardRow]) -> list[dict[str, str]]:
    """A workout board for display: rank, player, best set, best pace, good share, sessions."""
    return [
        {
            "rank": str(i),
            "player": r.player,
            "best": f"{_best(r)}{_mark(r)} ({fmt_when(r.best_session_at)})",
            "best_pace": fmt_pace(r.best_pace),
            "good_share": fmt_share(r.good_share),
            "sessions": str(r.sessions),
        }
        for i, r in enumerate(rows, 1)
    ]


def fmt_held(seconds: float) -> str:
    """A timed hold's (plank's) time held with good form: ``1:05 held``."""
    return f"{fmt_elapsed(seconds)} held"


def count_words(reps: int | str) -> str:
    """A history row's count in words: ``12 reps``, or a hold's ``1:05 held`` as it is."""
    return f"{reps} reps" if isinstance(reps, int) else reps


def _best(row: BoardRow) -> str:
    """The best set: its good reps, or a timed hold's (no reps) time held."""
    return (
        fmt_held(row.best_hold_s) if row.best_hold_s and not row.best_reps else str(row.best_reps)
    )


def _mark(row: BoardRow) -> str:
    """`` ✎`` when the count includes a correction by hand."""
    return f" {CORRECTED_MARK}" if row.corrected else ""


# --- history -----------------------------------------------------------------------------------
def history_figure(sessions: Iterable[SessionSummary], labels: Mapping[str, str]) -> go.Figure:
    """A player's sessions over time: good reps (top) and pace per 30 s (bottom), per workout;
    a timed hold (plank: no reps, no pace) by its seconds held, on top."""
    sessions = list(sessions)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    any_held = False
    for i, workout in enumerate(sorted({s.workout for s in sessions})):
        mine = [s for s in sessions if s.workout == workout]
        held = _held_only(mine)
        any_held = any_held or held
        name = plot_text(label_of(workout, labels)) + (" (s held)" if held else "")
        xs = [s.started_at for s in mine]
        style = {"color": PALETTE[i % len(PALETTE)]}
        fig.add_scatter(
            x=xs, y=[round(s.hold_s, 1) if held else s.reps for s in mine], name=name,
            legendgroup=workout, mode="lines+markers", line=style, marker={**style, "size": 9},
            row=1, col=1,
        )  # fmt: skip
        fig.add_scatter(  # a hold has no pace (None): drawn empty, the dates' axis stays
            x=xs, y=[s.pace for s in mine], name=name, legendgroup=workout, showlegend=False,
            mode="lines+markers", line={**style, "dash": "dot"}, marker={**style, "size": 9},
            row=2, col=1,
        )  # fmt: skip
    if sessions:  # the player's own sessions, padded a little (never a fixed day)
        first = min(s.started_at for s in sessions)
        last = max(s.started_at for s in sessions)
        pad = max(MIN_HISTORY_SPAN - (last - first), timedelta(0)) / 2 + (last - first) * 0.05
        fig.update_xaxes(range=[first - pad, last + pad])
    fig.update_layout(**_BASE_LAYOUT, height=420, title="Sessions over time")
    top = "good reps / s held" if any_held else "good reps"
    fig.update_yaxes(title_text=top, rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="pace /30 s", rangemode="tozero", row=2, col=1)
    return fig


def session_rows(
    sessions: Iterable[SessionSummary], labels: Mapping[str, str]
) -> list[dict[str, Any]]:
    """A player's sessions for display, newest first."""
    return [
        {
            "id": s.id,
            "when": fmt_when(s.started_at),
            "workout": label_of(s.workout, labels) + _in_plan(s),
            "reps": fmt_held(s.hold_s) if s.hold_s and not s.reps else s.reps,
            "no_reps": s.no_reps,
            "pace": fmt_pace(s.pace),
            "duration": fmt_elapsed(s.duration_s),
            "fix": fmt_correction(s.correction),
            "attempts": s.reps + s.no_reps,
            "status": s.status,
        }
        for s in sorted(sessions, key=lambda s: (s.started_at, s.id), reverse=True)
    ]


def _in_plan(s: SessionSummary) -> str:
    """`` (plan block 2, round 3)`` for a set of a plan."""
    if s.plan_session_id is None or s.block is None:
        return ""
    rnd = f", round {s.round}" if s.round else ""
    return f" (plan block {s.block + 1}{rnd})"


def fmt_correction(delta: int | None) -> str:
    """``+1`` / ``-2`` beside the referee's count; empty when nobody fixed it."""
    return f"{delta:+d} {CORRECTED_MARK}" if delta else ""


def fmt_drift(drift: str | None, pct: float | None) -> str:
    """The session's pace drift in words: ``slowing -12 %`` against its first reps."""
    if drift is None:
        return "Pace drift: not enough reps yet"
    return f"Pace drift: {drift}" + ("" if pct is None else f" {pct:+.0f} %") + " vs the first reps"


def newest_with_attempts(rows: Sequence[Mapping[str, Any]]) -> Any:
    """The id of the newest session with a rep or a no-rep (rows newest first), else the newest."""
    for r in rows:
        if r.get("attempts"):
            return r["id"]
    return rows[0]["id"] if rows else None


def block_cards(blocks: Iterable[BlockSummary], labels: Mapping[str, str]) -> list[dict[str, str]]:
    """A plan session's blocks for display: reps, no-reps, pace and drift vs the first block."""
    cards = []
    for i, b in enumerate(blocks, 1):
        fix = b.set.correction
        if i == 1:
            drift = "first block"
        elif b.drift_pct is None:
            drift = "-"
        else:
            drift = f"{b.drift or 'pace'} {b.drift_pct:+.0f} %"
        rnd = f", round {b.set.round}" if b.set.round else ""
        cards.append(
            {
                "title": f"{i}. {label_of(b.set.workout, labels)}{rnd}",
                "reps": f"{b.set.corrected_reps}" + (f" {CORRECTED_MARK}" if fix else ""),
                "detail": (f"referee {b.set.reps}, " if fix else "")
                + f"{b.set.no_reps} no-reps, pace {fmt_pace(b.pace)}",
                "drift": drift,
                "drift_kind": "steady" if i == 1 else (b.drift or "steady"),
            }
        )
    return cards


def timeline_figure(records: Iterable[RepRecord]) -> go.Figure:
    """Every attempt of a session: a bar from its start to its end, green rep / red no-rep."""
    records = list(records)
    fig = go.Figure()
    for kind, name, color in (
        (EventKind.REP, "rep", REP_COLOR),
        (EventKind.NO_REP, "no-rep", NO_REP_COLOR),
    ):
        mine = [r for r in records if r.kind is kind]
        fig.add_bar(
            name=name,
            x=[r.duration for r in mine],
            base=[r.t_start for r in mine],
            y=[f"{name} {r.index}" for r in mine],
            orientation="h",
            marker={"color": color},
            hovertext=[plot_text(_hover(r)) for r in mine],
            hoverinfo="text",
        )
    fig.update_layout(
        **_BASE_LAYOUT,
        title="Rep timeline",
        xaxis={"title": "t (s)"},
        yaxis={"autorange": "reversed", "type": "category"},
        height=max(220, 28 * len(records) + 120),
        barmode="overlay",
    )
    # the legend above the bars, right: below, it ran into the axis title on a phone
    fig.update_layout(legend={"y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"})
    return fig


def _hover(r: RepRecord) -> str:
    text = f"t {r.t:.1f} s, {r.duration:.2f} s, quality {r.quality:.2f}"
    return f"{text}: {r.reason}" if r.reason else text


def timeline_rows(records: Iterable[RepRecord]) -> list[dict[str, str]]:
    """Every rep and no-rep: time, duration, quality and the reason a no-rep did not count."""
    return [
        {
            "kind": "rep" if r.kind is EventKind.REP else "no-rep",
            "index": str(r.index),
            "t": f"{r.t:.1f}",
            "duration": f"{r.duration:.2f}",
            "quality": f"{r.quality:.2f}",
            "reason": r.reason or "",
        }
        for r in records
    ]
