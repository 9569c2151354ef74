"""The dashboard's side of the station PIN: which callbacks only read, and the lock notice.

Dash callbacks are all POSTs, so the guard cannot tell a view from a change by the method. It
lets a locked browser run a callback only when every output of it is listed here: a callback
that is not listed needs the PIN (a new one is protected until someone declares it harmless).
Those that change state, and so are not here: the Welcome login (it names the station's
player) and the plan editor's Save.
"""

from __future__ import annotations

from typing import Any

from dash import html

from hiitpi.web.dashboard import ids as I

READ_ONLY_OUTPUTS = frozenset(
    [
        I.PAGE,  # routing: a page's layout
        I.URL,  # Exit? (forgets this tab's player: the browser's own memory)
        I.PLAYER_MEMORY,
        I.PLAN_NAME,  # loading a saved plan into the editor's fields
        I.PLAN_EXERCISE,
        I.PLAN_KIND,
        I.PLAN_WORK,
        I.PLAN_TARGET,
        I.PLAN_REST,
        I.PLAN_ROUNDS,
        I.PLAN_COUNTDOWN,
        I.HISTORY_CHART,  # history, timeline, status and the developer chart
        I.HISTORY_SESSIONS,
        I.HISTORY_SESSION,
        I.EXPORT_LINK,
        I.TIMELINE_CHART,
        I.TIMELINE_TABLE,
        I.HISTORY_BLOCKS,
        I.STATUS_TABLE,
        I.LIVE_CHART,
        I.LIVE_CURSOR,
    ]
)


def lock_notice(back: str = "/") -> Any:
    """What this browser may do: unlock (PIN set), or set a PIN (none yet); None when unlocked.

    Called while a page is rendered (inside the routing callback's request).
    """
    from hiitpi.web.security import guard

    found = guard()
    if found is None:
        return None
    if not found.credentials.has_pin():
        return html.P(
            [
                "No station PIN: anyone on this network can control this station. ",
                html.A("Set a PIN", href=f"/login?next={back}"),
            ],
            id=I.LOCK_NOTICE,
            className="muted",
        )
    if found.authorized():
        return None
    return html.Div(
        [
            html.Strong("This station is locked."),
            " You can watch; starting, stopping and naming a player need the PIN. ",
            html.A("Unlock with the PIN", href=f"/login?next={back}", className="button"),
        ],
        id=I.LOCK_NOTICE,
        className="lock",
    )
