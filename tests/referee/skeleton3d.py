"""A 3-D body seen by a camera from any angle: 2-D keypoints in pixels plus BlazePose-style world
landmarks (metres, hip-centred, camera-aligned axes), for the view estimator's tests.

The body is built in its own frame (x to the person's left, y down, z out of the chest), turned
by ``yaw`` about the vertical (0 = facing the camera, 90 = the person's left side to it), laid
down when ``lying`` (prone, its long axis across the image, or seen from above), then projected
by a pinhole camera ``distance`` metres away.
"""

from __future__ import annotations

import math

import numpy as np

from hiitpi.core.keypoints import NUM_KEYPOINTS
from hiitpi.core.keypoints import Keypoint as K
from hiitpi.core.pose import Pose

W, H = 640, 480
FOCAL = 500.0

BODY: dict[K, tuple[float, float, float]] = {
    K.NOSE: (0.0, -0.68, 0.10),
    K.LEFT_SHOULDER: (0.19, -0.50, 0.0),
    K.RIGHT_SHOULDER: (-0.19, -0.50, 0.0),
    K.LEFT_ELBOW: (0.22, -0.22, 0.0),
    K.RIGHT_ELBOW: (-0.22, -0.22, 0.0),
    K.LEFT_WRIST: (0.23, 0.03, 0.03),
    K.RIGHT_WRIST: (-0.23, 0.03, 0.03),
    K.LEFT_HIP: (0.11, 0.0, 0.0),
    K.RIGHT_HIP: (-0.11, 0.0, 0.0),
    K.LEFT_KNEE: (0.11, 0.45, 0.02),
    K.RIGHT_KNEE: (-0.11, 0.45, 0.02),
    K.LEFT_ANKLE: (0.11, 0.88, 0.0),
    K.RIGHT_ANKLE: (-0.11, 0.88, 0.0),
}


def _rot_y(deg: float) -> np.ndarray:
    r = math.radians(deg)
    c, s = math.cos(r), math.sin(r)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rot_x(deg: float) -> np.ndarray:
    r = math.radians(deg)
    c, s = math.cos(r), math.sin(r)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _rot_z(deg: float) -> np.ndarray:
    r = math.radians(deg)
    c, s = math.cos(r), math.sin(r)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


# body frame -> camera frame when facing the camera: the person's left is the image right,
# the chest points at the camera (camera z grows away from it)
_FACING = np.diag([1.0, 1.0, -1.0])


def body_pose(
    yaw: float = 0.0,
    lying: str | None = None,
    distance: float = 3.0,
    world: bool = True,
    conf: float = 0.95,
    shift: tuple[float, float] = (0.0, 0.0),
) -> Pose:
    """The body turned ``yaw`` degrees; ``lying``: ``"across"`` (prone, long axis across the
    image: a side-on floor exercise when ``yaw`` is 90), ``"overhead"`` (prone, the camera above
    the back) or ``"head_on"`` (prone, the camera in front of the head)."""
    rot = _rot_y(yaw)
    if lying == "across":  # rolled in the image plane: the long axis horizontal
        rot = _rot_z(90.0) @ rot
    elif lying == "overhead":  # the back to the camera (its long axis in the image plane)
        rot = _rot_y(180.0) @ rot
    elif lying == "head_on":  # the head towards the camera: the long axis 60 deg into the depth
        rot = _rot_x(60.0) @ rot
    names = list(BODY)
    body = np.array([BODY[k] for k in names])
    cam = (rot @ (_FACING @ body.T)).T
    hips = (cam[names.index(K.LEFT_HIP)] + cam[names.index(K.RIGHT_HIP)]) / 2.0
    cam_world = cam - hips
    xy = np.full((NUM_KEYPOINTS, 2), np.nan)
    confs = np.zeros(NUM_KEYPOINTS)
    world_arr = np.full((NUM_KEYPOINTS, 3), np.nan)
    for i, k in enumerate(names):
        x, y, z = cam_world[i]
        depth = distance + z
        xy[k] = (W / 2 + shift[0] + FOCAL * x / depth, H / 2 + shift[1] + FOCAL * y / depth)
        confs[k] = conf
        world_arr[k] = cam_world[i]
    return Pose(xy, confs, conf, W, H, world=world_arr if world else None)
