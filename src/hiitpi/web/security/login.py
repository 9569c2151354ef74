"""``/login``: unlock this device with the station PIN, set the PIN on first run, change it.

Plain forms (no script needed), each with the CSRF token; the guard checks them like any other
change. The page is self-contained (its style inline) so it shows even while the dashboard's
assets are behind the PIN. A login stores the PIN's fingerprint in a fresh session (a new id:
an id seen before the login grants nothing), so changing the PIN logs every device out.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, redirect, render_template_string, request, session
from werkzeug.wrappers import Response as BaseResponse

from hiitpi.web.security.credentials import PIN_MAX_LEN, PIN_MIN_LEN
from hiitpi.web.security.guard import Guard

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>HIIT PI: station PIN</title>
<style>
*,*::before,*::after{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
  background:#f4f5f7;color:#1f2328;font-size:20px}
nav{background:#1b1f24;padding:.6em 1em}
nav a{color:#7CFC9A;font-weight:700;font-size:1.3em;text-decoration:none}
main{max-width:520px;margin:1.5em auto;padding:0 .8em}
.card{background:#fff;border-radius:8px;padding:1.1em;box-shadow:0 1px 3px #0002;margin-bottom:1em}
h1{font-size:1.5em;margin:.2em 0 .5em} h2{font-size:1.15em;margin:.2em 0 .6em}
label{display:block;margin:.5em 0 .2em;color:#4b5563}
input{width:100%;font-size:1.4em;padding:.45em .6em;border:1px solid #9ca3af;border-radius:6px;
  letter-spacing:.1em}
button{font-size:1.1em;padding:.6em 1.2em;border:0;border-radius:6px;background:#2563eb;
  color:#fff;cursor:pointer;margin-top:.8em;width:100%}
button.secondary{background:#6b7280} button.danger{background:#b91c1c}
button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #f59e0b;
  outline-offset:2px}
.error{color:#b91c1c;font-weight:600} .ok{color:#15803d;font-weight:600} .muted{color:#6b7280}
p{margin:.4em 0}
</style></head>
<body><nav><a href="/">HIIT PI</a></nav><main>
<h1 id="pin-title">{{ title }}</h1>
{% if message %}<p id="pin-message" class="{{ kind }}">{{ message }}</p>{% endif %}
{% if state == "open" %}
<div class="card">
  <p>This station has no PIN: anyone on this network can start, stop and change its sets.</p>
  {% if fixed %}<p class="muted">The PIN is set in the config (web.pin_hash).</p>{% else %}
  <form method="post" action="/login/pin">
    <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
    <input type="hidden" name="action" value="set">
    <input type="hidden" name="next" value="{{ next }}">
    <label for="pin">New PIN or pass phrase ({{ min_len }} characters or more)</label>
    <input id="pin" name="pin" type="password" autocomplete="new-password"
      minlength="{{ min_len }}" maxlength="{{ max_len }}" required>
    <label for="pin2">The same again</label>
    <input id="pin2" name="pin2" type="password" autocomplete="new-password"
      maxlength="{{ max_len }}" required>
    <button id="pin-set">Set the PIN</button>
  </form>{% endif %}
</div>
{% elif state == "locked" %}
<div class="card">
  <form method="post" action="/login">
    <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
    <input type="hidden" name="next" value="{{ next }}">
    <label for="pin">Station PIN</label>
    <input id="pin" name="pin" type="password" autocomplete="current-password"
      maxlength="{{ max_len }}" required autofocus>
    <button id="pin-unlock">Unlock</button>
  </form>
</div>
{% else %}
<div class="card">
  <p class="ok">This device is unlocked.</p>
  <form method="post" action="/logout">
    <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
    <button id="pin-lock" class="secondary">Lock this device</button>
  </form>
  <p><a href="{{ next }}">Back to the station</a></p>
</div>
{% if not fixed %}
<div class="card">
  <h2>Change or remove the PIN</h2>
  <form method="post" action="/login/pin">
    <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
    <label for="current">Current PIN</label>
    <input id="current" name="current" type="password" autocomplete="current-password"
      maxlength="{{ max_len }}" required>
    <label for="pin">New PIN (not needed to remove it)</label>
    <input id="pin" name="pin" type="password" autocomplete="new-password"
      maxlength="{{ max_len }}">
    <label for="pin2">The new PIN again</label>
    <input id="pin2" name="pin2" type="password" autocomplete="new-password"
      maxlength="{{ max_len }}">
    <button id="pin-change" name="action" value="change">Change the PIN</button>
    <button id="pin-clear" name="action" value="clear" class="danger">Remove the PIN</button>
  </form>
</div>{% endif %}
{% endif %}
</main></body></html>
"""


def _next() -> str:
    """Where to go after the form: a local path only (never another site)."""
    target = str(request.values.get("next") or "/")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def register(app: Flask, guard: Guard) -> None:
    creds = guard.credentials

    def page(message: str = "", kind: str = "error", code: int = 200) -> Any:
        if not creds.has_pin():
            state, title = "open", "Set a station PIN"
        elif guard.logged_in():
            state, title = "unlocked", "Station PIN"
        else:
            state, title = "locked", "This station is locked"
        html = render_template_string(
            PAGE,
            state=state,
            title=title,
            message=message,
            kind=kind,
            next=_next(),
            fixed=bool(creds.configured_hash),
            min_len=PIN_MIN_LEN,
            max_len=PIN_MAX_LEN,
        )
        return html, code

    def log_in() -> BaseResponse:
        """A fresh session id holding the PIN's fingerprint (and what the old one held)."""
        regenerate = getattr(session, "regenerate", None)
        if regenerate is not None:
            regenerate()
        session["auth"] = creds.fingerprint()
        g.hiitpi_login = True  # the one kind of request that may create a session
        return redirect(_next(), code=303)

    @app.get("/login")
    def login_page() -> Any:
        return page()

    @app.post("/login")
    def login() -> Any:
        if not creds.has_pin():
            return redirect(_next(), code=303)
        ok, wait = guard.try_pin(str(request.form.get("pin", "")))
        if wait:
            return page(f"Too many wrong PINs: try again in {int(wait) + 1} s.", code=429)
        if not ok:
            return page("Wrong PIN.", code=401)
        return log_in()

    @app.post("/login/pin")
    def set_pin() -> Any:
        action = request.form.get("action", "")
        new, again = str(request.form.get("pin", "")), str(request.form.get("pin2", ""))
        if creds.has_pin():  # changing a PIN: this device is unlocked and knows the PIN
            if not guard.logged_in():
                return page("Unlock first.", code=401)
            ok, wait = guard.try_pin(str(request.form.get("current", "")))
            if wait:
                return page(f"Too many wrong PINs: try again in {int(wait) + 1} s.", code=429)
            if not ok:
                return page("The current PIN is wrong.", code=401)
            if action == "clear":
                try:
                    creds.clear_pin()
                except ValueError as exc:
                    return page(str(exc), code=400)
                session.pop("auth", None)
                return page("The PIN is removed: this station is open.", kind="ok")
            if action != "change":
                return page("Change or remove the PIN?", code=400)
        elif action != "set":
            return page("There is no PIN to change.", code=400)
        if new != again:
            return page("The two PINs differ.", code=400)
        try:
            creds.set_pin(new)
        except ValueError as exc:
            return page(f"{str(exc)[0].upper()}{str(exc)[1:]}.", code=400)
        return log_in()

    @app.post("/logout")
    def logout() -> Any:
        session.pop("auth", None)
        return redirect("/login", code=303)
