"""One owner for names (issue 13, finding 12): NFC, the reserved guest, one station pattern."""

from __future__ import annotations

import unicodedata

import pytest

from hiitpi.config import Settings
from hiitpi.core.names import (
    GUEST_PLAYER,
    history_player,
    is_guest,
    player_or_guest,
    validate_player,
    validate_station,
)
from hiitpi.errors import ConfigError
from hiitpi.live import Command, CommandKind, MemoryLiveStore

NFC = unicodedata.normalize("NFC", "Zoé")
NFD = unicodedata.normalize("NFD", "Zoé")


def test_player_names_are_nfc_and_stripped_case_kept() -> None:
    assert NFC != NFD
    assert validate_player(NFD) == validate_player(f"  {NFC} ") == NFC
    assert validate_player("Ann") != validate_player("ann")  # case rules as before
    with pytest.raises(ValueError, match="1-20 printable"):
        validate_player("x" * 21)
    with pytest.raises(ValueError, match="1-20 printable"):
        validate_player("a\nb")


@pytest.mark.parametrize("name", ["guest", "Guest", " GUEST "])
def test_nobody_may_call_themselves_guest(name: str) -> None:
    assert is_guest(name)
    with pytest.raises(ValueError, match="reserved"):
        validate_player(name)
    with pytest.raises(ValueError, match="reserved"):
        Command(CommandKind.SET_PLAYER, player=name)


def test_the_anonymous_player_is_the_only_guest() -> None:
    assert player_or_guest("") == player_or_guest("   ") == GUEST_PLAYER
    assert player_or_guest(NFD) == NFC
    assert history_player(GUEST_PLAYER) == GUEST_PLAYER  # the recorder's own name for it
    with pytest.raises(ValueError):
        history_player("Guest")


@pytest.mark.parametrize("station", ["default", "kitchen-2", "a_b", "x" * 64])
def test_one_station_pattern_everywhere(station: str) -> None:
    assert validate_station(station) == station
    assert Settings(station=station).station == station
    assert MemoryLiveStore(station).station == station


@pytest.mark.parametrize("station", ["", "a.b", "a b", "x" * 65, "ünï"])
def test_bad_station_names_are_refused_everywhere(station: str) -> None:
    with pytest.raises(ValueError):
        validate_station(station)
    with pytest.raises((ValueError, ConfigError)):
        Settings(station=station)
    with pytest.raises(ValueError):
        MemoryLiveStore(station)
