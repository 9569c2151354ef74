"""A "best side" feature must not hop between two limbs whose confidences are nearly equal."""

from __future__ import annotations

import numpy as np

from hiitpi.core.keypoints import NUM_KEYPOINTS
from hiitpi.core.keypoints import Keypoint as K
from hiitpi.core.pose import Pose
from hiitpi.referee import Referee, load_exercise
from hiitpi.referee.features import SIDE_SWITCH_HOLD_S, SideChooser


def _plank(near_conf: float, far_conf: float) -> Pose:
    """A still side-view plank: the near arm straight, the (occluded) far arm guessed bent."""
    xy = np.zeros((NUM_KEYPOINTS, 2))
    conf = np.full(NUM_KEYPOINTS, 0.9)
    for side in ("LEFT", "RIGHT"):
        xy[K[f"{side}_SHOULDER"]] = (100, 200)
        xy[K[f"{side}_HIP"]] = (300, 205)
        xy[K[f"{side}_KNEE"]] = (400, 207)
        xy[K[f"{side}_ANKLE"]] = (500, 210)
    xy[K.LEFT_ELBOW], xy[K.LEFT_WRIST] = (100, 275), (100, 350)  # straight: ~180 degrees
    xy[K.RIGHT_ELBOW], xy[K.RIGHT_WRIST] = (100, 275), (175, 275)  # bent: ~90 degrees
    for joint in ("SHOULDER", "ELBOW", "WRIST"):
        conf[K[f"LEFT_{joint}"]] = near_conf
        conf[K[f"RIGHT_{joint}"]] = far_conf
    return Pose(xy, conf, 0.9, 640, 480)


def test_alternating_near_equal_confidences_count_nothing():
    referee = Referee(load_exercise("push_up"))
    state = None
    for i in range(12 * 30):
        t = i / 30
        flipped = t >= 1.0 and int(t / 0.6) % 2 == 1  # the model prefers the other arm
        state, _ = referee.update(_plank(0.78, 0.80) if flipped else _plank(0.80, 0.78), t)
    assert state is not None
    assert (state.reps, state.no_reps) == (0, 0)


def test_chooser_switches_on_a_clear_lead_held_long_enough_or_a_lost_side():
    chooser = SideChooser()
    assert chooser.choose("elbow", {"left": 0.9, "right": 0.7}, 0.0) == "left"
    assert chooser.choose("elbow", {"left": 0.5, "right": 0.9}, 0.1) == "left"  # lead just began
    t = 0.1 + SIDE_SWITCH_HOLD_S
    assert chooser.choose("elbow", {"left": 0.5, "right": 0.9}, t) == "right"  # held: switch
    assert chooser.choose("elbow", {"left": 0.9}, t + 0.01) == "left"  # right gone: at once
    chooser.reset()
    assert chooser.choose("elbow", {"left": 0.6, "right": 0.7}, 5.0) == "right"
