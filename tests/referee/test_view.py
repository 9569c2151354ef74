"""The camera's view from a synthetic 3-D body turned to each view, with and without world
landmarks, smoothed over time without flicker."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hiitpi.core.pose import Pose
from hiitpi.referee.view import View, ViewEstimator, classify, measure_view

from .skeleton3d import body_pose


def steady(pose_at: object, seconds: float = 3.0, fps: float = 30.0) -> list[tuple[float, Pose]]:
    assert callable(pose_at)
    return [(i / fps, pose_at(i / fps)) for i in range(int(seconds * fps))]


def run(frames: list[tuple[float, Pose | None]], lying: bool = False) -> list[View | None]:
    est = ViewEstimator(lying=lying)
    return [est.update(p, t).view for t, p in frames]


def jitter(pose: Pose, rng: np.random.Generator, px: float = 1.5, m: float = 0.02) -> Pose:
    world = None if pose.world is None else pose.world + rng.normal(0, m, pose.world.shape)
    xy = pose.xy + rng.normal(0, px, pose.xy.shape)
    return Pose(xy, pose.conf, pose.score, pose.width, pose.height, world=world)


CASES = [
    ("front", {"yaw": 0.0}, False, View.FRONT),
    ("back", {"yaw": 180.0}, False, View.FRONT),
    ("three_quarter_left", {"yaw": 38.0}, False, View.THREE_QUARTER),
    ("three_quarter_right", {"yaw": -38.0}, False, View.THREE_QUARTER),
    ("side_left", {"yaw": 90.0}, False, View.SIDE),
    ("side_right", {"yaw": -80.0}, False, View.SIDE),
    ("push_up_from_the_side", {"yaw": 90.0, "lying": "across"}, True, View.SIDE),
    ("push_up_from_above", {"lying": "overhead"}, True, View.OVERHEAD),
    ("push_up_from_above_across", {"yaw": 0.0, "lying": "across"}, False, View.OVERHEAD),
    ("push_up_from_the_head", {"lying": "head_on"}, True, View.FRONT),
]


@pytest.mark.parametrize("world", [True, False], ids=["world", "image_only"])
@pytest.mark.parametrize("name,kw,lying,want", CASES, ids=[c[0] for c in CASES])
def test_each_view_is_recognised(
    name: str, kw: dict[str, object], lying: bool, want: View, world: bool
) -> None:
    rng = np.random.default_rng(1)
    base = body_pose(world=world, **kw)  # type: ignore[arg-type]
    views = run(steady(lambda _t: jitter(base, rng)), lying=lying)
    assert views[-1] is want, name
    est = ViewEstimator(lying=lying)
    for t, p in steady(lambda _t: jitter(base, rng)):
        reading = est.update(p, t)
    assert reading.confidence >= 0.9


def test_a_view_is_published_only_once_it_has_held() -> None:
    views = run(steady(lambda _t: body_pose(yaw=90.0), seconds=2.0))
    assert views[0] is None
    first = views.index(View.SIDE)
    assert 0.9 <= first / 30.0 <= 1.2


def test_no_flicker_at_a_boundary() -> None:
    """A body turned right at the three-quarter/side boundary, with noise, keeps one view."""
    rng = np.random.default_rng(7)
    frames = [
        (i / 30.0, jitter(body_pose(yaw=50.0 + 3.0 * np.sin(i / 4.0)), rng, m=0.03))
        for i in range(300)
    ]
    views = [v for v in run(frames) if v is not None]
    changes = sum(1 for a, b in itertools.pairwise(views) if a != b)
    assert changes == 0, views


def test_a_real_turn_changes_the_view_once_and_soon() -> None:
    frames = [(i / 30.0, body_pose(yaw=0.0 if i < 120 else 90.0)) for i in range(240)]
    views = run(frames)
    published = [v for v in views if v is not None]
    assert published[0] is View.FRONT and published[-1] is View.SIDE
    assert sum(1 for a, b in itertools.pairwise(published) if a != b) == 1
    assert views.index(View.SIDE) / 30.0 < 4.0 + 1.6  # the turn at 4 s, held 1 s


def test_frames_without_a_person_keep_the_view_then_forget_it() -> None:
    est = ViewEstimator(forget_s=2.0)
    for t, p in steady(lambda _t: body_pose(yaw=90.0)):
        est.update(p, t)
    assert est.update(None, 3.5).view is View.SIDE
    assert est.update(None, 6.0).view is None


def test_no_torso_no_measurement() -> None:
    pose = body_pose()
    conf = pose.conf.copy()
    conf[:] = 0.1
    assert measure_view(Pose(pose.xy, conf, 0.1, pose.width, pose.height)) is None
    assert measure_view(None) is None


def test_hysteresis_keeps_the_current_class_inside_the_margin() -> None:
    assert classify(52.0, 0.0, 0.0, False, None) is View.SIDE
    assert classify(48.0, 0.0, 0.0, False, View.SIDE) is View.SIDE  # inside the margin
    assert classify(45.0, 0.0, 0.0, False, View.SIDE) is View.THREE_QUARTER
    assert classify(27.0, 0.0, 0.0, False, View.FRONT) is View.FRONT
    assert classify(27.0, 0.0, 0.0, False, View.THREE_QUARTER) is View.THREE_QUARTER


def test_front_and_overhead_do_not_trade_places_at_their_boundary() -> None:
    # a lying body whose torso points about 0.6 along the camera's axis: head-on or from above
    assert classify(10.0, 0.65, 0.0, True, View.OVERHEAD) is View.OVERHEAD
    assert classify(10.0, 0.75, 0.0, True, View.OVERHEAD) is View.FRONT
    assert classify(10.0, 0.55, 0.0, True, View.FRONT) is View.FRONT
    assert classify(10.0, 0.45, 0.0, True, View.FRONT) is View.OVERHEAD
    assert classify(10.0, 0.0, 52.0, False, View.OVERHEAD) is View.OVERHEAD
    assert classify(10.0, 0.0, 52.0, False, None) is View.FRONT
