"""Judging a finished attempt (rep or no-rep, quality, range of motion) and pace/tempo."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from hiitpi.referee.definition import Condition, ExerciseDefinition, Rom, Rule
from hiitpi.referee.machine import Attempt, Cycle

TOO_FAST = ("too_fast", "Too fast: control the movement through the whole range")
TOO_SLOW = ("too_slow", "Too slow: the attempt took longer than a repetition can")


@dataclass(frozen=True, slots=True)
class Verdict:
    quality: float
    rom: float
    reason_code: str | None = None
    reason: str | None = None
    counts: bool = False  # a rep; its reason (if any) is a form note that lowered the quality


def rule_value(rule: Rule, attempt: Attempt) -> float:
    src = attempt.lows if rule.agg == "min" else attempt.highs
    return src.get(rule.feature, math.nan)


def violates(rule: Rule, value: float) -> bool:
    """True when ``value`` breaks the rule (an unknown value never does)."""
    if not math.isfinite(value):
        return False
    if rule.above is not None:
        return value < rule.above
    return rule.below is not None and value > rule.below


def range_of_motion(rom: Rom | None, attempt: Attempt) -> float:
    """How far the attempt went from ``start`` towards ``target`` (1.0 = target reached)."""
    if rom is None:
        return 1.0
    toward_low = rom.target < rom.start
    extreme = (attempt.lows if toward_low else attempt.highs).get(rom.feature, math.nan)
    if not math.isfinite(extreme):
        return 0.0
    return max(0.0, (extreme - rom.start) / (rom.target - rom.start))


def _best(cond: Condition, attempt: Attempt) -> float:
    src = attempt.highs if cond.above is not None else attempt.lows
    return src.get(cond.feature, math.nan)


def missed_condition(conds: Sequence[Condition], attempt: Attempt) -> Condition:
    """The condition of the missed phase the attempt fell shortest of (or never measured)."""

    def shortfall(c: Condition) -> float:
        v = _best(c, attempt)
        if not math.isfinite(v):
            return math.inf
        gap = c.threshold - v if c.above is not None else v - c.threshold
        return gap / max(abs(c.threshold), 1.0)

    return max(conds, key=shortfall)


def _broken_standard(definition: ExerciseDefinition, attempt: Attempt) -> Rule | None:
    """The first no-rep standard the attempt broke, if any."""
    for rule in definition.rules:
        if rule.effect == "no_rep" and violates(rule, rule_value(rule, attempt)):
            return rule
    return None


def judge(definition: ExerciseDefinition, cycle: Cycle, form: bool = True) -> Verdict | None:
    """The verdict on a finished attempt; None when it was too short to be a movement at all.

    The phases decide whether the movement was a whole repetition (relative to this
    person's range); then the fixed standards (``rules``) judge it, on the attempt's extreme
    values, unless ``form`` is False (the standards cannot be judged, e.g. from this view).
    """
    attempt = cycle.attempt
    rom = range_of_motion(definition.rom, attempt)
    if cycle.duration + cycle.dt < definition.min_rep_s:
        if not cycle.complete:
            return None
        return Verdict(0.0, rom, *TOO_FAST)
    if cycle.missed is not None:
        broken = _broken_standard(definition, attempt) if form else None
        if broken is not None:  # the standard says what was missing, in its own words
            return Verdict(0.0, rom, broken.code, broken.message)
        cond = missed_condition(cycle.missed.when, attempt)  # the main option names it
        code = cond.code or f"{cycle.missed.name}_not_reached"
        reason = cond.reason or f"Did not reach the {cycle.missed.name} position"
        return Verdict(0.0, rom, code, reason)
    if cycle.duration > definition.max_rep_s:
        return Verdict(0.0, rom, *TOO_SLOW)
    quality = min(1.0, rom)
    note: Rule | None = None
    for rule in definition.rules if form else ():
        if not violates(rule, rule_value(rule, attempt)):
            continue
        if rule.effect == "no_rep":
            return Verdict(0.0, rom, rule.code, rule.message)
        quality *= 1.0 - rule.penalty
        note = note or rule
    quality = max(0.0, min(1.0, quality))
    if note is None:
        return Verdict(quality, rom, counts=True)
    return Verdict(quality, rom, note.code, note.message, counts=True)


def violated_now(rules: Sequence[Rule], features: Mapping[str, float]) -> list[Rule]:
    """Rules broken by one frame's features (used for timed holds)."""
    return [r for r in rules if violates(r, features.get(r.feature, math.nan))]


def pace_and_tempo(rep_times: Sequence[float], t: float, window_s: float) -> tuple[float, float]:
    """Pace in reps per 30 s over the last ``window_s`` and the tempo's coefficient of variation.

    The pace window starts at the first rep inside it minus one mean interval, so the first
    reps of a set already show a realistic pace instead of a ramp from zero.
    """
    recent = tuple(x for x in rep_times if t - window_s < x <= t)
    if len(recent) < 2:
        return 0.0, 0.0
    mean_gap, cv = _gaps(recent)
    span = min(window_s, t - recent[0] + mean_gap)
    pace = 30.0 * len(recent) / span if span > 0 else 0.0
    return round(pace, 2), round(cv, 3)


@lru_cache(maxsize=4)
def _gaps(rep_times: tuple[float, ...]) -> tuple[float, float]:
    """The mean interval between reps and its coefficient of variation (a pure function of
    the reps in the window, so the frames between two reps reuse it)."""
    gaps = np.diff(np.asarray(rep_times))
    mean_gap = float(gaps.mean())
    cv = float(gaps.std() / mean_gap) if len(gaps) >= 2 and mean_gap > 0 else 0.0
    return mean_gap, cv
