"""Only the joints an exercise needs: counts survive framings that hide the others."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from hiitpi.core.keypoints import Keypoint as K
from hiitpi.core.pose import Pose
from hiitpi.referee import Referee, load_exercise

from . import skeleton as sk

LEGS = (K.LEFT_KNEE, K.RIGHT_KNEE, K.LEFT_ANKLE, K.RIGHT_ANKLE)
HIPS = (K.LEFT_HIP, K.RIGHT_HIP)
FEET = (K.LEFT_ANKLE, K.RIGHT_ANKLE)
HEAD = (K.NOSE, K.LEFT_EYE, K.RIGHT_EYE, K.LEFT_EAR, K.RIGHT_EAR)


def hide(pose_at: Callable[[float], Pose], points: Iterable[K]) -> Callable[[float], Pose]:
    """The same movement with ``points`` out of frame (confidence 0, no coordinates)."""
    gone = list(points)

    def f(p: float) -> Pose:
        pose = pose_at(p)
        xy, conf = pose.xy.copy(), pose.conf.copy()
        xy[gone], conf[gone] = float("nan"), 0.0
        return Pose(xy, conf, pose.score, pose.width, pose.height)

    return f


@pytest.mark.parametrize(
    "exercise,pose_at,hidden",
    [
        ("bicep_curl", sk.bicep_curl, HIPS + LEGS + HEAD),  # torso-only close-up
        ("push_up", sk.push_up, FEET),  # camera on the floor, feet out of frame
        ("squat", sk.squat, HEAD),  # low camera cuts the head off at the top
        ("squat", sk.squat, FEET),  # feet out of frame: the hip angle stands in
        ("lunge", sk.squat, HEAD),
        ("jumping_jacks", sk.jumping_jack, HEAD),
    ],
    ids=[
        "curl-torso-only",
        "push-up-no-feet",
        "squat-no-head",
        "squat-no-feet",
        "lunge-no-head",
        "jacks-no-head",
    ],
)
@pytest.mark.parametrize("fps", [10.0, 30.0])
def test_counts_without_the_joints_it_does_not_need(
    exercise: str, pose_at: Callable[[float], Pose], hidden: tuple[K, ...], fps: float
) -> None:
    frames = sk.sequence(hide(pose_at, hidden), sk.reps(5, 2.0), fps=fps)
    ref = sk.feed(Referee(load_exercise(exercise)), sk.noisy(frames, sigma=1.0))
    assert (ref.state.reps, ref.state.no_reps) == (5, 0)


def test_deep_side_view_lunges_count() -> None:
    """The user report: front knee 60-90 degrees every 2 s, 150-175 in between: all count."""
    frames = sk.sequence(lambda p: sk.standing_side(165.0 - 95.0 * p), sk.reps(8, 2.0))
    ref = sk.feed(Referee(load_exercise("lunge")), sk.noisy(frames, sigma=1.0))
    assert (ref.state.reps, ref.state.no_reps) == (8, 0)
