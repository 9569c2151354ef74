"""What the referee reports: rep / no-rep events and a workout-state snapshot."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    REP = "rep"
    NO_REP = "no_rep"


@dataclass(frozen=True, slots=True)
class RepEvent:
    """One attempt the referee judged.

    For ``kind == REP`` ``index`` is the 1-based rep number; for a no-rep it is the 1-based
    no-rep number and ``reason_code``/``reason`` say why it did not count.
    ``quality`` in [0, 1]; ``rom`` is the range of motion achieved relative to the target (1.0 =
    exactly the target depth, >1 deeper).
    ``form_judged`` is False when the standards (depth, lockout, hip line) could not be judged
    for this attempt (e.g. from the camera's angle); ``form_reason`` then says why.
    """

    kind: EventKind
    index: int
    t: float
    t_start: float
    duration: float
    quality: float
    rom: float
    reason_code: str | None = None
    reason: str | None = None
    form_judged: bool = True
    form_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = self.kind.value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RepEvent:
        return cls(**{**d, "kind": EventKind(d["kind"])})


@dataclass(frozen=True, slots=True)
class WorkoutState:
    """A snapshot of the referee after a frame: what the UI shows."""

    exercise: str
    t: float
    reps: int = 0
    no_reps: int = 0
    phase: str = "idle"
    armed: bool = False
    pace: float = 0.0  # reps per 30 s over a sliding window
    tempo_cv: float = 0.0  # coefficient of variation of rep durations (0 = perfectly steady)
    last_reason: str | None = None
    view: str | None = None  # the camera's view: side, front, three_quarter, overhead
    view_confidence: float = 0.0  # in [0, 1]
    rep_times: tuple[float, ...] = field(default_factory=tuple)
    message: str = ""
    hold_s: float = 0.0  # seconds held with good form (timed holds such as plank)
    form_judged: bool = True  # False: reps count but form is not judged (form_reason says why)
    form_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rep_times"] = list(self.rep_times)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WorkoutState:
        return cls(**{**d, "rep_times": tuple(d.get("rep_times", ()))})
