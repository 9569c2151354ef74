"""Workout plans as data: one TOML file per plan, validated at load with pydantic.

A plan is an ordered list of blocks, repeated ``rounds`` times (or, with ``time_cap_s``, as
many times as fit in the cap: AMRAP). A block is one exercise with work by time (``work_s``),
by rep target (``target``; with ``work_s`` too, whichever comes first), then ``rest_s`` of rest;
``period_s`` makes it an EMOM block: the block lasts exactly that long, work until the target,
the rest of the period is rest. ``countdown_s`` (3 by default) counts down before the first
work block and in the last seconds of every rest.

Shipped presets live in ``hiitpi/plans/presets``; a user's own in ``<data_dir>/plans``. Errors
name the file and the key, e.g. ``plans/my.toml: blocks.0.work_s: ...``.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hiitpi.datafiles import packaged, parse_model, read_file
from hiitpi.errors import ExerciseError, PlanError
from hiitpi.referee import load_exercise

log = logging.getLogger(__name__)

PLAN_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
MAX_BLOCK_S = 3600.0
MAX_CAP_S = 4 * 3600.0
USER_PLANS = "plans"  # folder of the user's plans under the data dir
PlanKind = Literal["tabata", "emom", "amrap", "circuit"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Block(_Model):
    """One exercise of a plan: work by time and/or rep target, then rest."""

    exercise: str
    work_s: float | None = Field(None, gt=0, le=MAX_BLOCK_S)
    target: int | None = Field(None, ge=1, le=1000)
    rest_s: float = Field(0.0, ge=0, le=MAX_BLOCK_S)
    period_s: float | None = Field(None, gt=0, le=MAX_BLOCK_S)

    @model_validator(mode="after")
    def _check(self) -> Self:
        try:
            load_exercise(self.exercise)
        except ExerciseError as exc:
            raise ValueError(str(exc)) from None
        if self.work_s is None and self.target is None:
            raise ValueError("give work_s (timed work), target (reps), or both")
        if self.period_s is not None:
            if self.rest_s:
                raise ValueError("with period_s the rest is the rest of the period: leave rest_s")
            if self.work_s is not None and self.work_s > self.period_s:
                raise ValueError(f"work_s {self.work_s} must be <= period_s {self.period_s}")
        return self

    @property
    def timed(self) -> bool:
        """Work ends on a clock (``work_s`` or ``period_s``), not only on the target."""
        return self.work_s is not None or self.period_s is not None


class Plan(_Model):
    """An interval workout: blocks x rounds (or AMRAP within ``time_cap_s``)."""

    id: str = Field(pattern=PLAN_ID_PATTERN)
    name: str = Field(min_length=1, max_length=60)
    kind: PlanKind = "circuit"
    rounds: int = Field(1, ge=1, le=100)
    countdown_s: float = Field(3.0, ge=0, le=10)
    time_cap_s: float | None = Field(None, gt=0, le=MAX_CAP_S)
    blocks: list[Block] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.time_cap_s is not None and self.rounds != 1:
            raise ValueError("with time_cap_s the circuit repeats until the cap: leave rounds")
        if self.kind == "amrap" and self.time_cap_s is None:
            raise ValueError("an amrap plan needs time_cap_s")
        return self

    @property
    def open_rounds(self) -> bool:
        """True for AMRAP: rounds repeat until the time cap."""
        return self.time_cap_s is not None

    def to_toml(self) -> str:
        """The plan as a TOML document that :func:`parse_plan` reads back to an equal plan."""
        lines = [f"{k} = {_toml_value(v)}" for k, v in self._fields(self, {"blocks"}).items()]
        for block in self.blocks:
            lines += ["", "[[blocks]]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in self._fields(block, set()).items()]
        return "\n".join(lines) + "\n"

    @staticmethod
    def _fields(model: BaseModel, skip: set[str]) -> dict[str, object]:
        data = model.model_dump(exclude=skip, exclude_none=True)
        return {k: v for k, v in data.items() if not (k == "rest_s" and v == 0)}


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    return json.dumps(str(v), ensure_ascii=False)  # a JSON string is a TOML basic string


def parse_plan(text: str, origin: str) -> Plan:
    """Parse and validate one plan; :class:`PlanError` names ``origin`` and the key."""
    return parse_model(text, origin, Plan, PlanError)


def load_plan_file(path: str | Path) -> Plan:
    return read_file(path, parse_plan, PlanError)


@cache
def presets() -> dict[str, Plan]:
    """The shipped plans by id."""
    return {plan.id: plan for plan in packaged("hiitpi.plans", "presets", parse_plan)}


def _default_data_dir() -> Path:
    """The configured data dir ($HIITPI_CONFIG's file and HIITPI_* variables, as ``serve``
    reads them), for a caller that passes none."""
    from hiitpi.config import load_config

    return load_config().data_dir


def user_plans_dir(data_dir: str | Path | None = None) -> Path:
    base = Path(data_dir) if data_dir is not None else _default_data_dir()
    return base.expanduser() / USER_PLANS


def load_plans(data_dir: str | Path | None = None) -> tuple[dict[str, Plan], list[str]]:
    """Presets and the user's plans by id, and one error line per user file that is invalid.

    A user file that reuses a preset's id is refused (presets stay what the docs say).
    """
    plans = dict(presets())
    errors: list[str] = []
    folder = user_plans_dir(data_dir)
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        try:
            plan = load_plan_file(path)
        except PlanError as exc:
            errors.append(str(exc))
            continue
        if plan.id in presets():
            errors.append(f"{path}: id: {plan.id!r} is a preset's id; rename the file and id")
            continue
        plans[plan.id] = plan
    return plans, errors


def available_plans(data_dir: str | Path | None = None) -> list[Plan]:
    """Every usable plan (presets, then the user's), sorted by id; bad user files are logged."""
    plans, errors = load_plans(data_dir)
    for error in errors:
        log.warning("plan skipped: %s", error)
    return [p for _, p in sorted(plans.items())]


def load_plan(plan_id: str, data_dir: str | Path | None = None) -> Plan:
    """The plan ``plan_id``; an unknown id lists the valid ones."""
    plans, errors = load_plans(data_dir)
    if plan_id not in plans:
        mine = str(user_plans_dir(data_dir) / f"{plan_id}.toml")
        broken = next((e for e in errors if e.startswith(mine)), None)
        if broken is not None:  # the file is there: what is wrong in it, not "unknown"
            raise PlanError(f"plan {plan_id!r} cannot be used: {broken}")
        raise PlanError(f"unknown plan {plan_id!r}; valid: {', '.join(sorted(plans))}")
    return plans[plan_id]


def save_user_plan(plan: Plan, data_dir: str | Path | None = None) -> Path:
    """Write ``plan`` to ``<data_dir>/plans/<id>.toml`` (replacing it); returns the path."""
    if plan.id in presets():
        raise PlanError(f"id: {plan.id!r} is a preset's id; choose another id")
    folder = user_plans_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{plan.id}.toml"
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(plan.to_toml(), encoding="utf-8")
    tmp.replace(path)  # atomic: a reader never sees half a file
    return path


def delete_user_plan(plan_id: str, data_dir: str | Path | None = None) -> bool:
    """Remove a user plan; False when there is none of that id."""
    path = user_plans_dir(data_dir) / f"{plan_id}.toml"
    if plan_id in presets():
        raise PlanError(f"{plan_id!r} is a preset: it cannot be deleted")
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
