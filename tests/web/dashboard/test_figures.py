"""Figures and display rows are pure: records in, Plotly figures and text out."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from hiitpi.core.events import EventKind
from hiitpi.live.base import Metric
from hiitpi.store.records import (
    BlockSummary,
    BoardRow,
    RepRecord,
    SessionSummary,
    WeeklyTotal,
)
from hiitpi.web.dashboard import figures as F

from .conftest import EVIL, NOW

LABELS = {"push_up": "Push Ups", "squat": "Squats"}


def _session(
    i: int, workout: str, reps: int, pace: float | None, minutes: float = 1
) -> SessionSummary:
    start = NOW + timedelta(days=i)
    return SessionSummary(
        id=i, player=EVIL, workout=workout, started_at=start,
        ended_at=start + timedelta(minutes=minutes), reps=reps, no_reps=1, pace=pace,
        backend="mediapipe", source="cam", status="done", station="default",
    )  # fmt: skip


def _rep(kind: EventKind, index: int, t: float, reason: str | None = None) -> RepRecord:
    return RepRecord(
        session_id=1, kind=kind, index=index, t=t, t_start=t - 1.5, duration=1.5, quality=0.8,
        rom=1.0, reason_code="x" if reason else None, reason=reason, recorded_at=NOW,
    )  # fmt: skip


def test_plot_text_shows_markup_as_typed() -> None:
    assert F.plot_text(EVIL) == "&lt;svg/onload=alert()&gt;"
    assert F.plot_text("Tom & Jerry") == "Tom &amp; Jerry"
    assert F.plot_text("Ann") == "Ann"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (-1, "-"), (0, "0:00"), (59.9, "0:59"), (61, "1:01"), (3725, "1:02:05")],
)
def test_fmt_elapsed(seconds: float | None, text: str) -> None:
    assert F.fmt_elapsed(seconds) == text


@pytest.mark.parametrize(("pace", "text"), [(None, "/"), (0.0, "/"), (12.345, "12.3")])
def test_fmt_pace(pace: float | None, text: str) -> None:
    assert F.fmt_pace(pace) == text


def test_fmt_share_and_when() -> None:
    assert F.fmt_share(None) == "-" and F.fmt_share(0.755) == "76%"
    assert F.fmt_when(None) == "-" and " Nov 2026 " in F.fmt_when(NOW)


def test_live_figure_has_two_traces_on_two_axes() -> None:
    fig = F.live_figure()
    assert [t.name for t in fig.data] == ["inference (ms)", "pose score"]
    assert fig.data[1].yaxis == "y2" and fig.layout.yaxis2.overlaying == "y"
    assert fig.layout.uirevision == "live"  # zoom survives the extends


def test_metrics_extend_appends_both_traces_and_caps_points() -> None:
    assert F.metrics_extend([]) is None
    data, traces, cap = F.metrics_extend(
        [Metric(1.0, 20.123, 0.91234), Metric(1.033, 22.0, 0.5)], max_points=50
    )
    assert traces == [0, 1] and cap == 50
    assert data["x"] == [[1.0, 1.033], [1.0, 1.033]]
    assert data["y"] == [[20.12, 22.0], [0.912, 0.5]]


def test_week_figure_stacks_good_reps_per_player_and_workout() -> None:
    totals = [
        WeeklyTotal("Bob", "push_up", 10, 1, 2),
        WeeklyTotal("Bob", "squat", 5, 0, 1),
        WeeklyTotal(EVIL, "squat", 7, 2, 1),
    ]
    fig = F.week_figure(totals, LABELS)
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == ["Push Ups", "Squats"]
    players = ["Bob", "&lt;svg/onload=alert()&gt;"]
    assert all(list(t.y) == players and t.orientation == "h" for t in fig.data)
    assert list(fig.data[0].x) == [10, 0] and list(fig.data[1].x) == [5, 7]
    assert not fig.layout.annotations


def test_week_figure_one_player_does_not_fill_the_chart() -> None:
    """The issue: one player's bar filled the whole width. Now it has a fixed thickness and
    the axis leaves room past the longest bar."""
    fig = F.week_figure([WeeklyTotal("Bob", "push_up", 40, 1, 2)], LABELS)
    low, high = fig.layout.xaxis.range
    assert low == 0 and high >= 40 * 1.2
    assert fig.data[0].width <= 0.6 and fig.layout.height <= 260


def test_week_figure_shows_a_plank_by_its_time_held_in_a_panel_of_its_own() -> None:
    """The bug: a plank-only player's reps bar was empty. Holds get their own panel, seconds
    held on its axis and ``m:ss held`` on hover; the reps panel keeps only sets of reps."""
    totals = [
        WeeklyTotal("Bob", "push_up", 10, 1, 2),  # the store ranks Bob first (his reps)
        WeeklyTotal("Bob", "plank", 0, 0, 1, hold_s=30.0),
        WeeklyTotal("Ann", "plank", 0, 0, 2, hold_s=95.4),
    ]
    fig = F.week_figure(totals, LABELS)
    reps, held = [t for t in fig.data if t.xaxis == "x"], [t for t in fig.data if t.xaxis == "x2"]
    assert [(t.name, list(t.y), list(t.x)) for t in reps] == [("Push Ups", ["Bob"], [10])]
    assert [(t.name, list(t.y), list(t.x)) for t in held] == [("plank", ["Ann", "Bob"], [95, 30])]
    assert list(held[0].customdata) == ["1:35 held", "0:30 held"]
    assert fig.layout.xaxis.title.text == "reps" and fig.layout.xaxis2.title.text == "seconds held"
    assert fig.layout.xaxis2.range[1] >= 95 * 1.2
    assert fig.layout.title.text == "Good reps, last 7 days"
    assert [a.text for a in fig.layout.annotations] == ["Held with good form, last 7 days"]
    only = F.week_figure(totals[1:], LABELS)  # nobody did reps: one panel, the holds
    assert [list(t.y) for t in only.data] == [["Ann", "Bob"]]  # the longest hold first
    assert only.layout.title.text == "Held with good form, last 7 days"
    assert only.layout.xaxis.title.text == "seconds held" and len(only.data) == 1


def test_week_figure_says_when_empty() -> None:
    fig = F.week_figure([], LABELS)
    assert not fig.data and "No workouts" in fig.layout.annotations[0].text


def test_board_rows_rank_and_format() -> None:
    rows = F.board_rows(
        [
            BoardRow(EVIL, 3, 30, 10, 15, 7, NOW, 12.25),
            BoardRow("Bob", 1, 5, 0, 5, 9, NOW, None),
        ]
    )
    assert [r["rank"] for r in rows] == ["1", "2"]
    assert rows[0]["player"] == EVIL  # escaped by React where it is shown, not here
    assert rows[0]["best"].startswith("15 (") and rows[0]["best_pace"] == "12.2"
    assert rows[0]["good_share"] == "75%" and rows[1]["best_pace"] == "/"


def test_history_figure_has_reps_and_pace_per_workout() -> None:
    sessions = [
        _session(0, "push_up", 10, 8.0),
        _session(1, "squat", 4, None),
        _session(2, "push_up", 12, 9.5),
    ]
    fig = F.history_figure(sessions, LABELS)
    names = [(t.name, t.yaxis) for t in fig.data]
    assert names == [("Push Ups", "y"), ("Push Ups", "y2"), ("Squats", "y"), ("Squats", "y2")]
    assert list(fig.data[0].y) == [10, 12] and list(fig.data[1].y) == [8.0, 9.5]


def test_session_rows_newest_first() -> None:
    rows = F.session_rows(
        [_session(0, "push_up", 10, 8.0, 2.5), _session(1, "squat", 4, None)], LABELS
    )
    assert [r["id"] for r in rows] == [1, 0]
    assert rows[1]["workout"] == "Push Ups" and rows[1]["duration"] == "2:30"
    assert rows[0]["pace"] == "/"


def test_timeline_shows_every_attempt_with_its_reason() -> None:
    records = [
        _rep(EventKind.REP, 1, 2.0),
        _rep(EventKind.NO_REP, 1, 4.0, f"not deep enough {EVIL}"),
        _rep(EventKind.REP, 2, 6.0),
    ]
    fig = F.timeline_figure(records)
    rep, no_rep = fig.data
    assert list(rep.y) == ["rep 1", "rep 2"] and list(rep.base) == [0.5, 4.5]
    assert list(no_rep.y) == ["no-rep 1"] and list(no_rep.x) == [1.5]
    assert "<svg" not in no_rep.hovertext[0] and "&lt;svg" in no_rep.hovertext[0]
    rows = F.timeline_rows(records)
    assert [r["kind"] for r in rows] == ["rep", "no-rep", "rep"]
    assert rows[1] == {
        "kind": "no-rep", "index": "1", "t": "4.0", "duration": "1.50", "quality": "0.80",
        "reason": f"not deep enough {EVIL}",
    }  # fmt: skip


def test_history_figure_spans_the_players_own_sessions() -> None:
    """The issue: the chart always spanned 24 h, so a day's sets sat on one vertical line."""
    fig = F.history_figure([_session(0, "push_up", 10, 8.0)], LABELS)
    low, high = fig.layout.xaxis.range
    assert F.MIN_HISTORY_SPAN <= high - low < timedelta(hours=1)  # one set: not milliseconds
    assert fig.data[0].line.color == fig.data[1].line.color  # reps and pace of one workout
    base = _session(0, "push_up", 10, 8.0)
    day = [replace(base, id=i, started_at=NOW + timedelta(minutes=15 * i)) for i in range(4)]
    low, high = F.history_figure(day, LABELS).layout.xaxis.range
    first, last = day[0].started_at, day[-1].started_at
    assert low < first and high > last and high - low < (last - first) * 1.2 + F.MIN_HISTORY_SPAN


