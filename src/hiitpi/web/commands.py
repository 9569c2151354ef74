"""``POST /api/command``: a request body -> a typed :class:`Command`, and the engine's answer.

The web never decides for the engine: it sends the command through the live store and, while
an engine publishes, waits (up to :data:`ANSWER_WAIT_S`) for that engine's answer to this very
command (by its stream id), so a browser learns at once whether it started, or that the station
is ``busy`` with someone else's session. Without a running engine the command stays queued
(202) for the engine that starts next.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Request
from werkzeug.exceptions import BadRequest

from hiitpi.core.names import validate_player
from hiitpi.live.base import AdjustTarget, Command, CommandKind, LiveStore

ANSWER_WAIT_S = 3.0
_POLL_S = 0.03
_ACTIONS = ", ".join(k.value for k in CommandKind)
REFUSAL_HINTS = {  # what a script does about a refusal (the pages ask the person instead)
    "busy": "another player's session is running: send the same command with "
    '"confirm": true to end it (start, stop and set_player only)',
    "running": 'your set is running: send the same command with "confirm": true to end it first',
}


def command_body(request: Request) -> Mapping[str, Any]:
    """The body as a mapping: a JSON object, or a form. Anything else is a :class:`BadRequest`
    with a one-line reason (an array, a string, a number, a body nested too deep, bytes that
    are not UTF-8), never a 500. The size limit (413) applies while the body is read."""
    if not request.is_json:
        if not request.form and request.get_data(cache=True).lstrip()[:1] in (b"{", b"["):
            raise BadRequest(  # JSON sent as text/plain (curl -d without a header)
                "the body looks like JSON but is sent as "
                f"{request.mimetype or 'no Content-Type'}: send Content-Type: application/json"
            )
        return request.form
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except RecursionError:
        raise BadRequest("the JSON body is nested too deep") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise BadRequest(f"the body is not valid JSON: {str(exc).splitlines()[0][:120]}") from None
    if not isinstance(data, dict):
        raise BadRequest(f"the body must be a JSON object, not {type(data).__name__}")
    return data


def _text(data: Mapping[str, Any], key: str, default: str = "") -> str:
    """A text field: a JSON number or list where a name belongs is a 400, not a name."""
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, not {type(value).__name__}")
    return value


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true", "yes", "on")


def parse_command(
    data: Mapping[str, Any],
    exercises: set[str],
    owner: str,
    player: str | None,
    data_dir: Path | None = None,
) -> Command:
    """The command ``data`` asks for; ValueError (400) or LookupError (404) says what is wrong."""
    from hiitpi.plans import load_plan

    action = _text(data, "action")
    confirm = _flag(data.get("confirm", False))
    if not action:
        raise ValueError(f"missing action; valid: {_ACTIONS}")
    try:
        kind = CommandKind(action)
    except ValueError:
        raise ValueError(f"unknown action {action!r}; valid: {_ACTIONS}") from None
    if kind is CommandKind.START:
        name = (_text(data, "player") or player or "").strip()
        plan, exercise = _text(data, "plan"), _text(data, "exercise")
        if plan:
            from hiitpi.errors import PlanError

            try:
                load_plan(str(plan), data_dir)  # the engine loads it from the same place
            except PlanError as exc:
                raise LookupError(str(exc)) from None
            return Command(kind, plan=str(plan), player=name or None, owner=owner, confirm=confirm)
        if str(exercise or "") not in exercises:
            raise LookupError(
                f"unknown exercise {exercise!r}; valid: {', '.join(sorted(exercises))}"
            )
        return Command(
            kind, exercise=str(exercise), player=name or None, owner=owner, confirm=confirm
        )
    if kind is CommandKind.SET_PLAYER:
        name = validate_player(_text(data, "player"))
        return Command(kind, player=name, owner=owner, confirm=confirm)
    if kind is CommandKind.ADJUST:
        try:
            delta = int(data.get("delta", 0))
            which = AdjustTarget(_text(data, "set", "current"))
        except (ValueError, TypeError):
            raise ValueError("adjust takes delta 1 or -1 and set current or last") from None
        return Command(kind, delta=delta, target_set=which, owner=owner)
    return Command(kind, owner=owner, confirm=confirm)


def send_and_wait(
    store: LiveStore, cmd: Command, status: Callable[[], dict[str, Any]]
) -> tuple[dict[str, Any], int]:
    """Send ``cmd``; the engine's answer with the status after it, or 202 while none runs."""
    before = status()
    command_id = store.send_command(cmd)
    if not before.get("engine_running"):
        return {"ok": True, "error": None, "queued": True, "id": command_id}, 202
    deadline = time.monotonic() + ANSWER_WAIT_S
    while time.monotonic() < deadline:
        snap = store.get_state()
        answers = {} if snap is None else snap.status.answers
        if command_id in answers:
            error, owner = answers[command_id]
            body = status()
            if error is not None:
                out: dict[str, Any] = {"ok": False, "error": error}
                if error in ("busy", "running"):
                    out["owner"] = owner
                    out["hint"] = REFUSAL_HINTS[error]
                return out, 200 if error in ("busy", "running") else 400
            return {"ok": True, "error": None, "id": command_id, **_brief(body)}, 200
        time.sleep(_POLL_S)
    return {"ok": True, "error": None, "queued": True, "id": command_id}, 202


def _brief(body: dict[str, Any]) -> dict[str, Any]:
    keys = ("active", "workout", "plan", "interval", "player", "paused", "correction", "count")
    return {k: body.get(k) for k in keys}
