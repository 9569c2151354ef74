"""The workout screen for the room (``/workout``) and its kiosk twin (``/tv``).

The layout is static: ``static/hiitpi-live.js`` polls ``GET /api/status`` at 5 Hz and fills it
in (count, interval clock, target, next block, last no-rep, pace drift) and derives the sound,
voice and flash cues from changes; buttons carry ``data-command`` and post ``/api/command``
(the browser's session is the owner), asking first where a set would end. ``/tv`` has the same
screen without any control, for a TV driven from a phone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from dash import dcc, html

from hiitpi.web.dashboard import ids as I
from hiitpi.web.dashboard.context import Dashboard

CUES = (("sound", "Sound"), ("voice", "Voice"), ("flash", "Flash"))


def _data(**attrs: str) -> Any:
    return {f"data-{k.replace('_', '-')}": v for k, v in attrs.items()}


def _aria(**attrs: str) -> Any:
    return {f"aria-{k}": v for k, v in attrs.items()}


def _button(text: str, command: str, cls: str = "", **data: str) -> html.Button:
    return html.Button(text, className=cls, **_data(command=command, **data))


def _fix(text: str, delta: str, which: str) -> html.Button:
    """A +1/-1 correction of the running (``current``) or the last set."""
    shown = "when-active" if which == "current" else "when-idle"
    tone = "secondary " if delta.startswith("-") else ""
    return _button(text, "adjust", f"{tone}{shown} when-mine", delta=delta, set=which)


def _select(sid: str, placeholder: str, options: Sequence[tuple[str, str]], value: str) -> Any:
    children = [html.Option(placeholder, value="")] + [
        html.Option(label, value=v, selected=v == value) for v, label in options
    ]
    return html.Select(children, id=sid, **_aria(label=placeholder))


def _controls(ctx: Dashboard, plans: Sequence[tuple[str, str]], preselect: str | None) -> Any:
    exercises = [(I.RANDOM_WORKOUT, "Random exercise")] + [
        (ex.id, ex.label) for ex in ctx.exercises
    ]
    plan = html.Div(
        [
            _select(I.PLAN_SELECT, "choose a plan", plans, ""),
            _button("Start plan", "start", "", select=I.PLAN_SELECT, field="plan"),
            dcc.Link("Plans…", href="/plans", className="button secondary"),
        ],
        className="group start-group",
    )
    single = html.Div(
        [
            _select(I.EXERCISE_SELECT, "or one exercise", exercises, preselect or ""),
            _button("Start set", "start", "secondary", select=I.EXERCISE_SELECT, field="exercise"),
        ],
        className="group start-group",
    )
    running = html.Div(
        [
            _button("Pause", "pause", "secondary when-running when-mine"),
            _button("Resume", "resume", "when-paused when-mine"),
            _button("Skip block", "skip", "secondary when-active when-plan when-mine"),
            _button("End", "stop", "danger when-active when-mine"),
            _button("End their session", "stop", "danger when-watching"),
            _fix("−1", "-1", "current"),
            _fix("+1", "1", "current"),
            _fix("Last set −1", "-1", "last"),
            _fix("Last set +1", "1", "last"),
        ],
        className="group",
    )
    who = html.Div(
        [
            html.Span("Player "),
            html.Strong("-", id=I.CURRENT_PLAYER),
            html.Button("Exit?", id=I.EXIT_BUTTON, n_clicks=0, className="secondary"),
            *_cue_switches(),
        ],
        className="group who",
    )
    return html.Div([who, plan, single, running], className="controls")


def _cue_switches() -> list[html.Button]:
    """Sound, voice and flash on/off, remembered by the browser (hiitpi-cues.js)."""
    return [html.Button(text, **_data(cue=cue)) for cue, text in CUES]


def _info() -> html.Div:
    line = "live-line"
    return html.Div(
        [
            html.Div(
                [
                    html.Div("0", id=I.LIVE_COUNT, **_aria(live="polite")),
                    html.Div(
                        [
                            html.Span("", id=I.LIVE_TARGET),
                            html.Span("reps", id=I.LIVE_COUNT_NOTE),
                        ],
                        className="count-side",
                    ),
                ],
                className="count-box",
            ),
            html.Div(
                [html.Div("READY", id=I.LIVE_PHASE), html.Div("--", id=I.LIVE_CLOCK)],
                className="clock-box",
            ),
            html.Div("", id=I.LIVE_TITLE, className=line),
            html.Div("", id=I.LIVE_ROUND, className=line),
            html.Div("", id=I.LIVE_NEXT, className=line),
            html.Div("", id=I.LIVE_NO_REP, className=line),
            html.Div("", id=I.LIVE_PACE, className=line),
            html.Div("", id=I.LIVE_DRIFT, className=line),
            html.Div("", id=I.LIVE_OWNER, className=line),
            html.Div("", id=I.LIVE_MESSAGE, className=line),
        ],
        className="live-info",
    )


def _overlays(kiosk: bool) -> list[Any]:
    out: list[Any] = [
        html.Div(id=I.FLASH),
        html.Div("Tap anywhere to turn sound on", id=I.AUDIO_UNLOCK, role="status"),
    ]
    if not kiosk:
        dialog = html.Div(
            [
                html.P("", id=I.CONFIRM_TEXT),
                html.Div(
                    [
                        html.Button("Cancel", id=I.CONFIRM_NO, className="secondary"),
                        html.Button("Yes", id=I.CONFIRM_YES, className="danger"),
                    ],
                    className="row",
                ),
            ],
            className="dialog",
            role="dialog",
        )
        out.append(html.Div(dialog, id=I.CONFIRM, hidden=True))
    return out


def screen(
    ctx: Dashboard,
    player: str | None,
    plans: Sequence[tuple[str, str]],
    preselect: str | None = None,
    *,
    kiosk: bool = False,
) -> html.Div:
    """The live screen; ``kiosk`` leaves out every control (``/tv``)."""
    live = html.Div(
        [
            _info(),
            html.Div(
                html.Img(id=I.VIDEO, src="/videostream", alt="live video"),
                className="live-video",
            ),
        ],
        className="live",
    )
    body: list[Any] = [live, *_overlays(kiosk)]
    if kiosk:  # no workout control; only this screen's own sound, voice and flash
        body.insert(0, html.Div(_cue_switches(), className="kiosk-cues"))
    else:
        body = [_controls(ctx, plans, preselect), html.Div(id=I.COMMAND_FEEDBACK), *body]
    labels = json.dumps({ex.id: ex.label for ex in ctx.exercises})
    attrs = _data(me=player or "", state="idle", plan="0", mine="0", watching="0", labels=labels)
    if kiosk:
        attrs["data-kiosk"] = "1"
    return html.Div(html.Div(body, id=I.LIVE_SCREEN, **attrs), className="live-page")
