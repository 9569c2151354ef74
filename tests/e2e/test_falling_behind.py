"""The engine falling behind the camera is said on the workout screen, mid-set, in words.

The whole App in this process (embedded Redis, engine, web) with the looped push-up clip as the
camera and a backend that takes 60 ms a frame (a test double: a model too heavy for 30 fps).
Chromium on /tv: during the set, the referee's own message ("Get into the start position")
must not hide the warning that says what to do (issue 11: "the workout page and /api/status
say the engine is falling behind and what to do").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.test_live_pace_and_view import SlowBackend
from faults.polling import wait_until
from hiitpi.app import App
from hiitpi.config import Settings, SourceConfig, WebConfig
from hiitpi.web.dashboard import ids as I

from . import helpers as H
from .conftest import DESKTOP, _free_port

pytestmark = [pytest.mark.slow, pytest.mark.shared]


def test_falling_behind_is_said_on_the_screen_during_a_set(
    browser: Any, clips_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(App, "_estimator", lambda self, source: (SlowBackend(60.0), "slow"))
    settings = Settings(
        source=SourceConfig(uri=str(clips_dir / "push_up__calimiro__1.mp4"), loop=True),
        web=WebConfig(host="127.0.0.1", port=_free_port(), threads=8),
        data_dir=tmp_path / "data",
    )
    app = App(settings, exercise="push_up", station="falling-behind")
    app.start()
    dialogs: list[str] = []
    context, page = H.new_page(browser, DESKTOP, dialogs)
    try:
        page.goto(f"http://127.0.0.1:{app.port}/tv")
        engine = app.engine
        assert engine is not None
        wait_until(lambda: engine.status.falling_behind, 30, "the engine to fall behind")
        warning = engine.status.warning
        assert warning is not None and warning.startswith("The pose engine is falling behind")
        assert engine.state is not None and engine.state.message  # the referee says something
        page.wait_for_function(
            "([id, text]) => (document.getElementById(id)?.textContent || '').startsWith(text)",
            arg=[I.LIVE_MESSAGE, "The pose engine is falling behind"],
            timeout=10_000,
        )
        assert "--backend movenet" in page.inner_text(f"#{I.LIVE_MESSAGE}")  # what to do
    finally:
        context.close()
        app.stop()
    assert dialogs == []
