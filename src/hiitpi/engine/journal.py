"""The station's journal: the one durable record of its sets, written before anyone is told.

A rep is durable the moment the referee counts it, whatever else is down: the recorder appends
it here (one JSON line, ``os.fsync``ed) before the engine publishes the state or answers a
command, then writes it to the history database from its own thread. After a crash of any kind
(app, Redis, database, power) the next start replays the journal into the database (every
record carries a uuid, so a replay never stores anything twice) and resumes the set that was
open from the journal, never from the Redis snapshot, which can be older.

One file per station, ``<data_dir>/journal/<station>.jsonl``, locked (``flock``) by the one
process that records for that station. Records, in the order they happened::

    {"type": "plan_begin", "plan": uuid, "player", "plan_id", "plan_name", "plan_toml", "at"}
    {"type": "plan_end", "plan": uuid, "status", "at"}
    {"type": "set_begin", "set": uuid, "plan": uuid|null, "player", "owner", "workout",
     "backend", "source", "station", "block", "round", "target", "at"}
    {"type": "events", "set": uuid, "events": [RepEvent...], "state": WorkoutState}
    {"type": "correction", "set": uuid, "id": uuid, "delta": +1|-1, "at"}
    {"type": "set_end", "set": uuid, "status": "done"|"interrupted", "pace", "state", "at"}

A line cut short by a crash mid-write is the only damage possible (appends are sequential and
each is fsynced): it is dropped when the file is read back, and cut from the file. The
recorder empties the file (:meth:`Journal.compact`) once everything in it is stored and closed,
so it stays a few kB.

Cost: one ``write`` + ``fsync`` per frame that counted something (reps come about once a
second), in the engine thread, since the count must be durable before it is published.
:func:`measure_fsync` on the development VM (ext4 on virtio, 2 busy cores): median 6-7 ms, p99
24-27 ms per append (300 appends): at most one late frame per rep, nothing on the others.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hiitpi.errors import ConfigError

log = logging.getLogger(__name__)

JOURNAL_DIR = "journal"
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def journal_path(data_dir: Path, station: str) -> Path:
    """Where ``station``'s journal lives under ``data_dir`` (a file name safe for any name)."""
    return Path(data_dir) / JOURNAL_DIR / f"{_SAFE.sub('_', station) or 'default'}.jsonl"


class Journal:
    """An append-only, fsynced JSON-lines file, held by one process (ConfigError otherwise).

    Not thread-safe on its own: the recorder calls it under its lock.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._fd)
            raise ConfigError(
                f"the journal {self.path} is in use: another hiitpi records for this station"
            ) from None
        self._fsync_dir()
        self.appends = 0
        self.fsync_s = 0.0  # total time spent in fsync (for the benchmark and the log)

    @classmethod
    def for_station(cls, data_dir: Path, station: str) -> Journal:
        return cls(journal_path(data_dir, station))

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    def append(self, *records: Mapping[str, Any]) -> None:
        """Write ``records`` and fsync them: when this returns they survive a power cut.

        OSError (disk full, read-only) reaches the caller, which keeps the records in memory;
        the file is cut back to where it was, so a line half-written to a full disk never sits
        in front of the records appended once there is room again (a reader stops at it).
        """
        if not records:
            return
        data = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records).encode()
        view = memoryview(data)
        end = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            t0 = time.perf_counter()
            os.fsync(self._fd)
        except OSError:
            with contextlib.suppress(OSError):  # shrinking a file needs no space
                os.ftruncate(self._fd, end)
            raise
        self.fsync_s += time.perf_counter() - t0
        self.appends += 1

    def records(self) -> list[dict[str, Any]]:
        """Every whole record, oldest first; a last line cut short by a crash is cut away."""
        with open(self.path, "rb") as f:
            data = f.read()
        out: list[dict[str, Any]] = []
        good = 0
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break
            try:
                record = json.loads(line)
            except ValueError:
                break
            if not isinstance(record, dict):
                break
            out.append(record)
            good += len(line)
        if good < len(data):
            log.warning(
                "journal %s: %d byte(s) of a record cut short by a crash dropped",
                self.path,
                len(data) - good,
            )
            os.ftruncate(self._fd, good)
            os.fsync(self._fd)
        return out

    def compact(self) -> None:
        """Empty the file: everything in it is stored in the database and closed."""
        os.ftruncate(self._fd, 0)
        os.fsync(self._fd)

    @property
    def size(self) -> int:
        return os.fstat(self._fd).st_size

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # releases the lock
            self._fd = -1

    def _fsync_dir(self) -> None:
        """A new file's directory entry must survive a power cut too."""
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def measure_fsync(path: Path, n: int = 200) -> Sequence[float]:
    """The time of ``n`` appends of a rep-sized record to a journal at ``path``, in ms each."""
    journal = Journal(path)
    record = {"type": "events", "set": "0" * 36, "events": [{"kind": "rep", "index": 1}]}
    out: list[float] = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            journal.append(record)
            out.append((time.perf_counter() - t0) * 1000.0)
    finally:
        journal.close()
        path.unlink(missing_ok=True)
    return out