def test_rows_show_a_correction_and_the_timeline_opens_on_a_set_with_attempts() -> None:
    empty = replace(_session(3, "push_up", 0, None), no_reps=0)
    rows = F.session_rows([_session(0, "push_up", 10, 8.0), empty], LABELS)
    assert rows[0]["id"] == 3 and rows[0]["attempts"] == 0
    assert F.newest_with_attempts(rows) == 0  # the newest set is empty: the one before
    assert F.newest_with_attempts(rows[:1]) == 3 and F.newest_with_attempts([]) is None
    assert rows[1]["fix"] == "" and F.fmt_correction(1) == f"+1 {F.CORRECTED_MARK}"
    in_plan = replace(empty, plan_session_id=7, block=1, round=2)
    assert F.session_rows([in_plan], LABELS)[0]["workout"] == "Push Ups (plan block 2, round 2)"
    assert F.fmt_correction(-2).startswith("-2")


def test_board_rows_mark_a_corrected_count() -> None:
    (row,) = F.board_rows([BoardRow("Bob", 1, 5, 0, 5, 9, NOW, None, corrected=True)])
    assert row["best"].startswith(f"5 {F.CORRECTED_MARK} (")


def test_a_plank_shows_its_time_held_on_history_and_boards() -> None:
    plank = replace(_session(0, "plank", 0, None), no_reps=0, hold_s=65.4)
    (row,) = F.session_rows([plank], LABELS)
    assert row["reps"] == "1:05 held"
    assert F.count_words(row["reps"]) == "1:05 held" and F.count_words(12) == "12 reps"
    (best,) = F.board_rows([BoardRow("Bob", 1, 0, 0, 0, 9, NOW, None, best_hold_s=65.4)])
    assert best["best"].startswith("1:05 held (")
    (reps,) = F.session_rows([_session(0, "push_up", 10, 8.0)], LABELS)
    assert reps["reps"] == 10  # a set of reps: its count, as before
    fig = F.history_figure([plank, _session(1, "push_up", 10, 8.0)], LABELS)
    top = {t.name: list(t.y) for t in fig.data if t.yaxis == "y"}
    assert top == {"plank (s held)": [65.4], "Push Ups": [10]}  # seconds held; reps
    pace = {t.name: list(t.y) for t in fig.data if t.yaxis == "y2"}
    assert pace == {"plank (s held)": [None], "Push Ups": [8.0]}  # a hold has no pace
    assert fig.layout.yaxis.title.text == "good reps / s held"


def test_block_cards_show_drift_against_the_first_block() -> None:
    first = replace(_session(0, "push_up", 10, 15.0), round=1)
    second = replace(_session(1, "push_up", 8, 12.0), correction=1, round=2)
    blocks = [
        BlockSummary(first, 15.0, None, None),
        BlockSummary(second, 13.5, -10.0, "slowing"),
    ]
    one, two = F.block_cards(blocks, LABELS)
    assert one["title"] == "1. Push Ups, round 1" and one["drift"] == "first block"
    assert two["reps"] == f"9 {F.CORRECTED_MARK}" and two["drift"] == "slowing -10 %"
    assert two["drift_kind"] == "slowing"
    assert two["detail"] == "referee 8, 1 no-reps, pace 13.5"
    assert one["detail"] == "1 no-reps, pace 15.0"
    assert F.fmt_drift(None, None).endswith("not enough reps yet")
    assert F.fmt_drift("faster", 8.0) == "Pace drift: faster +8 % vs the first reps"
