"""Access control that fits a home LAN: a Host allow-list, CSRF checks and an optional PIN.

``install(app, settings)`` (called by :func:`hiitpi.web.create_app`) hooks the guard into every
request of the app, the dashboard's included, and adds ``/login``. The threat model is in the
README ("Who can control a station"); :mod:`.guard` says what each check does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hiitpi.web.security.credentials import Credentials, hash_pin, normalise_pin
from hiitpi.web.security.guard import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    PIN_HEADER,
    READ_ONLY_KEY,
    Guard,
    guard,
)
from hiitpi.web.security.hosts import HostAllowList

if TYPE_CHECKING:
    from flask import Flask

    from hiitpi.config import Settings

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "PIN_HEADER",
    "READ_ONLY_KEY",
    "Credentials",
    "Guard",
    "credentials_for",
    "guard",
    "hash_pin",
    "install",
    "normalise_pin",
]


def credentials_for(settings: Settings) -> Credentials:
    return Credentials(settings.data_dir, settings.web.pin_hash)


def install(app: Flask, settings: Settings) -> Guard:
    import secrets

    from hiitpi.web.security import login

    if app.secret_key is None:  # a store without Redis: Flask's signed-cookie sessions, so a
        app.secret_key = secrets.token_bytes(32)  # login works (valid until a restart)
    hosts = HostAllowList(settings.web.allowed_hosts, bind_host=settings.web.host)
    found = Guard(credentials_for(settings), hosts, pin_to_view=settings.web.pin_to_view)
    found.install(app)
    login.register(app, found)
    return found
