"""The journal on a full disk (issue 13 item 9: "a full tmpfs where available").

A real tmpfs of 64 kB is mounted for each test (root with CAP_SYS_ADMIN, as on this project's
machines and CI; skipped with the reason elsewhere) and filled with a file until the kernel says
ENOSPC. A write the disk refuses must not leave half a line in the journal (a reader stops at
it, so every record appended after it would be lost to the next start), and the records it
refused are journaled, in order, as soon as there is room again.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hiitpi.core.events import WorkoutState
from hiitpi.engine.journal import Journal, journal_path
from hiitpi.engine.recorder import SessionRecorder
from hiitpi.store import HistoryStore

from .conftest import rep
from .test_recorder import Flaky


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command: cannot make a small tmpfs")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Fill ``disk`` to the last byte; the filler file's path (delete it to make room)."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        chunk = b"\0" * 4096
        try:
            while True:
                f.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        try:  # the last partial block
            while True:
                f.write(b"\0")
        except OSError:
            pass
    return filler


def test_a_refused_write_leaves_no_torn_line(small_disk: Path) -> None:
    journal = Journal(small_disk / "journal" / "kitchen.jsonl")
    try:
        journal.append({"type": "first"})
        size = journal.size
        filler = fill(small_disk)
        with pytest.raises(OSError) as refused:
            journal.append({"type": "refused", "pad": "x" * 8192})
        assert refused.value.errno == errno.ENOSPC
        assert journal.size == size  # cut back: nothing half-written
        os.unlink(filler)
        journal.append({"type": "after"})
        assert [r["type"] for r in journal.records()] == ["first", "after"]
    finally:
        journal.close()


def test_reps_refused_by_a_full_disk_are_journaled_when_there_is_room(
    history: HistoryStore, small_disk: Path
) -> None:
    path = journal_path(small_disk, "kitchen")
    flaky = Flaky(history)
    flaky.down = True  # the database is away too: the journal is the only copy
    first = SessionRecorder(flaky, station="kitchen", journal=Journal(path), retry_s=60)  # type: ignore[arg-type]
    first.begin("ann", "push_up")
    first.on_events([rep(1, 1.0)], WorkoutState("push_up", 1.0, reps=1))
    filler = fill(small_disk)
    n = 1  # the journal's last page may still have room for a few: rep until the disk says no
    while first.journal_error is None and n < 200:
        n += 1
        first.on_events([rep(n, float(n))], WorkoutState("push_up", float(n), reps=n))
    assert first.journal_error is not None, "the full disk never refused a write"
    n += 1  # one more while it is full
    first.on_events([rep(n, float(n))], WorkoutState("push_up", float(n), reps=n))
    health = first.health()
    assert health["ok"] is False and "journal" in (health["error"] or ""), health
    unsaved = first.unsaved()  # what a failure message says instead of "saved"
    assert unsaved is not None and unsaved.startswith("the disk refused them: "), unsaved
    assert "No space left on device" in unsaved
    os.unlink(filler)  # room again: the next rep's write takes the refused ones first
    n += 1
    first.on_events([rep(n, float(n))], WorkoutState("push_up", float(n), reps=n))
    assert first.journal_error is None and first.unsaved() is None  # on disk again
    assert first.journal is not None
    first.journal.close()  # SIGKILL now: the memory queue is gone, the database never had them

    second = SessionRecorder(history, station="kitchen", journal=Journal(path))
    try:
        assert second.flush()
        (s,) = history.player_history("ann")
        assert [x.index for x in history.session_timeline(s.id)] == list(range(1, n + 1))
    finally:
        second.close()


def test_a_plank_held_while_the_disk_is_full_is_not_called_saved(
    history: HistoryStore, small_disk: Path
) -> None:
    """A hold reaches the database only when its set ends: while the disk refuses the journal,
    the time held is in memory only, whatever the database does."""
    recorder = SessionRecorder(
        history, station="kitchen", journal=Journal(journal_path(small_disk, "kitchen"))
    )
    try:
        recorder.begin("ann", "plank")
        recorder.on_events([], WorkoutState("plank", 2.0, hold_s=2.0))
        assert recorder.unsaved() is None  # journaled
        fill(small_disk)
        held = 2.0
        while recorder.journal_error is None and held < 400:
            held += 1.5  # each grows past HOLD_JOURNAL_S: journaled, until the disk says no
            recorder.on_events([], WorkoutState("plank", held, hold_s=held))
        assert recorder.journal_error is not None, "the full disk never refused a write"
        unsaved = recorder.unsaved()
        assert unsaved is not None and unsaved.startswith("the disk refused them: ")
    finally:
        recorder.close()
