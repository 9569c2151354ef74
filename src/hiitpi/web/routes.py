"""The minimal web app: a live page, the MJPEG stream, a JSON API and a health check.

The web never referees: it reads the engine's snapshots from the live store and sends commands
through it. Routes are kept stable for scripts: ``/videostream``, ``GET /api/status``,
``GET /healthz``, ``POST /api/command``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from dash.exceptions import DependencyException
from flask import (
    Flask,
    Response,
    jsonify,
    redirect,
    render_template_string,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException

from hiitpi.config import Settings
from hiitpi.errors import StoreError
from hiitpi.live.base import LiveStore
from hiitpi.referee import available_definitions, list_exercises
from hiitpi.web import security
from hiitpi.web.commands import command_body, parse_command, send_and_wait
from hiitpi.web.health import RedisProbe, health, read_state
from hiitpi.web.page import INDEX
from hiitpi.web.sessions import owner_token
from hiitpi.web.stream import BOUNDARY, RAW_OUT, FrameHub, MjpegStream, ViewerBudget

log = logging.getLogger(__name__)
# routes where a bad path is a client's mistake (Dash raises from inside them)
CLIENT_PATH_PREFIXES = ("/_dash-component-suites/", "/assets/")

STALE_S = 5.0  # a snapshot older than this means the engine is not running
_PRIVATE = ("owner", "answers")  # engine-side fields the API never shows


def _session_view(out: dict[str, Any], age: float) -> None:
    """The contract's session keys: counts, corrected count and a clock true to this moment."""
    out["count"] = out["reps"]
    out["corrected"] = max(0, out["reps"] + int(out.get("correction") or 0))
    out["last_no_rep"] = out.get("last_reason")
    remaining = out.get("remaining_s")
    if remaining is not None and not out.get("paused") and out["engine_running"]:
        # the snapshot is ``age`` old: every page shows the same clock, however late it reads
        out["remaining_s"] = round(max(0.0, remaining - age), 2)
        if out.get("elapsed_s") is not None:
            out["elapsed_s"] = round(out["elapsed_s"] + age, 2)
    nxt = out.get("next")
    out["next_name"] = None if nxt is None else _LABELS.get(nxt, nxt)
    # the engine's message for a person ("the video ended") wins over the referee's ("Go!")
    out["referee_message"] = out.pop("_referee_message", None)
    out["message"] = out.get("message") or out["referee_message"] or None


_LABELS = {ex.id: ex.label for ex in list_exercises()}


_UNKNOWN_WITHOUT_SNAPSHOT = (
    "reps",
    "no_reps",
    "pace",
    "count",
    "correction",
    "corrected",
)  # numbers nobody can know without a snapshot: null, never a made-up 0


def _status(store: LiveStore, probe: RedisProbe, owner: str | None = None) -> dict[str, Any]:
    snap, read_error = read_state(store, probe)
    redis = probe.check()  # after a failed read: that failure
    out: dict[str, Any] = {
        "station": store.station,
        # the web's own link to Redis: ok, state ("ok", "down", "refuses_writes"), error
        "redis": redis,
        "engine_running": False,
        "workout": None,
        "active": False,
        "reps": 0,
        "no_reps": 0,
        "pace": 0.0,
        "phase": None,
        "last_reason": None,
        "message": None,
        "referee_message": None,
        "count": 0,
        "correction": 0,
        "corrected": 0,
        "last_no_rep": None,
        "plan": None,
        "interval": None,
        "remaining_s": None,
        "next": None,
        "next_name": None,
        "paused": False,
        "player": None,
        "session_id": None,
        "drift": None,
        "drift_pct": None,
        "role": "viewer",
        "view": None,
        "view_confidence": 0.0,
        "form_judged": True,
        "form_reason": None,
    }
    if snap is None:
        out.update(dict.fromkeys(_UNKNOWN_WITHOUT_SNAPSHOT))
        out["health"] = health(None, False, redis, read_error)
        return out
    age = time.time() - snap.updated
    out.update(snap.status.to_dict())
    out.pop("health", None)  # merged with the web's own view below
    out["player"] = snap.status.player or None
    mine = snap.status.owner is not None and snap.status.owner == owner
    out["role"] = "owner" if mine or not snap.status.busy else "viewer"
    out["busy"] = snap.status.busy
    for key in _PRIVATE:
        out.pop(key, None)
    out["engine_running"] = snap.status.running and age < STALE_S
    out["updated_s_ago"] = round(age, 2)
    if snap.state is not None:
        s = snap.state
        out.update(
            workout=s.exercise,
            reps=s.reps,
            no_reps=s.no_reps,
            pace=s.pace,
            phase=s.phase,
            last_reason=s.last_reason,
            _referee_message=s.message,
            hold_s=s.hold_s,
            view=s.view,
            view_confidence=s.view_confidence,
            form_judged=s.form_judged,
            form_reason=s.form_reason,
        )
    _session_view(out, age)
    out["health"] = health(snap, out["engine_running"], redis, None)  # after the engine's own
    return out


def _error(message: str, code: int) -> tuple[Response, int]:
    return jsonify({"ok": False, "error": message}), code


