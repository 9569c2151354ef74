import math

import numpy as np
import pytest

from hiitpi.core import Frame, Keypoint, Pose
from hiitpi.core.geometry import angle, distance, incline, normalised, torso_length
from hiitpi.core.keypoints import COCO_KEYPOINTS, NUM_KEYPOINTS


def test_keypoint_enum_puts_coco_first_in_coco_order():
    assert [k.snake for k in COCO_KEYPOINTS][:5] == [
        "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    ]  # fmt: skip
    assert Keypoint.RIGHT_ANKLE == 16
    assert NUM_KEYPOINTS == 33
    assert Keypoint.from_name("left_heel") is Keypoint.LEFT_HEEL


def test_unknown_keypoint_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown keypoint 'left_elbw'; valid: nose"):
        Keypoint.from_name("left_elbw")


@pytest.mark.parametrize(
    ("xy_shape", "conf_shape", "msg"),
    [((17, 2), (33,), r"expected xy of shape \(33, 2\), got \(17, 2\)"),
     ((33, 2), (17,), r"expected conf of shape \(33,\), got \(17,\)")],
)  # fmt: skip
def test_pose_rejects_wrong_shapes(xy_shape, conf_shape, msg):
    with pytest.raises(ValueError, match=msg):
        Pose(np.zeros(xy_shape), np.zeros(conf_shape), 1.0, 640, 480)


def test_pose_is_immutable_and_round_trips_through_a_track():
    pose = Pose.from_points(
        {Keypoint.LEFT_SHOULDER: (10, 20, 0.9), Keypoint.LEFT_HEEL: (5, 400, 0.7)}, 640, 480
    )
    with pytest.raises(ValueError):
        pose.xy[0, 0] = 1.0
    assert pose.visible(Keypoint.LEFT_SHOULDER)
    assert not pose.visible(Keypoint.RIGHT_SHOULDER)
    assert math.isnan(pose.point(Keypoint.NOSE)[0])
    back = Pose.from_track(pose.to_track(), 640, 480)
    assert back is not None
    np.testing.assert_allclose(back.point(Keypoint.LEFT_HEEL), (5, 400))
    assert back.conf[Keypoint.LEFT_HEEL] == pytest.approx(0.7)
    assert Pose.from_track({}, 640, 480) is None


def test_seventeen_point_track_keeps_its_keypoint_count():
    pose = Pose.from_points({Keypoint.NOSE: (1, 2, 0.5)}, 100, 100, num_model_keypoints=17)
    assert set(pose.to_track()) == {"nose"}
    assert Pose.from_track(pose.to_track(), 100, 100).num_model_keypoints == 17


def test_frame_validates_its_image():
    with pytest.raises(ValueError, match=r"shape \(height, width, 3\)"):
        Frame(np.zeros((4, 4), np.uint8), 0, 0.0)
    with pytest.raises(ValueError, match="uint8"):
        Frame(np.zeros((4, 4, 3), np.float32), 0, 0.0)
    f = Frame(np.zeros((4, 6, 3), np.uint8), 3, 0.1, "cam")
    assert (f.width, f.height) == (6, 4)


@pytest.mark.parametrize(
    ("a", "b", "c", "deg"),
    [((1, 0), (0, 0), (0, 1), 90.0), ((1, 0), (0, 0), (-1, 0), 180.0),
     ((1, 0), (0, 0), (1, 1), 45.0), ((1, 1), (0, 0), (1, 1), 0.0)],
)  # fmt: skip
def test_angle(a, b, c, deg):
    assert angle(a, b, c) == pytest.approx(deg, abs=1e-4)


def test_geometry_is_nan_safe():
    assert math.isnan(angle((0, 0), (0, 0), (1, 1)))
    assert math.isnan(angle((np.nan, 0), (0, 0), (1, 1)))
    assert math.isnan(incline((0, 0), (0, 0)))
    assert math.isnan(normalised(10.0, math.nan))
    assert distance((0, 0), (3, 4)) == pytest.approx(5.0)
    assert incline((0, 0), (10, 0)) == pytest.approx(0.0)
    assert incline((0, 0), (0, -10)) == pytest.approx(90.0)


def test_torso_length_uses_the_visible_side():
    pose = Pose.from_points(
        {Keypoint.LEFT_SHOULDER: (100, 100, 0.9), Keypoint.LEFT_HIP: (100, 250, 0.9),
         Keypoint.RIGHT_SHOULDER: (140, 100, 0.1), Keypoint.RIGHT_HIP: (140, 260, 0.9)},
        640, 480,
    )  # fmt: skip
    assert torso_length(pose) == pytest.approx(150.0)
    assert math.isnan(torso_length(Pose.from_points({}, 640, 480)))


def test_world_landmarks_round_trip_through_a_track_line() -> None:
    from hiitpi.engine.tracks import TrackFrame

    xy = np.full((NUM_KEYPOINTS, 2), 10.0)
    conf = np.ones(NUM_KEYPOINTS)
    world = np.zeros((NUM_KEYPOINTS, 3))
    world[Keypoint.LEFT_KNEE] = (0.1, 0.45, -0.2)
    pose = Pose(xy, conf, 0.9, 64, 48, world=world)
    back = TrackFrame.from_json(TrackFrame(0.5, 3, 64, 48, pose).to_json()).pose
    assert back is not None and back.world is not None
    np.testing.assert_allclose(back.world, world, atol=1e-4)
    knee = back.world_point(Keypoint.LEFT_KNEE)
    assert knee is not None
    np.testing.assert_allclose(knee, (0.1, 0.45, -0.2))
    # a track written without world landmarks still reads, with world None
    plain = TrackFrame.from_json(TrackFrame(0.5, 3, 64, 48, Pose(xy, conf, 0.9, 64, 48)).to_json())
    assert plain.pose is not None and plain.pose.world is None


def test_world_shape_is_checked() -> None:
    with pytest.raises(ValueError, match="world of shape"):
        Pose(
            np.zeros((NUM_KEYPOINTS, 2)), np.ones(NUM_KEYPOINTS), 1.0, 4, 4, world=np.zeros((3, 3))
        )
