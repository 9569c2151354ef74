"""Interval workout plans as data (TOML presets and the user's own) and the pure interval engine.

``available_plans()`` lists them, ``load_plan(id)`` loads one, ``save_user_plan(plan)`` writes
one to ``<data_dir>/plans``; ``begin``/``advance``/``skip``/``stop`` run one on a clock the
caller owns (the live engine's); ``pace_drift`` says whether the pace holds.
"""

from hiitpi.plans.drift import (
    DEFAULT_DRIFT,
    Drift,
    DriftCue,
    DriftParams,
    block_drift,
    pace_drift,
)
from hiitpi.plans.intervals import Interval, PlanState, advance, begin, skip, stop
from hiitpi.plans.model import (
    Block,
    Plan,
    available_plans,
    delete_user_plan,
    load_plan,
    load_plan_file,
    load_plans,
    parse_plan,
    presets,
    save_user_plan,
    user_plans_dir,
)

__all__ = [
    "DEFAULT_DRIFT",
    "Block",
    "Drift",
    "DriftCue",
    "DriftParams",
    "Interval",
    "Plan",
    "PlanState",
    "advance",
    "available_plans",
    "begin",
    "block_drift",
    "delete_user_plan",
    "load_plan",
    "load_plan_file",
    "load_plans",
    "pace_drift",
    "parse_plan",
    "presets",
    "save_user_plan",
    "skip",
    "stop",
    "user_plans_dir",
]
