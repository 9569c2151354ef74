"""What the recorder holds until the history database has it: sets, plan runs and fixes, each
named by a uuid, and how they become journal records and come back from them.

The in-memory queue and the journal (``hiitpi.engine.journal``) hold the same things: the
queue is what the writer thread works through, the journal is what a crash leaves behind.
:func:`recover` rebuilds the queue from the journal's records at start-up; the database makes
the replay idempotent (rows found by uuid, reps by set and index).
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hiitpi.core.events import RepEvent, WorkoutState
from hiitpi.store import SessionStatus

log = logging.getLogger(__name__)


def new_uuid() -> str:
    return str(uuidlib.uuid4())


def _when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _at(r: dict[str, Any]) -> datetime:
    """A record's time (now, should it have none)."""
    return _when(r.get("at")) or datetime.now(UTC)


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


@dataclass(eq=False)
class PendingPlan:
    """A plan session on its way to the database: created before its first set."""

    player: str
    plan_id: str
    plan_name: str
    plan_toml: str
    started_at: datetime
    uuid: str = field(default_factory=new_uuid)
    session_id: int | None = None
    finished: bool = False
    ended_at: datetime | None = None
    status: SessionStatus = SessionStatus.DONE

    def begin_record(self) -> dict[str, Any]:
        return {
            "type": "plan_begin", "plan": self.uuid, "player": self.player,
            "plan_id": self.plan_id, "plan_name": self.plan_name, "plan_toml": self.plan_toml,
            "at": _iso(self.started_at),
        }  # fmt: skip

    def end_record(self) -> dict[str, Any]:
        return {"type": "plan_end", "plan": self.uuid, "status": self.status.value,
                "at": _iso(self.ended_at)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Fix:
    """A person's +1/-1 on a set's count, named so that a replay stores it once."""

    delta: int
    at: datetime
    uuid: str = field(default_factory=new_uuid)


@dataclass(frozen=True, slots=True)
class LooseFix:
    """A fix of a set no longer queued (already written, or only in the database)."""

    set_uuid: str
    session_id: int | None
    fix: Fix


@dataclass(eq=False)
class PendingSet:
    """One set on its way to the database: created lazily, events queued, finished last."""

    player: str
    workout: str
    backend: str
    source: str
    started_at: datetime
    resume: bool
    uuid: str = field(default_factory=new_uuid)
    owner: str | None = None
    session_id: int | None = None
    events: list[RepEvent] = field(default_factory=list)
    finished: bool = False
    pace: float | None = None
    ended_at: datetime | None = None
    status: SessionStatus = SessionStatus.DONE
    plan: PendingPlan | None = None
    block: int | None = None
    round: int | None = None
    target: int | None = None
    corrections: list[Fix] = field(default_factory=list)
    state: WorkoutState | None = None  # the referee's state after the set's last event
    recovered: bool = False  # rebuilt from the journal at start-up (a crash left it)

    def has_work(self) -> bool:
        return self.session_id is None or bool(self.events or self.corrections) or self.finished

    def begin_record(self, station: str) -> dict[str, Any]:
        return {
            "type": "set_begin", "set": self.uuid,
            "plan": None if self.plan is None else self.plan.uuid, "player": self.player,
            "owner": self.owner, "workout": self.workout, "backend": self.backend,
            "source": self.source, "station": station, "block": self.block, "round": self.round,
            "target": self.target, "at": _iso(self.started_at),
        }  # fmt: skip

    def events_record(
        self, events: Iterable[RepEvent], state: WorkoutState | None
    ) -> dict[str, Any]:
        return {
            "type": "events", "set": self.uuid, "events": [e.to_dict() for e in events],
            "state": None if state is None else state.to_dict(),
        }  # fmt: skip

    def end_record(self) -> dict[str, Any]:
        return {
            "type": "set_end", "set": self.uuid, "status": self.status.value, "pace": self.pace,
            "state": None if self.state is None else self.state.to_dict(),
            "at": _iso(self.ended_at),
        }  # fmt: skip


def fix_record(set_uuid: str, fix: Fix) -> dict[str, Any]:
    return {"type": "correction", "set": set_uuid, "id": fix.uuid, "delta": fix.delta,
            "at": _iso(fix.at)}  # fmt: skip


@dataclass
class Recovered:
    """The queue a journal's records describe, oldest first."""

    plans: list[PendingPlan] = field(default_factory=list)
    sets: list[PendingSet] = field(default_factory=list)
    loose: list[LooseFix] = field(default_factory=list)


def recover(records: Iterable[dict[str, Any]]) -> Recovered:
    """Rebuild the recorder's queue from journal records (a record it cannot read is skipped,
    with a warning: the rest still replays)."""
    out = Recovered()
    plans: dict[str, PendingPlan] = {}
    sets: dict[str, PendingSet] = {}
    for r in records:
        try:
            _apply(r, out, plans, sets)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("journal record skipped (%s): %.200s", exc, r)
    return out


def _apply(
    r: dict[str, Any], out: Recovered, plans: dict[str, PendingPlan], sets: dict[str, PendingSet]
) -> None:
    kind = r["type"]
    if kind == "plan_begin":
        p = PendingPlan(r["player"], r["plan_id"], r["plan_name"], r["plan_toml"],
                        _at(r), uuid=r["plan"])  # fmt: skip
        plans[p.uuid] = p
        out.plans.append(p)
    elif kind == "plan_end":
        p = plans[r["plan"]]
        p.finished, p.status, p.ended_at = True, SessionStatus(r["status"]), _when(r["at"])
    elif kind == "set_begin":
        s = PendingSet(
            r["player"], r["workout"], r.get("backend", ""), r.get("source", ""),
            _at(r), resume=False, uuid=r["set"], owner=r.get("owner"),
            plan=plans.get(r["plan"]) if r.get("plan") else None, block=r.get("block"),
            round=r.get("round"), target=r.get("target"), recovered=True,
        )  # fmt: skip
        sets[s.uuid] = s
        out.sets.append(s)
    elif kind == "events":
        s = sets[r["set"]]
        s.events.extend(RepEvent.from_dict(e) for e in r["events"])
        if r.get("state") is not None:
            s.state = WorkoutState.from_dict(r["state"])
    elif kind == "correction":
        fix = Fix(int(r["delta"]), _at(r), uuid=r["id"])
        if r["set"] in sets:
            sets[r["set"]].corrections.append(fix)
        else:  # its set was written and compacted away before: found by uuid
            out.loose.append(LooseFix(r["set"], None, fix))
    elif kind == "set_end":
        s = sets[r["set"]]
        s.finished, s.status, s.pace = True, SessionStatus(r["status"]), r.get("pace")
        s.ended_at = _when(r["at"])
        if r.get("state") is not None:
            s.state = WorkoutState.from_dict(r["state"])
    else:
        raise ValueError(f"unknown record type {kind!r}")


@dataclass(frozen=True, slots=True)
class OpenSet:
    """The set a crash left open, as the journal (and the database) know it: what a restarted
    engine resumes from, or closes."""

    uuid: str
    player: str  # as the engine names them: "" for the guest
    owner: str | None
    workout: str
    state: WorkoutState | None  # after its last counted event (None: nothing counted yet)
    in_plan: bool
