"""The pure interval engine on the presets' shapes: every boundary at its scheduled time."""

from __future__ import annotations

import pytest

from hiitpi.plans import Interval, Plan, PlanState, advance, begin, presets, skip, stop


def _walk(plan: Plan, times: list[float], counts: dict[float, int] | None = None) -> list[tuple]:
    s = begin(plan, 0.0)
    out = []
    for t in times:
        s = advance(t, s, (counts or {}).get(t, 0))
        out.append((t, s.interval.value, s.block, s.round, s.remaining_s))
    return out


def test_tabata_countdown_work_rest_and_the_last_3_s_of_rest_count_down() -> None:
    plan = presets()["tabata-push_up"]
    got = _walk(plan, [0, 2.5, 3, 22.9, 23, 29.9, 30, 32.9, 33, 213, 232.9, 233])
    assert got == [
        (0, "countdown", 0, 1, 3.0),
        (2.5, "countdown", 0, 1, 0.5),
        (3, "work", 0, 1, 20.0),
        (22.9, "work", 0, 1, pytest.approx(0.1)),
        (23, "rest", 0, 1, 7.0),
        (29.9, "rest", 0, 1, pytest.approx(0.1)),
        (30, "countdown", 0, 2, 3.0),
        (32.9, "countdown", 0, 2, pytest.approx(0.1)),
        (33, "work", 0, 2, 20.0),
        (213, "work", 0, 8, 20.0),  # round 8 starts at 3 + 7 * 30
        (232.9, "work", 0, 8, pytest.approx(0.1)),
        (233, "done", 0, 8, None),  # no rest after the last block
    ]


def test_a_long_jump_lands_where_the_schedule_says() -> None:
    plan = presets()["tabata-push_up"]
    s = advance(124.0, begin(plan, 0.0), 0)
    assert (s.interval, s.round, s.started, s.ends) == (Interval.WORK, 5, 123.0, 143.0)


def test_emom_rep_target_ends_work_and_the_rest_of_the_minute_is_rest() -> None:
    plan = presets()["emom-squat"]
    s = advance(3.0, begin(plan, 0.0), 0)
    assert s.interval is Interval.WORK and s.target == 10 and s.remaining_s == 60.0
    s = advance(20.0, s, 9)
    assert s.interval is Interval.WORK
    s = advance(25.0, s, 10)  # the referee counted the target at 25 s
    assert (s.interval, s.started, s.ends, s.countdown_after) == (Interval.REST, 25.0, 60.0, 3.0)
    assert s.next_block is not None and s.next_block.exercise == "squat"
    s = advance(61.0, s, 0)
    assert (s.interval, s.round, s.remaining_s) == (Interval.COUNTDOWN, 2, 2.0)
    s = advance(63.0, s, 0)
    assert (s.interval, s.round, s.ends) == (Interval.WORK, 2, 123.0)  # the next minute
    s = advance(123.0, s, 4)  # target missed: the minute ends the block, no rest left
    assert (s.interval, s.round, s.started) == (Interval.WORK, 3, 123.0)


def test_amrap_rounds_of_the_circuit_until_the_cap() -> None:
    plan = presets()["amrap-circuit"]
    s = advance(3.0, begin(plan, 0.0), 0)
    assert s.cap_ends == 483.0 and s.rounds is None and s.remaining_s == 480.0
    t = 3.0
    for round_ in (1, 2):
        for block, target in enumerate((5, 10, 15)):
            assert (s.interval, s.block, s.round) == (Interval.WORK, block, round_)
            t += 20.0
            s = advance(t, s, target)  # no rest: the next block starts at once
    assert (s.block, s.round) == (0, 3)
    s = advance(500.0, s, 2)
    assert s.interval is Interval.DONE and s.started == 483.0 and s.round == 3


def test_circuit_mixes_targets_and_times_and_next_is_the_coming_block() -> None:
    plan = presets()["circuit-full-body"]
    s = advance(3.0, begin(plan, 0.0), 0)
    assert s.current.exercise == "squat" and s.next_block.exercise == "push_up"  # type: ignore[union-attr]
    s = advance(10.0, s, 12)
    assert (s.interval, s.ends) == (Interval.REST, 22.0)  # 15 s rest, last 3 s count down
    s = advance(22.0, s, 0)
    assert s.interval is Interval.COUNTDOWN and s.current.exercise == "push_up"
    s = advance(25.0, s, 0)
    assert (s.interval, s.ends) == (Interval.WORK, 55.0)


def test_skip_ends_the_running_interval_and_stop_ends_the_plan() -> None:
    plan = presets()["tabata-push_up"]
    s = begin(plan, 0.0)
    s = skip(1.0, s)
    assert (s.interval, s.started, s.ends) == (Interval.WORK, 1.0, 21.0)
    s = skip(5.0, s)
    assert (s.interval, s.ends) == (Interval.REST, 12.0)
    s = skip(6.0, s)
    assert (s.interval, s.round, s.ends) == (Interval.COUNTDOWN, 2, 9.0)
    s = stop(7.0, s)
    assert s.done and s.remaining_s is None and s.next_block is None
    assert skip(8.0, s).done


def test_no_countdown_when_the_plan_asks_for_none() -> None:
    plan = Plan.model_validate(
        {"id": "x", "name": "x", "countdown_s": 0, "rounds": 2,
         "blocks": [{"exercise": "squat", "work_s": 5, "rest_s": 2}]}
    )  # fmt: skip
    s = begin(plan, 10.0)
    assert (s.interval, s.ends) == (Interval.WORK, 15.0)
    s = advance(15.0, s, 0)
    assert (s.interval, s.ends) == (Interval.REST, 17.0)
    assert advance(17.0, s, 0).interval is Interval.WORK


def test_the_clock_cannot_go_backwards() -> None:
    s: PlanState = advance(5.0, begin(presets()["tabata-push_up"], 0.0), 0)
    with pytest.raises(ValueError, match="backwards"):
        advance(4.0, s, 0)
