"""Workout state: pace, tempo consistency, arming/disarming, timed holds, purity."""

from __future__ import annotations

import pytest

from hiitpi.core.events import EventKind
from hiitpi.referee import Referee, load_exercise
from hiitpi.referee.judging import pace_and_tempo

from . import skeleton as sk


def test_pace_is_reps_per_30_seconds_over_the_window() -> None:
    times = [2.0 * i for i in range(1, 11)]  # a rep every 2 s
    pace, cv = pace_and_tempo(times, 20.0, 30.0)
    assert pace == pytest.approx(15.0, rel=0.05)
    assert cv == pytest.approx(0.0, abs=1e-9)


def test_pace_forgets_reps_outside_the_window_and_tempo_cv_grows_when_uneven() -> None:
    assert pace_and_tempo([1.0, 2.0, 3.0], 100.0, 30.0) == (0.0, 0.0)
    _, cv = pace_and_tempo([1.0, 2.0, 5.0, 6.0, 10.0], 10.0, 30.0)
    assert cv > 0.3


def test_state_reports_pace_tempo_and_rep_times() -> None:
    ref = Referee(load_exercise("push_up"))
    paces = []
    for t, pose in sk.sequence(sk.push_up, sk.reps(6, 1.5)):
        state, events = ref.update(pose, t)
        if events:
            paces.append(state.pace)
    st = ref.state
    assert st.reps == 6 and len(st.rep_times) == 6
    assert paces[-1] == pytest.approx(20.0, rel=0.1)  # one rep per 1.5 s
    assert st.pace < paces[-1]  # resting lowers the pace
    assert st.tempo_cv < 0.1
    assert st.armed and st.phase == "up"
    assert st.message.startswith("Rep")


def test_a_resumed_set_goes_on_counting_numbering_and_pacing() -> None:
    frames = sk.sequence(sk.push_up, sk.reps(8, 1.5))
    whole = Referee(load_exercise("push_up"))
    first = Referee(load_exercise("push_up"))
    cut = len(frames) // 2
    for t, pose in frames[:cut]:
        whole.update(pose, t)
        first.update(pose, t)
    crashed = first.state
    assert 0 < crashed.reps < 8

    resumed = Referee(load_exercise("push_up"))
    resumed.resume(crashed)
    assert resumed.state.reps == crashed.reps and not resumed.state.armed
    events = []
    for t, pose in frames[cut:]:
        whole.update(pose, t)
        state, new = resumed.update(pose, t)
        if new and not events:
            # one new rep already has a pace: the reps before the crash are in its window
            assert state.pace == pytest.approx(20.0, rel=0.15)
        events += new
    assert [e.index for e in events] == list(range(crashed.reps + 1, resumed.state.reps + 1))
    assert resumed.state.rep_times[: crashed.reps] == crashed.rep_times
    # re-arming costs at most the rep in progress at the crash
    assert whole.state.reps - 1 <= resumed.state.reps <= whole.state.reps == 8


def test_resume_refuses_another_exercise() -> None:
    state = Referee(load_exercise("squat")).state
    with pytest.raises(ValueError, match="squat"):
        Referee(load_exercise("push_up")).resume(state)


def test_not_armed_until_the_start_pose_is_held() -> None:
    ref = Referee(load_exercise("push_up"))
    state, events = ref.update(None, 0.0)
    assert (state.armed, state.phase, events) == (False, "idle", [])
    for t, pose in sk.sequence(sk.push_up, [(0.0, 0.0), (0.1, 0.0)]):
        state, _ = ref.update(pose, t)
    assert not state.armed  # held only 0.1 s
    for t, pose in sk.sequence(sk.push_up, [(0.0, 0.0), (0.5, 0.0)]):
        state, _ = ref.update(pose, 0.2 + t)
    assert state.armed


def test_disarms_when_the_person_leaves_and_reset_forgets_everything() -> None:
    ref = sk.feed(Referee(load_exercise("squat")), sk.sequence(sk.squat, sk.reps(2, 2.0)))
    assert ref.state.reps == 2
    t0 = ref.state.t
    for i in range(int((ref.definition.lost_s + 0.5) * 30)):
        ref.update(None, t0 + (i + 1) / 30.0)
    assert not ref.state.armed and ref.state.reps == 2
    ref.reset()
    assert (ref.state.reps, ref.events, ref.state.armed) == (0, [], False)


def test_same_input_same_output() -> None:
    frames = sk.noisy(sk.sequence(sk.squat, sk.reps(3, 1.5)), sigma=2.0, seed=4)
    a = sk.feed(Referee(load_exercise("squat")), frames)
    b = sk.feed(Referee(load_exercise("squat")), frames)
    assert a.events == b.events and a.state == b.state


def test_plank_counts_seconds_never_reps_and_flags_sagging_hips() -> None:
    good = sk.sequence(sk.push_up, [(0.0, 0.0), (6.0, 0.0)])
    sag = [(t, sk.push_up(0.0, sag=0.8)) for t, _ in good[:60]]
    ref = sk.feed(Referee(load_exercise("plank")), sk.concat(good, sag, good))
    st = ref.state
    assert st.reps == 0
    assert 10.0 < st.hold_s < 12.5
    assert [e.reason_code for e in ref.events] == ["hips_sagging"]
    assert all(e.kind == EventKind.NO_REP for e in ref.events)