def create_app(
    store: LiveStore, settings: Settings, *, index: bool = True, frames: FrameHub | None = None
) -> Flask:
    """The Flask app over ``store``. ``app.extensions['hiitpi_stopping']`` ends open streams.

    The plain page is at ``/plain``, and at ``/`` unless ``index=False`` (which leaves ``/`` to
    the dashboard: ``mount_dashboard(app, store, history, settings)``). ``frames``: the hub the
    streams read (a local one that this process's engine feeds); else one that reads the store.
    """
    app = Flask(__name__)
    app.config["JSON_SORT_KEYS"] = False
    # larger bodies get 413 before anything parses them (the server refuses them too)
    app.config["MAX_CONTENT_LENGTH"] = settings.web.max_body_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.web.max_body_bytes
    exercises = available_definitions(settings.user_exercises_dir)  # built-in, then the user's
    known = {ex.id for ex in exercises}
    hub = frames if frames is not None else FrameHub(store)
    stopping = hub.stopping
    viewers = ViewerBudget(settings.web.max_viewers)
    probe = RedisProbe(store)
    app.extensions["hiitpi_stopping"] = stopping
    app.extensions["hiitpi_frames"] = hub
    app.extensions["hiitpi_viewers"] = viewers
    client = getattr(store, "client", None)
    if client is not None:  # Flask sessions in Redis, in their own database number
        from hiitpi.web.sessions import RedisSessionInterface, session_client

        station = str(getattr(store, "station", "default"))
        app.session_interface = RedisSessionInterface(
            session_client(client), station, settings.web.max_sessions
        )
    security.install(app, settings)  # Host allow-list, CSRF and the PIN, before every request

    def plain() -> str:
        snap = store.get_state()
        player = snap.status.player if snap is not None and snap.status.player else ""
        player = player or str(session.get("player", ""))  # this device's last player
        return render_template_string(INDEX, exercises=exercises, player=player)

    app.add_url_rule("/plain", "plain", plain)
    if index:
        app.add_url_rule("/", "index", plain)

    @app.get("/videostream")
    def videostream() -> Response | tuple[Response, int]:
        """The stream, while a viewer slot is free: extras get 503 "too many viewers"."""
        if not viewers.try_acquire():
            body, code = _error(f"too many viewers (web.max_viewers = {viewers.limit})", 503)
            body.headers["Retry-After"] = "10"
            return body, code
        return Response(
            MjpegStream(store, hub, viewers, request.environ.get(RAW_OUT)),
            mimetype=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
            headers={"Cache-Control": "no-cache, no-store", "X-Accel-Buffering": "no"},
            direct_passthrough=True,
        )

    @app.get("/api/status")
    def status() -> Response:
        return jsonify(_status(store, probe, session.get("owner")))

    @app.get("/api/exercises")
    def exercises_api() -> Response:
        return jsonify([{"id": ex.id, "label": ex.label, "kind": ex.kind} for ex in exercises])

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        """200 while the station can referee: the engine runs and publishes, its camera
        delivers frames and the pose model and the referee work on them; 503 otherwise, naming
        the part that failed. ``health`` has every part (Redis, engine, camera, database, the
        engine's live-store link, the referee) separately."""
        s = _status(store, probe)
        parts = s["health"]
        redis, camera = parts["redis"], parts["camera"]
        error: str | None
        if redis["ok"] is False:  # down, or refusing writes (then no engine can publish)
            error = f"live store: {redis['error']}"
        elif not s["engine_running"]:
            age = s.get("updated_s_ago")
            error = (
                "no engine has published on this station"
                if age is None
                else f"the engine is not publishing (last update {age:.0f} s ago)"
            )
        elif camera["ok"] is False or s.get("source_ended"):
            error = camera.get("error") or s.get("error") or f"{s.get('source')} delivers no frames"
        elif parts["referee"]["ok"] is False:  # the frames come, but nothing can count them
            error = parts["referee"]["error"]
        else:
            error = None
        body = {
            "ok": error is None,
            "redis": redis["ok"],
            "engine_running": s["engine_running"],
            "source_ok": camera["ok"],
            "error": error,
            "health": parts,
        }
        return jsonify(body), 200 if error is None else 503

    @app.post("/api/command")
    def command() -> Any:
        data = command_body(request)  # BadRequest (400) with a one-line reason
        try:
            cmd = parse_command(
                data, known, owner_token(session), session.get("player"), settings.data_dir
            )
        except LookupError as exc:
            return _error(str(exc.args[0]), 404)
        except ValueError as exc:
            return _error(str(exc), 400)
        if cmd.player and cmd.kind.value in ("set_player", "start"):
            session["player"] = cmd.player  # remembered for this browser
        body, code = send_and_wait(store, cmd, lambda: _status(store, probe, cmd.owner))
        wants_json = request.is_json or request.accept_mimetypes.best == "application/json"
        if not wants_json:
            return redirect(url_for("index" if index else "plain"), code=303)
        return jsonify(body), code

    @app.errorhandler(StoreError)
    def store_error(exc: StoreError) -> tuple[Response, int]:
        return _error(str(exc), 503)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if request.path.startswith("/api/"):
            return _error(exc.description or exc.name, exc.code or 500)
        return exc

    @app.errorhandler(DependencyException)
    @app.errorhandler(OSError)
    @app.errorhandler(KeyError)
    def bad_client_path(exc: Exception) -> Any:
        """A made-up path under Dash's asset routes is the client's error: one line, 404."""
        if request.path.startswith(CLIENT_PATH_PREFIXES):
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            log.info("404 %s: %s", request.path[:200], reason[:200])
            return "not found\n", 404
        log.error("Exception on %s [%s]", request.path, request.method, exc_info=exc)
        return _error("internal server error", 500)

    app.config["HIITPI_SETTINGS"] = settings
    return app
