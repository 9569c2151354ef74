"""The station's secrets: the optional PIN (kept only as a scrypt hash) and the API token.

Both live as small files in the data dir, written ``0600`` and replaced atomically, so
``hiitpi pin set`` on the station and the first-run form in the browser write the same file and
a running server sees the change at its next request (it re-reads a file whose mtime changed).
``web.pin_hash`` in the config, when set, is the PIN instead of the file (a read-only install,
or a hash kept with the rest of the config): the UI and the CLI then cannot change it.

The API token is for scripts on the station (``Authorization: Bearer <token>``): whoever can
read the data dir can already do anything the station can, so a token file readable only by the
station's user is the same trust, with no PIN typed into a script.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import unicodedata
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

PIN_FILE = "web-pin"
TOKEN_FILE = "api-token"
PIN_MIN_LEN = 4
PIN_MAX_LEN = 64
_HASH_METHOD = "scrypt"  # werkzeug's scrypt: hashlib.scrypt with a random salt, n=2**15, r=8


def normalise_pin(pin: str) -> str:
    """The PIN as it is hashed: NFC (a phone and a laptop type "é" differently), no outer space.

    ValueError says what is wrong, in one line.
    """
    text = unicodedata.normalize("NFC", str(pin)).strip()
    if len(text) < PIN_MIN_LEN:
        raise ValueError(f"a PIN needs at least {PIN_MIN_LEN} characters")
    if len(text) > PIN_MAX_LEN:
        raise ValueError(f"a PIN has at most {PIN_MAX_LEN} characters")
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise ValueError("a PIN cannot contain control characters")
    return text


def hash_pin(pin: str) -> str:
    """A salted scrypt hash of ``pin`` (the only form in which a PIN is ever stored)."""
    return generate_password_hash(normalise_pin(pin), method=_HASH_METHOD)


def check_pin(pin_hash: str, pin: str) -> bool:
    try:
        text = normalise_pin(pin)
    except ValueError:
        return False
    try:
        return check_password_hash(pin_hash, text)
    except ValueError:  # a hash werkzeug cannot read: no PIN matches it
        return False


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by this user only, replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class _CachedFile:
    """A small file's stripped text, re-read only when its mtime or size changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: tuple[int, int] | None = None
        self._text: str | None = None
        self._lock = threading.Lock()

    def read(self) -> str | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        key = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if key != self._key:
                try:
                    self._text = self.path.read_text(encoding="utf-8").strip() or None
                except OSError:
                    return None
                self._key = key
            return self._text


class Credentials:
    """The PIN hash and API token of one station (its data dir, or ``web.pin_hash``)."""

    def __init__(self, data_dir: Path, configured_hash: str | None = None) -> None:
        self.data_dir = data_dir.expanduser()
        self.configured_hash = configured_hash or None
        self._pin = _CachedFile(self.data_dir / PIN_FILE)
        self._token = _CachedFile(self.data_dir / TOKEN_FILE)

    @property
    def pin_path(self) -> Path:
        return self._pin.path

    @property
    def token_path(self) -> Path:
        return self._token.path

    def pin_hash(self) -> str | None:
        return self.configured_hash or self._pin.read()

    def has_pin(self) -> bool:
        return self.pin_hash() is not None

    def fingerprint(self) -> str | None:
        """Changes whenever the PIN does: a login remembers it, so a new PIN logs everyone out."""
        h = self.pin_hash()
        return None if h is None else hashlib.sha256(h.encode()).hexdigest()[:24]

    def verify_pin(self, pin: str) -> bool:
        h = self.pin_hash()
        return h is not None and check_pin(h, pin)

    def set_pin(self, pin: str) -> None:
        """Store a new PIN (its hash). ValueError: a bad PIN, or the config fixes the PIN."""
        if self.configured_hash:
            raise ValueError("the PIN is set by web.pin_hash in the config: change it there")
        _write_private(self.pin_path, hash_pin(pin) + "\n")

    def clear_pin(self) -> bool:
        """Remove the PIN; False when there was none in the data dir."""
        if self.configured_hash:
            raise ValueError("the PIN is set by web.pin_hash in the config: remove it there")
        try:
            self.pin_path.unlink()
        except FileNotFoundError:
            return False
        return True

    def api_token(self) -> str | None:
        return self._token.read()

    def ensure_api_token(self, *, new: bool = False) -> str:
        """The API token, made (random, 256 bits) on first use or when ``new``."""
        token = None if new else self.api_token()
        if token is None:
            token = secrets.token_urlsafe(32)
            _write_private(self.token_path, token + "\n")
        return token

    def check_api_token(self, presented: str) -> bool:
        token = self.api_token()
        return token is not None and hmac.compare_digest(token.encode(), presented.encode())
