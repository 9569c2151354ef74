"""The embedded Redis: files under data_dir/redis, saved on stop, restarted when it dies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hiitpi.config import Settings
from hiitpi.core.events import WorkoutState
from hiitpi.live import EngineStatus, RedisLiveStore, open_live_store
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


# --- supervision (issue 13 finding 2) ---------------------------------------------------------
def _kill_and_wait_restart(
    server: EmbeddedRedis, timeout: float = 5.0, sig: int = 9
) -> tuple[int, int]:
    """Send ``sig`` (SIGKILL) to the supervised redis-server; wait for the watchdog's new one;
    both pids."""
    import os
    import time

    old, restarts = server.pid, server.restarts
    assert old is not None
    os.kill(old, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = server.pid
        if server.restarts > restarts and new is not None and new != old:
            return old, new
        time.sleep(0.02)
    raise AssertionError(f"redis-server {old} was not restarted within {timeout} s")


def test_a_killed_server_is_restarted_with_its_saved_data(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis")
    store = RedisLiveStore.from_url(server.start(), "restart")  # as open_live_store connects
    store.on_close(server.stop)
    try:
        store.publish_state(WorkoutState("squat", 3.0, reps=5), EngineStatus(player="Bo"))
        store.client.save()  # what a set's end does (BGSAVE), synchronously
        store.publish_state(WorkoutState("squat", 4.0, reps=6), EngineStatus(player="Bo"))
        _kill_and_wait_restart(server)
        assert server.restarts == 1
        # the same client reconnects on its next command (redis-py's retry policy)
        snap = store.get_state()
        assert snap is not None and snap.state is not None and snap.state.reps == 5
        store.publish_state(WorkoutState("squat", 5.0, reps=7), EngineStatus(player="Bo"))
        _kill_and_wait_restart(server)  # a second death is restarted too (after a backoff)
        assert server.restarts == 2 and store.ping()
    finally:
        store.close()
    assert not (tmp_path / "redis" / "redis.sock").exists()


def test_a_hung_server_is_killed_and_restarted_with_its_saved_data(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import signal

    from hiitpi.live.embedded import HUNG_PINGS

    server = EmbeddedRedis(tmp_path / "redis")
    store = RedisLiveStore.from_url(server.start(), "hung")
    store.on_close(server.stop)
    try:
        store.publish_state(WorkoutState("squat", 3.0, reps=5), EngineStatus(player="Bo"))
        store.client.save()
        # SIGSTOP: the process runs on (no exit for the watchdog to see) but answers nothing
        hang_s = HUNG_PINGS * 2.0 + 5.0
        old, _ = _kill_and_wait_restart(server, timeout=hang_s, sig=signal.SIGSTOP)
        assert server.restarts == 1
        assert f"embedded Redis (pid {old}) runs but has not answered" in caplog.text
        snap = store.get_state()  # the same client reconnects to the new server
        assert snap is not None and snap.state is not None and snap.state.reps == 5
        with pytest.raises(ProcessLookupError):  # the stopped one is gone, not left behind
            os.kill(old, 0)
    finally:
        store.close()


def test_an_error_reply_is_an_answer_and_only_silence_a_hang(tmp_path: Path) -> None:
    import signal
    import subprocess
    import time

    import redis

    from hiitpi.live.embedded import redis_executable

    sock = tmp_path / "full.sock"
    args = [redis_executable(), "--port", "0", "--unixsocket", str(sock), "--save", ""]
    proc = subprocess.Popen([*args, "--maxclients", "1"], stdout=subprocess.DEVNULL)
    holder = redis.Redis(unix_socket_path=str(sock))
    try:
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert holder.ping()  # the one client it takes
        # "-ERR max number of clients reached": a full server, not a hung one
        assert EmbeddedRedis._answers(sock, 1.0)
        os.kill(proc.pid, signal.SIGSTOP)
        assert not EmbeddedRedis._answers(sock, 0.3)
        os.kill(proc.pid, signal.SIGCONT)
    finally:
        holder.close()
        proc.kill()
        proc.wait(5)
    assert not EmbeddedRedis._answers(tmp_path / "none.sock", 0.3)


def test_stop_is_quick_and_clean_while_the_server_is_dead(tmp_path: Path) -> None:
    import os
    import signal
    import time

    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    pid = server.pid
    assert pid is not None
    server._stopping.set()  # keep the watchdog from restarting it, as during a stop
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    t0 = time.monotonic()
    server.stop()
    assert time.monotonic() - t0 < 1.0
    assert not server.socket_path.exists() and not server.pid_path.exists()
    again = EmbeddedRedis(tmp_path / "redis")  # the directory is free for the next start
    again.start()
    again.stop()


def test_clean_stop_saves_what_was_written_since_the_last_save(tmp_path: Path) -> None:
    store = open_live_store(Settings(data_dir=tmp_path), station="save")
    store.publish_state(WorkoutState("squat", 3.0, reps=9), EngineStatus(player="Bo"))
    store.close()  # SHUTDOWN SAVE
    store = open_live_store(Settings(data_dir=tmp_path), station="save")
    try:
        snap = store.get_state()
        assert snap is not None and snap.state is not None and snap.state.reps == 9
    finally:
        store.close()
