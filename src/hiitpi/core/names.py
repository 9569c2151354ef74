"""Who and where: the one definition of player names, the guest player and station names.

Every module that accepts, stores or compares a player or station name imports it from here,
so the web form, the engine, the recorder and the history database agree on what a name is.

A player name is Unicode NFC-normalised before anything else looks at it: "Zoé" typed on a
phone (often NFC) and on a Mac (often NFD: "e" + combining accent) must be one player in
history, not two. Case is kept as typed and compared exactly ("Ann" and "ann" are two players,
as they always were). ``guest`` (in any case) is reserved: it is the player a set belongs to
when nobody logged in, so a person calling themselves guest would merge with every anonymous
set.
"""

from __future__ import annotations

import re
import unicodedata

GUEST_PLAYER = "guest"  # who a set belongs to when nobody has logged in
PLAYER_MAX_LEN = 20

DEFAULT_STATION = "default"
# a station name goes into Redis keys and a 64-character database column
STATION_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
STATION_MAX_LEN = 64
_STATION_RE = re.compile(STATION_PATTERN)


def normalize_player(name: str) -> str:
    """``name`` as it is compared and stored: NFC, surrounding whitespace removed."""
    return unicodedata.normalize("NFC", name).strip()


def is_guest(name: str) -> bool:
    """Whether ``name`` is the reserved guest name (any case, any Unicode form)."""
    return normalize_player(name).casefold() == GUEST_PLAYER


def validate_player(name: str) -> str:
    """A name a person may choose: 1-20 printable characters after NFC normalisation and
    stripping, and not ``guest``. Returns the normalised name or raises ValueError."""
    name = normalize_player(name)
    if not 1 <= len(name) <= PLAYER_MAX_LEN or not name.isprintable():
        raise ValueError(f"player name must be 1-{PLAYER_MAX_LEN} printable characters")
    if name.casefold() == GUEST_PLAYER:
        raise ValueError(f"{GUEST_PLAYER!r} is reserved for sets nobody logged in to")
    return name


def player_or_guest(name: str) -> str:
    """The player a set is recorded for: a chosen name (validated), or the guest when empty."""
    return validate_player(name) if normalize_player(name) else GUEST_PLAYER


def history_player(name: str) -> str:
    """A name as the history database accepts it: a valid chosen name or exactly the guest."""
    name = normalize_player(name)
    return GUEST_PLAYER if name == GUEST_PLAYER else validate_player(name)


def validate_station(station: str) -> str:
    """``station`` unchanged when it matches :data:`STATION_PATTERN`; ValueError otherwise."""
    if not _STATION_RE.match(station):
        raise ValueError(f"station name must match {STATION_PATTERN}, got {station!r}")
    return station
