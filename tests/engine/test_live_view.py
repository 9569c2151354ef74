"""The live engine publishes the camera's view, and referees a user's exercise started by id."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hiitpi.config import PoseConfig, Settings, SourceConfig
from hiitpi.engine.live import LiveEngine
from hiitpi.engine.poses import track_for
from hiitpi.live import Command, CommandKind, RedisLiveStore
from hiitpi.sources import open_source

from .conftest import ReplayEstimator, wait_for

DOC = Path(__file__).resolve().parents[2] / "docs" / "EXERCISES.md"


@pytest.mark.shared
@pytest.mark.slow
def test_the_live_state_carries_the_view_of_a_real_clip(
    store: RedisLiveStore, clips_dir: Path
) -> None:
    clip = clips_dir / "push_up__venkat__1.mp4"
    track = track_for(clip, PoseConfig(), Settings().cache_dir)  # the real model, cached
    settings = Settings(source=SourceConfig(uri=str(clip)))
    source = open_source(settings.source, paced=True)
    engine = LiveEngine(
        source, ReplayEstimator({tf.frame: tf.pose for tf in track}), store, settings,
        exercise="push_up",
    )  # fmt: skip
    engine.start()
    try:
        snap = wait_for(store, lambda s: s.state is not None and s.state.reps >= 2, timeout=30)
    finally:
        engine.stop()
        source.close()
    assert snap.state is not None
    assert snap.state.view == "side" and snap.state.view_confidence >= 0.6
    assert snap.state.form_judged is True


def test_a_user_exercise_starts_by_id_through_the_command_channel_never_by_path(
    store: RedisLiveStore, small_clip: Path, tmp_path: Path
) -> None:
    (block,) = [
        b
        for b in re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
        if 'id = "lateral_raise"' in b
    ]
    (tmp_path / "lateral_raise.toml").write_text(block)
    settings = Settings(source=SourceConfig(uri=str(small_clip), loop=True), exercises_dir=tmp_path)
    source = open_source(settings.source, paced=True)
    engine = LiveEngine(source, ReplayEstimator({}), store, settings)
    engine.start()
    try:
        wait_for(store, lambda s: s.status.running and s.status.frames >= 3)
        store.send_command(Command(CommandKind.START, exercise=str(tmp_path / "x.toml")))
        snap = wait_for(store, lambda s: s.status.error is not None)
        assert "commands name an exercise id" in (snap.status.error or "")
        store.send_command(Command(CommandKind.START, exercise="lateral_raise"))
        snap = wait_for(store, lambda s: s.status.active)
    finally:
        engine.stop()
        source.close()
    assert snap.state is not None and snap.state.exercise == "lateral_raise"
    assert snap.status.error is None
