"""Issue 13 item 2: a crash of any kind loses no counted rep, reuses no index, reopens no set.

Each test runs the real app (``hiitpi serve``, embedded Redis, a looping push-up clip, MoveNet)
in a subprocess and crashes it for real: SIGKILL of the app, of the app and its redis-server
together (a power cut), with the history database (a PostgreSQL cluster the test owns) stopped.
After each restart the invariant holds: history has exactly the reps the referee counted,
indices 1..N, and /api/status agrees.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from glob import glob
from pathlib import Path

import pytest

from .station import Station, assert_history_matches, free_port

pytestmark = [pytest.mark.shared, pytest.mark.model, pytest.mark.slow]


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A data dir with a short path (the embedded Redis's socket must fit in 100 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="hj-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def station(shared_dir: Path, short_dir: Path) -> Iterator[Station]:
    s = Station(shared_dir, short_dir / "data")
    yield s
    s.stop()


def _reps_at_least(n: int) -> object:
    return lambda s: s["active"] and s["reps"] >= n


def _done(station: Station) -> int:
    """Done! from the web; the count the engine published with its answer."""
    station.command(action="stop")
    return int(station.wait(lambda s: not s["active"])["reps"])


def test_power_cuts_right_after_done_and_mid_set(station: Station) -> None:
    """The app and its redis-server die together, twice.

    Finding 4: right after Done! is answered (Redis saved its snapshot at Done!, before "not
    active" was written): the set must not reopen. Finding 3: mid-set, when Redis's last save
    is older than the reps counted: the set resumes from the journal, and the reps after it
    get new indices (reusing them made the database refuse them).
    """
    station.start()
    station.command(action="start", exercise="push_up")
    station.wait(_reps_at_least(2))
    station.command(action="stop")
    station.power_cut()  # the moment Done! is answered

    station.start()
    after = station.status()
    assert not after["active"], after
    with station.history() as h:
        (first,) = [x for x in h.player_history("guest") if x.workout == "push_up"]
        assert first.status == "done" and first.reps >= 2
    assert_history_matches(station, first.reps)

    station.command(action="start", exercise="push_up")
    before = station.wait(_reps_at_least(3))["reps"]
    station.power_cut()  # Redis's last save is the Done! above

    station.start()
    resumed = station.wait(lambda s: s["active"])
    assert resumed["reps"] >= before  # from the journal: nothing counted is lost
    station.wait(_reps_at_least(resumed["reps"] + 2))  # new reps, new indices
    assert_history_matches(station, _done(station))


def _pg_bin() -> Path:
    found = sorted(glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        pytest.skip("needs PostgreSQL's initdb and pg_ctl (/usr/lib/postgresql/*/bin)")
    return Path(found[-1]).parent


class Cluster:
    """A throw-away PostgreSQL cluster the test owns: it may stop and start it. (PostgreSQL
    refuses to run as root: as root, it runs as the ``postgres`` user.)"""

    def __init__(self, root: Path) -> None:
        self.bin = _pg_bin()
        self.data = root / "pg"
        self.port = free_port()
        self.as_user: list[str] = []
        self.data.mkdir()
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root without a postgres user to run PostgreSQL as")
            root.chmod(0o755)
            os.chown(self.data, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: object, check: bool = True) -> None:
        cmd = [*self.as_user, str(self.bin / tool), *map(str, args)]
        done = subprocess.run(cmd, check=False, capture_output=True, text=True)
        if check and done.returncode != 0:
            raise AssertionError(f"{tool} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", self.data, "-o", opts, "-w", "-l", self.data / "log", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)


def test_reps_counted_while_postgres_is_down_survive_an_app_kill(
    shared_dir: Path, short_dir: Path
) -> None:
    """Finding 5: the database is stopped mid-set, reps go on, the app is SIGKILLed, the
    database comes back, the app restarts: every rep is in history, none twice."""
    cluster = Cluster(short_dir)
    cluster.start()
    station = Station(shared_dir, short_dir / "data", database_url=cluster.url)
    try:
        station.start()
        station.command(action="start", exercise="push_up")
        station.wait(_reps_at_least(2))
        cluster.stop()
        down = station.status()["reps"]
        counted = station.wait(_reps_at_least(down + 2))["reps"]  # counted, not stored
        station.kill()  # the in-memory queue dies with the app
        cluster.start()

        station.start()
        resumed = station.wait(lambda s: s["active"])
        assert resumed["reps"] >= counted
        assert_history_matches(station, _done(station))
    finally:
        station.stop()
        cluster.stop()
