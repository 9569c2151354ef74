"""A name typed in two Unicode forms is one player in history (issue 13, finding 12)."""

from __future__ import annotations

import unicodedata

import pytest

from hiitpi.core.names import GUEST_PLAYER
from hiitpi.engine.recorder import SessionRecorder
from hiitpi.store import HistoryStore

from .test_recorder import rep

NFC = unicodedata.normalize("NFC", "Zoé")
NFD = unicodedata.normalize("NFD", "Zoé")


def test_zoe_in_nfc_and_nfd_is_one_player(history: HistoryStore) -> None:
    recorder = SessionRecorder(history, station="kitchen", background=False)
    recorder.begin(NFC, "squat")
    recorder.on_events([rep(1, 1.0)])
    recorder.begin(NFD, "push_up")  # typed on another device: decomposed
    recorder.on_events([rep(1, 1.0), rep(2, 2.0)])
    recorder.end(None)
    assert recorder.flush()
    assert [p.name for p in history.list_players()] == [NFC]
    for typed in (NFC, NFD):  # looked up in either form, from a URL or a form
        assert [s.workout for s in history.player_history(typed)] == ["squat", "push_up"]


def test_guest_is_reserved_but_the_anonymous_player_is_recorded(history: HistoryStore) -> None:
    with pytest.raises(ValueError, match="reserved"):
        history.get_or_create_player("Guest")
    recorder = SessionRecorder(history, station="kitchen", background=False)
    with pytest.raises(ValueError, match="reserved"):
        recorder.begin("guest", "squat")
    recorder.begin("", "squat")  # nobody logged in
    recorder.end(None)
    assert recorder.flush()
    assert [p.name for p in history.list_players()] == [GUEST_PLAYER]
