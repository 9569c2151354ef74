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

# workout and /tv (the live screen; hiitpi-live.js fills these in)
LIVE_SCREEN: Final = "live-screen"
VIDEO: Final = "video"
CURRENT_PLAYER: Final = "live-player"
LIVE_COUNT: Final = "live-count"
LIVE_COUNT_NOTE: Final = "live-count-note"
LIVE_TARGET: Final = "live-target"
LIVE_PHASE: Final = "live-phase"
LIVE_CLOCK: Final = "live-clock"
LIVE_TITLE: Final = "live-title"
LIVE_ROUND: Final = "live-round"
LIVE_NEXT: Final = "live-next"
LIVE_NO_REP: Final = "live-no-rep"
LIVE_DRIFT: Final = "live-drift"
LIVE_PACE: Final = "live-pace"
LIVE_MESSAGE: Final = "live-message"
LIVE_OWNER: Final = "live-owner"
PLAN_SELECT: Final = "plan-select"
EXERCISE_SELECT: Final = "exercise-select"
COMMAND_FEEDBACK: Final = "command-feedback"
CONFIRM: Final = "confirm"
CONFIRM_TEXT: Final = "confirm-text"
CONFIRM_YES: Final = "confirm-yes"
CONFIRM_NO: Final = "confirm-no"
AUDIO_UNLOCK: Final = "audio-unlock"
FLASH: Final = "flash"
EXIT_BUTTON: Final = "exit-button"

# plan editor
PLAN_EDIT: Final = "plan-edit"
PLAN_LOAD: Final = "plan-load"
PLAN_NAME: Final = "plan-name"
PLAN_KIND: Final = "plan-kind"
PLAN_EXERCISE: Final = "plan-exercise"
PLAN_WORK: Final = "plan-work"
PLAN_TARGET: Final = "plan-target"
PLAN_REST: Final = "plan-rest"
PLAN_ROUNDS: Final = "plan-rounds"
PLAN_COUNTDOWN: Final = "plan-countdown"
PLAN_SAVE: Final = "plan-save"
PLAN_FEEDBACK: Final = "plan-feedback"
PLANS_LIST: Final = "plans-list"

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

# history: a plan session's blocks side by side
HISTORY_BLOCKS: Final = "history-blocks"

# status (with the developer chart: inference ms and pose score)
STATUS_INTERVAL: Final = "status-interval"
STATUS_TABLE: Final = "status-table"
LIVE_INTERVAL: Final = "live-interval"
LIVE_CURSOR: Final = "live-cursor"  # the metrics stream id the chart has reached
LIVE_CHART: Final = "live-chart"

LOCK_NOTICE: Final = "lock-notice"  # Welcome and Plans: unlock with the PIN, or set one

RANDOM_WORKOUT: Final = "random"  # the exercise list's "Random" choice (picked in the page)

ALL: Final = tuple(
    v for k, v in dict(globals()).items() if k.isupper() and k not in ("RANDOM_WORKOUT",)
)
