"""Every request passes here first (``before_request``): Host, then CSRF, then the PIN.

1. **Host** must be one of the station's (:mod:`.hosts`): 400 otherwise (DNS rebinding).
2. **CSRF**, for every method that can change state (anything but GET/HEAD/OPTIONS): an
   ``Origin`` header, when sent, must be this very origin, and ``Sec-Fetch-Site``, when sent,
   ``same-origin``; and the request must prove it was written by the station's own page: the
   ``X-CSRFToken`` header (or a ``csrf_token`` form field) equal to the ``_csrf_token`` cookie
   (a double-submit cookie: a page of another origin can neither read nor set it; Dash's
   renderer sends exactly this header from exactly this cookie), or an API credential in a
   header (``Authorization: Bearer <api token>`` or ``X-HIITPI-PIN``), which another origin
   cannot send without a CORS preflight that the station never grants. Otherwise 403.
3. **PIN**, when one is set: every state-changing request needs a logged-in session or an API
   credential (401); with ``web.pin_to_view`` viewing needs it too (pages redirect to
   ``/login``). Dash callbacks are all POSTs: those whose outputs are all in the read-only set
   the dashboard registers (``app.extensions["hiitpi_read_only_outputs"]``) count as viewing,
   every other one as a change, so a new callback is protected until it is declared harmless.

The cookie token is not kept on the server: no request creates server state before it passed
these checks (see :mod:`hiitpi.web.sessions` for when a session is created).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from typing import Any
from urllib.parse import quote, urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_app_context,
    jsonify,
    redirect,
    request,
    session,
)
from werkzeug.wrappers import Response as BaseResponse

from hiitpi.web.security.credentials import Credentials
from hiitpi.web.security.hosts import HostAllowList, split_host
from hiitpi.web.security.throttle import PinThrottle

log = logging.getLogger(__name__)

CSRF_COOKIE = "_csrf_token"  # Dash's renderer default: it sends this cookie as X-CSRFToken
CSRF_HEADER = "X-CSRFToken"
CSRF_FIELD = "csrf_token"
PIN_HEADER = "X-HIITPI-PIN"
CSRF_MAX_AGE_S = 365 * 24 * 3600
SAFE_METHODS = frozenset(["GET", "HEAD", "OPTIONS"])
DASH_CALLBACK = "/_dash-update-component"
READ_ONLY_KEY = "hiitpi_read_only_outputs"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
# reachable without the PIN even when viewing needs it: the login page, its style, liveness
_OPEN_PREFIXES = ("/login", "/logout", "/healthz", "/assets/", "/_dash-component-suites/")
_OPEN_PATHS = frozenset(["/_favicon.ico", "/favicon.ico"])


def _answer(message: str, code: int, **headers: str) -> Response:
    """One line: JSON for the API and Dash, plain text for the rest."""
    if request.path.startswith(("/api/", "/_dash-")) or request.is_json:
        resp = jsonify({"ok": False, "error": message})
    else:
        resp = Response(message + "\n", mimetype="text/plain")
    resp.status_code = code
    resp.headers.update(headers)
    return resp


def _same_origin(origin: str, host_header: str, scheme: str) -> bool:
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        return False
    mine, theirs = split_host(host_header), split_host(parts.netloc)
    if mine is None or theirs is None:
        return False
    default = {"http": 80, "https": 443}
    return mine[0] == theirs[0] and (mine[1] or default.get(scheme, 80)) == (
        theirs[1] or default[parts.scheme]
    )


def _read_only_callback(app: Flask) -> bool:
    """Is this Dash callback one whose outputs the dashboard declared read-only?"""
    allowed = app.extensions.get(READ_ONLY_KEY) or frozenset()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return False
    outputs = body.get("outputs")
    outputs = [outputs] if isinstance(outputs, dict) else outputs
    if not isinstance(outputs, list) or not outputs:
        return False
    return all(
        isinstance(o, dict) and isinstance(o.get("id"), str) and o["id"] in allowed for o in outputs
    )


class Guard:
    """The checks of one app; ``install`` hooks them in. ``authorized()`` is for the views."""

    def __init__(self, credentials: Credentials, hosts: HostAllowList, pin_to_view: bool):
        self.credentials = credentials
        self.hosts = hosts
        self.pin_to_view = pin_to_view
        self.throttle = PinThrottle()
        self._good_pins: dict[str, str] = {}  # sha256(pin) -> fingerprint it was checked under

    # -- helpers the views use -------------------------------------------------------------
    def client(self) -> str:
        return request.remote_addr or "?"

    def csrf_token(self) -> str:
        """This browser's token (the cookie's, or the one this response sets)."""
        token = g.get("hiitpi_csrf")
        if token is None:
            cookie = request.cookies.get(CSRF_COOKIE, "")
            token = cookie if _TOKEN.match(cookie) else secrets.token_urlsafe(32)
            g.hiitpi_csrf = token
        return str(token)

    def logged_in(self) -> bool:
        fp = self.credentials.fingerprint()
        return fp is not None and hmac.compare_digest(str(session.get("auth", "")), fp)

    def authorized(self) -> bool:
        """May this request change state? (no PIN set, a login, or an API credential)"""
        return (
            not self.credentials.has_pin() or bool(g.get("hiitpi_credential")) or self.logged_in()
        )

    def try_pin(self, pin: str) -> tuple[bool, float]:
        """(right, seconds to wait): a PIN try, rate-limited per client and overall."""
        client = self.client()
        wait = self.throttle.wait_s(client)
        if wait > 0:
            return False, wait
        if self.credentials.verify_pin(pin):
            self.throttle.succeeded(client)
            return True, 0.0
        self.throttle.failed(client)
        log.warning("wrong station PIN from %s", client)  # the owner can see a guessing run
        return False, 0.0

    def too_many(self, wait: float) -> Response:
        retry = str(int(wait) + 1)
        return _answer(
            f"too many wrong PINs: try again in {retry} s", 429, **{"Retry-After": retry}
        )

    def may_create_session(self) -> bool:
        """A new session is stored only for a login, or (no PIN set) for a browser's change
        that passed the CSRF check: never for a script's call or a mere view."""
        if g.get("hiitpi_login"):
            return True
        return bool(g.get("hiitpi_browser")) and not self.credentials.has_pin()

    # -- the hooks ---------------------------------------------------------------------------
    def _token_ok(self) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not _TOKEN.match(cookie):
            return False
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.mimetype in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            sent = request.form.get(CSRF_FIELD)
        return sent is not None and hmac.compare_digest(sent.encode(), cookie.encode())

    def _credential(self) -> Response | str | None:
        """'token' or 'pin' for a valid API credential, None without one, or an error answer."""
        auth = request.headers.get("Authorization", "")
        if auth:
            scheme, _, value = auth.partition(" ")
            if scheme.lower() == "bearer" and self.credentials.check_api_token(value.strip()):
                return "token"
            return _answer("wrong API token (see `hiitpi pin token`)", 401)
        pin = request.headers.get(PIN_HEADER)
        if pin is None:
            return None
        if not self.credentials.has_pin():
            return _answer("this station has no PIN: send the API token instead", 401)
        digest = hashlib.sha256(pin.encode()).hexdigest()
        if self._good_pins.get(digest) == self.credentials.fingerprint():
            return "pin"  # checked before: scrypt once, not on every request of a script
        ok, wait = self.try_pin(pin)
        if wait:
            return self.too_many(wait)
        if not ok:
            return _answer("wrong PIN", 401)
        self._good_pins = {digest: self.credentials.fingerprint() or ""}
        return "pin"

    def _cross_site(self) -> str | None:
        """Why this request comes from another site, or None."""
        origin = request.headers.get("Origin")
        if origin is not None and not _same_origin(origin, request.host, request.scheme):
            return f"cross-origin request from {origin[:80]} refused"
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site not in ("same-origin", "none"):
            return f"{site} request refused"
        return None

    def _locked(self) -> BaseResponse:
        page = not request.path.startswith(("/api/", "/_dash-", "/videostream"))
        if request.method in SAFE_METHODS and page:
            return redirect("/login?next=" + quote(request.full_path.rstrip("?"), safe="/"))
        return _answer(
            f"this station is locked: log in at /login, or send {PIN_HEADER} or the API token",
            401,
            **{"WWW-Authenticate": 'HIITPI-PIN realm="station"'},
        )

    def before(self) -> BaseResponse | None:
        parsed = split_host(request.host)
        if parsed is None or not self.hosts.allows(parsed[0]):
            log.info("refused Host %r from %s", request.host[:80], request.remote_addr)
            return _answer(
                f"host not allowed: {request.host[:80]} (add it to web.allowed_hosts)", 400
            )
        g.hiitpi_credential = None
        g.hiitpi_browser = False
        path = request.path
        open_path = path.startswith(_OPEN_PREFIXES) or path in _OPEN_PATHS
        if request.method in SAFE_METHODS:
            if self.pin_to_view and not open_path and not self.authorized():
                credential = self._credential()
                if isinstance(credential, Response):
                    return credential
                if credential is None:
                    return self._locked()
                g.hiitpi_credential = credential
            return None
        why = self._cross_site()
        if why is not None:
            log.info("CSRF: %s (%s %s)", why, request.method, path)
            return _answer(why, 403)
        credential = self._credential()
        if isinstance(credential, Response):
            return credential
        if credential is None and not self._token_ok():
            return _answer(
                "CSRF token missing or wrong: reload the page (a script sends "
                '"Authorization: Bearer <token>" instead: hiitpi pin token)',
                403,
            )
        g.hiitpi_credential = credential
        g.hiitpi_browser = credential is None  # the page's own token: a browser
        if open_path or self.authorized():
            return None
        if path == DASH_CALLBACK and not self.pin_to_view and _read_only_callback(current_app):
            return None
        return self._locked()

    def after(self, response: Response) -> Response:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not _TOKEN.match(cookie) or g.get("hiitpi_csrf", cookie) != cookie:
            response.set_cookie(
                CSRF_COOKIE,
                self.csrf_token(),
                max_age=CSRF_MAX_AGE_S,
                samesite="Strict",
                secure=request.is_secure,
                httponly=False,  # the page's scripts copy it into the X-CSRFToken header
                path="/",
            )
        return response

    def install(self, app: Flask) -> None:
        app.before_request(self.before)
        app.after_request(self.after)
        app.context_processor(lambda: {"csrf_token": self.csrf_token})
        app.extensions["hiitpi_guard"] = self


def guard(app: Any = None) -> Guard | None:
    """The current app's guard (None outside an app, or for an app built without one)."""
    if app is None and not has_app_context():
        return None
    found = (app or current_app).extensions.get("hiitpi_guard")
    return found if isinstance(found, Guard) else None
