"""Component ids of the dashboard, in one place: layouts, callbacks and browser tests share them.

Ids are plain strings (lowercase, dash-separated) so a Playwright selector is ``#<id>``.
"""

from __future__ import annotations

from typing import Final

# shell
URL: Final = "url"
NAV: Final = "nav"
PAGE: Final = "page"
PLAYER_MEMORY: Final = "player-memory"  # the browser tab's last player (session storage)

# welcome
PLAYER_INPUT: Final = "player-input"
PLAYER_PICK: Final = "player-pick"
LOGIN_BUTTON: Final = "login-button"
LOGIN_ERROR: Final = "login-error"

# workout
VIDEO: Final = "video"
CURRENT_PLAYER: Final = "current-player"
WORKOUT_DROPDOWN: Final = "workout-dropdown"
DONE_BUTTON: Final = "done-button"
EXIT_BUTTON: Final = "exit-button"
COMMAND_FEEDBACK: Final = "command-feedback"
LIVE_INTERVAL: Final = "live-interval"
LIVE_CURSOR: Final = "live-cursor"  # the metrics stream id the chart has reached
LIVE_CHART: Final = "live-chart"
IND_WORKOUT: Final = "indicator-workout"
IND_REPS: Final = "indicator-reps"
IND_NO_REPS: Final = "indicator-no-reps"
IND_LAST_REASON: Final = "indicator-last-reason"
IND_PACE: Final = "indicator-pace"
IND_ELAPSED: Final = "indicator-elapsed"
IND_PHASE: Final = "indicator-phase"
IND_MESSAGE: Final = "indicator-message"

# leaderboard
WEEK_CHART: Final = "week-chart"
BOARDS: Final = "workout-boards"

# history
HISTORY_PLAYER: Final = "history-player"
HISTORY_CHART: Final = "history-chart"
HISTORY_SESSIONS: Final = "history-sessions"
HISTORY_SESSION: Final = "history-session"
TIMELINE_CHART: Final = "timeline-chart"
TIMELINE_TABLE: Final = "timeline-table"
EXPORT_LINK: Final = "export-link"

# status
STATUS_INTERVAL: Final = "status-interval"
STATUS_TABLE: Final = "status-table"

RANDOM_WORKOUT: Final = "random"  # the dropdown's "Random" choice

ALL: Final = tuple(
    v for k, v in dict(globals()).items() if k.isupper() and k not in ("RANDOM_WORKOUT",)
)
