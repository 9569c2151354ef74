"""The main person: a second skeleton in view, a passer-by, a switch of person between frames."""

from __future__ import annotations

import numpy as np
import pytest

from hiitpi.core.pose import Pose
from hiitpi.referee import Referee, RefereePipeline, load_exercise
from hiitpi.referee.person import PersonTracker, main_person
from hiitpi.referee.pipeline import MSG_SWITCH

from . import skeleton as sk


def moved(pose: Pose, dx: float = 0.0, dy: float = 0.0, scale: float = 1.0) -> Pose:
    """A second person: the same skeleton shifted by (dx, dy) pixels and scaled about its
    hips (a smaller scale = further from the camera)."""
    centre = np.nanmean(pose.xy[[11, 12]], axis=0)
    xy = (pose.xy - centre) * scale + centre + np.array([dx, dy])
    return Pose(xy, pose.conf.copy(), pose.score, pose.width, pose.height)


def switches(frames: sk.Frames) -> int:
    tracker = PersonTracker()
    for t, pose in frames:
        tracker.update(pose, t)
    return tracker.switches


@pytest.mark.parametrize("fps", [60.0, 30.0, 6.0])
@pytest.mark.parametrize(
    "pose_at", [sk.squat, sk.push_up, sk.jumping_jack, sk.burpee], ids=lambda f: f.__name__
)
def test_one_person_exercising_is_never_a_switch(pose_at: object, fps: float) -> None:
    frames = sk.noisy(sk.sequence(pose_at, sk.reps(6, 1.6), fps=fps), drop_frame=0.1, seed=3)  # type: ignore[arg-type]
    assert switches(frames) == 0


def test_somebody_else_finishing_the_movement_is_not_counted() -> None:
    """Person A goes down; the model latches onto B, 2.5 torso lengths away, who stands up.

    Angles do not care whose they are: a bare referee counts A's half and B's half as one
    squat. The pipeline sees the jump, disarms and counts nothing."""
    down = sk.sequence(sk.squat, [(0.0, 0.0), (1.0, 0.0), (2.0, 1.0)])
    up = sk.sequence(lambda p: moved(sk.squat(p), dx=250.0), [(0.0, 1.0), (1.0, 0.0), (3.0, 0.0)])
    frames = sk.concat(down, up)
    bare = sk.feed(Referee(load_exercise("squat")), frames)
    assert bare.state.reps == 1  # what the person check is for
    pipeline = RefereePipeline(load_exercise("squat"))
    messages = [pipeline.update(pose, t)[0].message for t, pose in frames]
    assert pipeline.state.reps == 0
    assert MSG_SWITCH in messages
    assert pipeline.person.switches == 1


def test_a_passer_by_mid_set_costs_at_most_the_rep_in_progress() -> None:
    reps = sk.sequence(sk.squat, sk.reps(5, 2.0))
    passer = [(t, moved(sk.standing_side(), dx=-220.0, scale=1.3)) for t, _ in reps[150:175]]
    frames = reps[:150] + passer + reps[175:]
    pipeline = RefereePipeline(load_exercise("squat"))
    for t, pose in frames:
        pipeline.update(pose, t)
    assert pipeline.person.switches == 2  # to the passer-by and back
    assert pipeline.state.reps == 4  # the third squat, half hidden by the passer-by, is dropped


def test_a_one_frame_glitch_is_held_back_not_a_switch() -> None:
    tracker = PersonTracker()
    a = sk.standing_side()
    assert tracker.select([a], 0.0) == (a, False)
    assert tracker.select([moved(a, dx=300.0)], 1 / 30) == (None, False)
    assert tracker.select([a], 2 / 30) == (a, False)
    assert tracker.switches == 0


def test_coming_back_after_a_long_absence_is_not_a_switch() -> None:
    tracker = PersonTracker()
    tracker.update(sk.standing_side(), 0.0)
    assert not tracker.update(None, 1.0)
    assert not tracker.update(moved(sk.standing_side(), dx=250.0), 3.0)
    assert tracker.switches == 0


def test_the_chooser_takes_the_largest_most_central_then_the_nearest() -> None:
    main = sk.standing_side()  # centred, full size
    other = moved(main, dx=230.0, scale=0.6)  # smaller, off-centre
    assert main_person([other, main]) == 1
    assert main_person([main, other]) == 0
    assert main_person([main, other], last=moved(other, dx=5.0)) == 1
    assert main_person([]) is None


def test_with_two_people_in_every_frame_only_the_main_one_is_counted() -> None:
    """A backend that returns everybody: A (central) squats 4 times, B (small, at the edge)
    squats 7 times over the same seconds."""
    a = sk.sequence(sk.squat, sk.reps(4, 2.0))
    b = sk.sequence(lambda p: moved(sk.squat(p), dx=240.0, scale=0.6), sk.reps(7, 1.1))
    pipeline = RefereePipeline(load_exercise("squat"))
    for (t, pa), (_, pb) in zip(a, b, strict=False):
        assert pa is not None and pb is not None
        pipeline.update_many([pb, pa], t)
    assert pipeline.state.reps == 4
    assert pipeline.person.switches == 0


def test_somebody_much_nearer_the_camera_in_the_same_place_is_a_switch() -> None:
    a = sk.standing_side()
    frames: sk.Frames = [(i / 30, a) for i in range(10)]
    frames += [(i / 30, moved(a, scale=3.0)) for i in range(10, 20)]
    assert switches(frames) == 1
    zoom: sk.Frames = [(i / 30, a) for i in range(10)]
    zoom += [(i / 30, moved(a, scale=2.2)) for i in range(10, 20)]  # an edited zoom cut
    assert switches(zoom) == 0
