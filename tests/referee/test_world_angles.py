"""3D world landmarks: standards that a camera angle cannot flatten, with an image fallback."""

from __future__ import annotations

import numpy as np

from hiitpi.config import RefereeConfig
from hiitpi.core.pose import Pose
from hiitpi.referee import Referee, load_exercise
from hiitpi.referee.features import FeatureMeter

from . import skeleton as sk


def with_world(image: Pose, body: Pose) -> Pose:
    """``image`` as the camera saw it, carrying ``body``'s true geometry as world landmarks
    (metres: 100 px = 1 m, hip-centred is not needed for angles)."""
    world = np.c_[body.xy / 100.0, np.zeros(len(body.xy))]
    return Pose(image.xy, image.conf, image.score, image.width, image.height, world=world)


def flattened_squat(p: float) -> Pose:
    """A full squat (knee 178 -> 85 degrees in 3D) whose image knee angle only reaches 138,
    as a high front camera shows it."""
    return with_world(sk.squat(0.43 * p), sk.squat(p))


def test_depth_is_judged_in_3d_when_the_image_angle_is_flattened() -> None:
    ref = sk.feed(Referee(load_exercise("squat")), sk.sequence(flattened_squat, sk.reps(5, 2.0)))
    assert (ref.state.reps, ref.state.no_reps) == (5, 0)


def test_without_world_landmarks_the_image_standard_applies() -> None:
    """The same images from a 17-keypoint backend (no 3D): the flattened squats are counted
    as attempts and judged not deep enough on the image angle."""
    frames = sk.sequence(lambda p: sk.squat(0.43 * p), sk.reps(5, 2.0))
    ref = sk.feed(Referee(load_exercise("squat")), frames)
    assert ref.state.reps == 0
    assert {e.reason_code for e in ref.events} == {"not_deep_enough"}


def test_world_angles_everywhere_by_config() -> None:
    pose = flattened_squat(1.0)
    d = load_exercise("squat")
    image, _ = FeatureMeter(d).measure(pose, 0.5)
    world, _ = FeatureMeter(d).measure(pose, 0.5, world=True)
    assert image["knee"] > 130 and world["knee"] < 95  # the counting signal
    assert image["knee_depth"] < 95  # a space = "world" feature is 3D either way
    ref = sk.feed(
        Referee(d, RefereeConfig(angles="world")), sk.sequence(flattened_squat, sk.reps(4, 2.0))
    )
    assert ref.state.reps == 4
