"""POST /api/command finds a plan in the station's own data dir, as its engine does."""

from __future__ import annotations

from pathlib import Path

from hiitpi.config import Settings
from hiitpi.live import RedisLiveStore
from hiitpi.web import create_app

PLAN = """id = "mine"
name = "Mine"
rounds = 1

[[blocks]]
exercise = "push_up"
work_s = 6
"""


def test_a_user_plan_in_the_configured_data_dir_starts(
    store: RedisLiveStore, tmp_path: Path
) -> None:
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "mine.toml").write_text(PLAN)
    app = create_app(store, Settings(data_dir=tmp_path))
    try:
        client = app.test_client()
        r = client.post("/api/command", json={"action": "start", "plan": "mine"})
        assert r.status_code != 404, r.get_json()  # queued for the engine (no engine here)
        r = client.post("/api/command", json={"action": "start", "plan": "nope"})
        assert r.status_code == 404 and "unknown plan 'nope'" in r.get_json()["error"]
        assert "mine" in r.get_json()["error"]  # the valid ones include the user's plan
    finally:
        app.extensions["hiitpi_frames"].close()
