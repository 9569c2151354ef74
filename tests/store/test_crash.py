"""Reps already counted survive a crash: a process killed mid-set leaves them all in the database.

A child process records a set through the real SessionRecorder and is killed with SIGKILL (no
cleanup, no atexit, no flush); a new HistoryStore on the same URL then finds every rep.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable

import pytest

from hiitpi.engine.recorder import SessionRecorder
from hiitpi.store import HistoryStore

from .conftest import BACKENDS, no_rep, rep

CHILD = textwrap.dedent(
    """
    import os, signal, sys, time
    from hiitpi.core.events import EventKind, RepEvent
    from hiitpi.engine.recorder import SessionRecorder
    from hiitpi.store import HistoryStore

    recorder = SessionRecorder(HistoryStore(sys.argv[1]), station="kitchen")
    recorder.begin("crash test", "push_up", "fake", "clip.mp4")
    for i in range(1, 4):
        recorder.on_events([RepEvent(EventKind.REP, i, 2.0 * i, 2.0 * i - 1, 1.0, 0.9, 1.0)])
    recorder.on_events([RepEvent(EventKind.NO_REP, 1, 7.0, 6.0, 1.0, 0.2, 0.5, "shallow", "x")])
    # give the writer thread the few milliseconds a commit takes (as the next frames would)
    for _ in range(500):
        if recorder.backlog == 0 and recorder.session_id is not None:
            break
        time.sleep(0.01)
    print(recorder.session_id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # the engine dies mid-set: no end(), no cleanup
    """
)


def _crash_mid_set(url: str) -> int:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, url],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    return int(proc.stdout.split()[0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_reps_survive_a_killed_engine(backend: str, fresh_url: Callable[[str], str]) -> None:
    url = fresh_url(backend)
    sid = _crash_mid_set(url)
    with HistoryStore(url) as after:
        s = after.get_session(sid)
        assert s is not None
        assert (s.player, s.status, s.reps, s.no_reps) == ("crash test", "active", 3, 1)
        timeline = after.session_timeline(sid)
        assert [(r.kind.value, r.index) for r in timeline] == [
            ("rep", 1),
            ("rep", 2),
            ("rep", 3),
            ("no_rep", 1),
        ]
        assert after.leaderboard_week()[0].reps == 3  # already on the leaderboard
        # the next start of that station closes the orphan, keeping its reps
        assert after.mark_interrupted_sessions("kitchen") == 1
        s = after.get_session(sid)
        assert s is not None and (s.status, s.reps, s.no_reps) == ("interrupted", 3, 1)
        assert s.ended_at == timeline[-1].recorded_at
        assert len(after.session_timeline(sid)) == 4


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_restarted_engine_resumes_the_set(backend: str, fresh_url: Callable[[str], str]) -> None:
    """The live engine resumes a set from Redis after a crash; the recorder follows it."""
    url = fresh_url(backend)
    sid = _crash_mid_set(url)
    with HistoryStore(url) as after:
        recorder = SessionRecorder(after, station="kitchen")
        recorder.begin("crash test", "push_up", resume=True)
        # the engine renumbers after resuming; an event sent twice is stored once
        recorder.on_events([rep(3, 6.0), rep(4, 9.0), no_rep(2, 10.0)])
        assert recorder.flush() and recorder.session_id == sid
        recorder.end()
        assert recorder.close()
        s = after.get_session(sid)
        assert s is not None and (s.status, s.reps, s.no_reps) == ("done", 4, 2)
