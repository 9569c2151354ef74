"""The engine's session rules, pure: who may command a running session, what its status says.

:func:`refusal` is the one-owner-per-station rule; :func:`session_changes` fills the status
with the session's clock, plan, drift and stored ids; :func:`ended_message` words a source that
stopped for a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from hiitpi.core.events import RepEvent, WorkoutState
from hiitpi.engine.plan_run import PlanRun, SessionClock, SetKey
from hiitpi.live.base import AdjustTarget, Command, CommandKind, EngineStatus, session_busy
from hiitpi.plans.drift import pace_drift

if TYPE_CHECKING:  # the engine itself never imports the database layer
    from hiitpi.engine.pending import OpenSet


class SetRecorder(Protocol):
    """Where finished and running sets go (``hiitpi.engine.recorder.SessionRecorder``).

    Must not raise on a storage outage: the engine calls it from its frame loop. Durable on
    return: what ``on_events`` and ``end`` were given survives any crash (the journal), so the
    engine tells screens only afterwards. ``open_set`` is the set a crash left open (what a
    restarted engine resumes, never a live-store snapshot); ``health`` the "database" entry of
    ``EngineStatus.health``.
    """

    def begin(
        self,
        player: str,
        workout: str,
        backend: str = "",
        source: str = "",
        *,
        resume: bool = False,
        block: int | None = None,
        round: int | None = None,
        target: int | None = None,
        owner: str | None = None,
    ) -> int | None: ...

    def on_events(self, events: Sequence[RepEvent], state: WorkoutState | None = None) -> None: ...

    def end(
        self, state: WorkoutState | None = None, *, interrupted: bool = False
    ) -> int | None: ...

    def open_set(self) -> OpenSet | None: ...

    @property
    def plan_open(self) -> bool: ...

    def health(self) -> dict[str, Any]: ...

    def unsaved(self) -> str | None: ...  # why counted reps are in memory only, if they are

    def begin_plan(self, player: str, plan_id: str, plan_name: str, plan_toml: str) -> None: ...

    def end_plan(self, *, interrupted: bool = False) -> None: ...

    def correct(self, delta: int, *, last: bool = False) -> bool: ...

    def interrupt_leftovers(self) -> None: ...

    def wait_stored(self, timeout: float) -> bool: ...

    @property
    def session_id(self) -> int | None: ...

    @property
    def last_session_id(self) -> int | None: ...

    @property
    def plan_session_id(self) -> int | None: ...


def refusal(st: EngineStatus, c: Command) -> str | None:
    """Why ``c`` may not run now ("busy": another owner's session; "running": the sender's
    own set would end without a confirmation), or None. A command without an owner comes
    from a trusted local caller (a script on the station) and is always applied."""
    if c.owner is None:
        return None
    mine = st.owner is None or c.owner == st.owner
    if not st.busy:
        last = c.kind is CommandKind.ADJUST and c.target_set is AdjustTarget.LAST
        return None if mine or not last else "busy"
    if c.kind is CommandKind.SET_PLAYER and mine and c.player == st.player:
        return None
    if not mine and not (c.confirm and c.kind in (CommandKind.START, CommandKind.STOP,
                                                  CommandKind.SET_PLAYER)):  # fmt: skip
        return "busy"
    if mine and c.kind in (CommandKind.START, CommandKind.SET_PLAYER) and not c.confirm:
        return "running"
    return None


def session_changes(
    status: EngineStatus,
    state: WorkoutState | None,
    clock: SessionClock | None,
    run: PlanRun | None,
    set_key: SetKey | None,
    recorder: SetRecorder | None,
) -> dict[str, Any]:
    """The status fields of the session's clock, plan, drift, stored ids and database health
    as they are now (``paused`` only while a session runs): for one ``replace`` of the status,
    which the engine makes every frame (a replace of its ~45 fields costs ~10 us)."""
    set_id = None if recorder is None else recorder.last_session_id
    if run is None:
        drift = pace_drift([state.rep_times]) if state is not None else None
        out: dict[str, Any] = dict(
            plan=None, plan_name=None, block=None, blocks=None, round=None, rounds=None,
            interval=None, remaining_s=None, target=None, next=None, set_id=set_id,
            session_id=set_id,
            drift=None if drift is None else drift.cue.value,
            drift_pct=None if drift is None else drift.pct,
        )  # fmt: skip
        busy = session_busy(status.active, None, None)
        out["elapsed_s"] = None if clock is None or not busy else round(clock.t(), 2)
    else:
        if set_key is not None and state is not None:
            run.record_reps(set_key, state.rep_times)
        ps, nxt = run.state, run.state.next_block
        cue, pct = run.drift()
        remaining = ps.remaining_s
        out = dict(
            plan=run.plan.id, plan_name=run.plan.name, block=ps.block,
            blocks=len(run.plan.blocks), round=ps.round, rounds=ps.rounds,
            interval=ps.interval.value,
            remaining_s=None if remaining is None else round(remaining, 2),
            elapsed_s=round(ps.elapsed_s, 2), target=ps.target,
            next=None if nxt is None else nxt.exercise, drift=cue, drift_pct=pct, set_id=set_id,
            session_id=None if recorder is None else recorder.plan_session_id,
        )  # fmt: skip
        busy = session_busy(status.active, run.plan.id, ps.interval.value)
    out["paused"] = clock is not None and clock.paused and busy
    if recorder is not None:  # the history database and its journal backlog
        out["health"] = {**status.health, "database": recorder.health()}
    return out


def ended_message(source_id: str, failed: bool) -> str:
    """What a person reads when the source stops: the video ended, the camera disconnected."""
    if "://" in source_id:
        return "the video stream stopped"
    if (
        not source_id.isdigit()
        and source_id not in ("auto", "picamera")
        and Path(source_id).exists()
    ):
        return "the video could not be read" if failed else "the video ended"
    return "camera disconnected"
