"""The web app offers the user's own exercises beside the built-in ones."""

from __future__ import annotations

import re
from pathlib import Path

from hiitpi.config import Settings
from hiitpi.live import RedisLiveStore
from hiitpi.web import create_app

DOC = Path(__file__).resolve().parents[2] / "docs" / "EXERCISES.md"


def test_the_exercise_list_has_the_users_files(store: RedisLiveStore, tmp_path: Path) -> None:
    (block,) = [
        b
        for b in re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
        if 'id = "lateral_raise"' in b
    ]
    (tmp_path / "lateral_raise.toml").write_text(block)
    app = create_app(store, Settings(exercises_dir=tmp_path))
    try:
        listed = app.test_client().get("/api/exercises").get_json()
    finally:
        app.extensions["hiitpi_frames"].close()
    ids = [e["id"] for e in listed]
    assert ids[-1] == "lateral_raise" and "push_up" in ids
    assert listed[-1]["label"] == "Lateral raise"
