"""Exercise definitions: one TOML data file per exercise, validated at load with pydantic.

A definition names the keypoints it needs, the features it measures (joint angles, heights and
distances normalised by torso length), the start pose that arms counting, an optional posture
guard, the ordered phases of one repetition (enter and exit thresholds = hysteresis, a minimum
time in each phase), what counts as an attempt, form rules and the range-of-motion target.
Errors name the file and the key, e.g. ``push_up.toml: phases.1.when.0.below: ...``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hiitpi.core.keypoints import Keypoint
from hiitpi.datafiles import packaged, parse_model, read_file
from hiitpi.errors import ExerciseError
from hiitpi.referee.person import FORGET_S
from hiitpi.referee.view import ALL_VIEWS, View

SIDES = ("left", "right")
FeatureKind = Literal["angle", "distance", "height", "incline", "offset"]
SideMode = Literal["best", "mean", "min", "max", "left", "right", "each"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def sided_names(name: str) -> tuple[str, ...]:
    """``"elbow"`` -> ``("left_elbow", "right_elbow")``; an explicit name maps to itself."""
    if name.startswith(("left_", "right_")) or name == "nose":
        return (name,)
    return (f"left_{name}", f"right_{name}")


def _check_point(name: str) -> None:
    for full in sided_names(name):
        Keypoint.from_name(full)


class FeatureSpec(_Model):
    """How one feature is measured.

    - ``angle``: the angle at the middle of three points, degrees.
    - ``distance``: between two points, divided by ``per``.
    - ``height``: how far the second point is above the first, divided by ``per``.
    - ``incline``: the segment's angle from the horizontal, degrees (0 = level, 90 = upright).
    - ``offset``: signed distance of the middle point below the line through the outer two
      (positive = towards the floor), divided by ``per``.

    ``fallback``: other points measured the same way while ``points`` are not all visible
    (a squat's hip angle when the feet are out of frame); the calibrated signal absorbs the
    difference in range.

    ``space = "world"``: an angle from the 3D world landmarks where the pose has them (the
    image otherwise): not foreshortened by the camera's angle, so a depth standard holds
    from the front as from the side.

    ``per`` = ``shoulder_width``/``hip_width`` cancels the foreshortening of sideways lengths
    when the person turns; the feature is unknown (NaN) while that width is below ``min_per``
    torso lengths (seen from the side it cannot be judged).

    Point names without ``left_``/``right_`` are resolved per side; ``side`` says how the two
    sides combine (``best`` = the side seen with most confidence, ``each`` = one value per side
    for alternating exercises).
    """

    kind: FeatureKind
    points: list[str]
    fallback: list[str] = Field(default_factory=list)
    space: Literal["image", "world"] = "image"
    side: SideMode = "best"
    per: Literal["torso", "shoulder_width", "hip_width", "none"] = "torso"
    min_per: float = Field(0.0, ge=0, le=2)

    @model_validator(mode="after")
    def _check(self) -> Self:
        need = 3 if self.kind in ("angle", "offset") else 2
        if len(self.points) != need:
            raise ValueError(f"a {self.kind} feature needs {need} points, got {len(self.points)}")
        if self.fallback and len(self.fallback) != need:
            raise ValueError(f"fallback needs {need} points too, got {len(self.fallback)}")
        for p in self.points + self.fallback:
            _check_point(p)
        return self

    @property
    def sided(self) -> bool:
        return any(len(sided_names(p)) == 2 for p in self.points)


class Condition(_Model):
    """``feature >= above`` (or ``<= below``) to enter; stays true until it crosses ``exit``.

    While the feature cannot be measured the condition blocks (default) or passes.
    """

    feature: str
    above: float | None = None
    below: float | None = None
    exit: float | None = None
    code: str = ""
    reason: str = ""
    if_unknown: Literal["block", "pass"] = "block"

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of 'above' or 'below'")
        if self.exit is not None:
            if self.above is not None and self.exit > self.above:
                raise ValueError(f"exit {self.exit} must be <= above {self.above}")
            if self.below is not None and self.exit < self.below:
                raise ValueError(f"exit {self.exit} must be >= below {self.below}")
        return self

    @property
    def threshold(self) -> float:
        return self.above if self.above is not None else self.below  # type: ignore[return-value]


class Gate(_Model):
    """Conditions that must all hold for ``hold_s`` (start pose) or may fail for ``grace_s``.

    ``or_when``: alternative condition lists; the gate holds when ``when`` or any of them
    holds (a plank seen from the side OR from the front).
    """

    when: list[Condition] = Field(default_factory=list)
    or_when: list[list[Condition]] = Field(default_factory=list)
    hold_s: float = Field(0.5, ge=0, le=10)
    grace_s: float = Field(1.0, ge=0, le=30)

    @property
    def conditions(self) -> list[Condition]:
        return self.when + [c for alt in self.or_when for c in alt]

    @property
    def options(self) -> list[list[Condition]]:
        return [self.when, *self.or_when]


class Phase(_Model):
    """One phase of a repetition; an ``optional`` phase may be skipped (a burpee's chest to
    the floor), a required one never: phases are passed in their order."""

    name: str
    when: list[Condition] = Field(min_length=1)
    or_when: list[list[Condition]] = Field(default_factory=list)
    min_s: float = Field(0.05, ge=0, le=10)
    optional: bool = False

    @property
    def options(self) -> list[list[Condition]]:
        """``when`` or any ``or_when`` list: the phase holds when one of them holds."""
        return [self.when, *self.or_when]


PROGRESS = "progress"


class Signal(_Model):
    """The primary signal whose cycles are counted, calibrated to this person's range.

    ``rest`` and ``turn`` are its nominal values at rest and at the turning point (the prior
    before the first repetition); ``min_range`` (the signal's units) is the smallest movement
    that can count, so fidgeting never does. Phase conditions then use the feature
    ``progress``: 0 at this person's rest level, 1 at their usual turning point.
    """

    feature: str
    rest: float
    turn: float
    min_range: float = Field(gt=0)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.rest == self.turn:
            raise ValueError("rest and turn must differ")
        if self.min_range > abs(self.turn - self.rest):
            raise ValueError("min_range must not exceed the nominal range |turn - rest|")
        return self


class Rule(_Model):
    """A form rule over one attempt: ``agg`` of ``feature`` must stay above/below a limit.

    ``effect = "no_rep"`` turns the attempt into a no-rep; ``"quality"`` lowers its quality.
    """

    code: str
    message: str
    feature: str
    agg: Literal["min", "max"]
    above: float | None = None
    below: float | None = None
    effect: Literal["no_rep", "quality"] = "no_rep"
    penalty: float = Field(0.4, ge=0, le=1)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of 'above' or 'below'")
        return self


class Rom(_Model):
    """Range of motion: ``feature`` travels from ``start`` towards ``target`` (1.0 = reached)."""

    feature: str
    start: float
    target: float

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.start == self.target:
            raise ValueError("start and target must differ")
        return self


class Views(_Model):
    """The camera views an exercise counts from (default: all) and judges form from (default:
    the ones it counts from).

    From a view not in ``count`` the referee does not count and says how to turn the camera
    (``hint``, or one made from ``count``); from a view in ``count`` but not in ``judge`` reps
    count on their movement alone, with ``form_judged = False``. ``lying``: done on the floor,
    so a body facing the camera means the camera is overhead.
    """

    count: list[View] = Field(default_factory=lambda: list(ALL_VIEWS), min_length=1)
    judge: list[View] = Field(default_factory=lambda: list(ALL_VIEWS))
    lying: bool = False
    hint: str = Field("", max_length=120)

    @model_validator(mode="before")
    @classmethod
    def _judge_defaults_to_count(cls, data: Any) -> Any:
        if isinstance(data, dict) and "judge" not in data and "count" in data:
            return {**data, "judge": data["count"]}
        return data

    @model_validator(mode="after")
    def _check(self) -> Self:
        for name in ("count", "judge"):
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise ValueError(f"{name}: a view is listed twice")
        outside = [v.value for v in self.judge if v not in self.count]
        if outside:
            raise ValueError(f"judge: {', '.join(outside)} not in count (form needs a count)")
        return self


class ExerciseDefinition(_Model):
    """One exercise. Times are seconds, angles degrees, lengths torso lengths.

    - ``required``: alternative keypoint groups; counting needs one group visible.
    - ``start``: the pose that arms counting (held ``hold_s``); ``guard``: posture that must
      keep holding while armed (may fail for ``grace_s`` before the referee disarms).
    - ``phases``: phase 0 is the start/rest phase; a rep passes every later phase in order.
      ``count_at = "return"`` counts on coming back to phase 0, ``"turn"`` on reaching the last
      required phase when the standards already hold, else on leaving it (judged then on its
      extreme, not on the frame it was reached).
    - ``attempt``: any of these makes a movement an attempt (a no-rep if it misses a phase).
    - ``min_rep_s`` / ``max_rep_s``: bounds on the time spent away from phase 0 (up to the
      last phase for ``turn``); ``lost_s``: how long joints may vanish before disarming
      (default: as long as the person tracker can tell that the same person came back, so
      a dropout of the pose model is bridged and the attempt in progress goes on).
    - ``sides``: with per-side (``side = "each"``) phases, ``"each"`` counts every side's
      cycle (high knees: the legs take turns); ``"merge"`` lets the sides move together or
      in turn (curls): cycles of the two sides that overlap in time are one rep.
    """

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    kind: Literal["reps", "hold"] = "reps"
    count_at: Literal["return", "turn"] = "return"
    description: str = ""
    required: list[list[str]] = Field(min_length=1)
    features: dict[str, FeatureSpec] = Field(min_length=1)
    start: Gate
    guard: Gate = Gate()
    phases: list[Phase] = Field(default_factory=list)
    attempt: list[Condition] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    rom: Rom | None = None
    signal: Signal | None = None
    min_rep_s: float = Field(0.25, ge=0, le=30)
    max_rep_s: float = Field(20.0, gt=0, le=600)
    lost_s: float = Field(FORGET_S, ge=0, le=30)
    sides: Literal["each", "merge"] = "each"
    views: Views = Views()

    @model_validator(mode="after")
    def _check(self) -> Self:
        for group in self.required:
            for p in group:
                _check_point(p)
        names = set(self.features)
        if self.signal is not None:
            if self.signal.feature not in names:
                raise ValueError(f"signal.feature: unknown feature {self.signal.feature!r}")
            if PROGRESS in names:
                raise ValueError(f"{PROGRESS!r} is the calibrated signal: not a feature name")
            names.add(PROGRESS)
        used = [c.feature for c in self.start.conditions + self.guard.conditions + self.attempt]
        used += [c.feature for ph in self.phases for opt in ph.options for c in opt]
        used += [r.feature for r in self.rules]
        used += [self.rom.feature] if self.rom else []
        for f in used:
            if f not in names:
                raise ValueError(f"unknown feature {f!r}; defined: {', '.join(sorted(names))}")
        if self.kind == "reps" and len(self.phases) < 2:
            raise ValueError("a reps exercise needs at least two phases")
        if self.phases and self.phases[0].optional:
            raise ValueError("phase 0 is the rest phase: it cannot be optional")
        if self.phases and all(ph.optional for ph in self.phases[1:]):
            raise ValueError("a repetition needs at least one required phase after phase 0")
        if self.min_rep_s >= self.max_rep_s:
            raise ValueError("min_rep_s must be < max_rep_s")
        if self.sides == "merge" and not self.alternating:
            raise ValueError('sides = "merge" needs phases on a side = "each" feature')
        return self

    @property
    def alternating(self) -> bool:
        """True when phases use per-side (``side = "each"``) features: each side counts."""
        each = {n for n, f in self.features.items() if f.side == "each"}
        if self.signal is not None and self.signal.feature in each:
            each.add(PROGRESS)
        return any(c.feature in each for ph in self.phases for opt in ph.options for c in opt)


def parse_definition(text: str, origin: str) -> ExerciseDefinition:
    """Parse and validate one definition; :class:`ExerciseError` names ``origin`` and the key."""
    return parse_model(text, origin, ExerciseDefinition, ExerciseError)


def load_definition_file(path: str | Path) -> ExerciseDefinition:
    return read_file(path, parse_definition, ExerciseError)


@cache
def _builtin() -> dict[str, ExerciseDefinition]:
    return {d.id: d for d in packaged("hiitpi.referee", "exercises", parse_definition)}


def list_exercises() -> list[ExerciseDefinition]:
    """Every built-in exercise, sorted by id."""
    return [d for _, d in sorted(_builtin().items())]


def load_exercise(exercise_id: str) -> ExerciseDefinition:
    """The built-in definition of ``exercise_id``; an unknown id lists the valid ones."""
    defs = _builtin()
    if exercise_id not in defs:
        valid = ", ".join(sorted(defs))
        raise ExerciseError(f"unknown exercise {exercise_id!r}; valid: {valid}")
    return defs[exercise_id]
