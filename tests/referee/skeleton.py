"""A kinematic 2-D skeleton for synthetic pose sequences with known counts.

Each exercise has a pose function ``f(p) -> Pose`` where ``p`` in [0, 1] is the progress from
the start position (0) to the turning point (1) (for alternating exercises a ``(left, right)``
pair). :func:`sequence` moves it through keyframes at a given tempo; :func:`noisy` adds pixel
noise, dropped keypoints and dropped frames, all seeded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from hiitpi.core.keypoints import Keypoint as K
from hiitpi.core.pose import Pose
from hiitpi.referee import Referee

W, H = 640, 480
T = 100.0  # torso length in pixels
UPPER_ARM, FOREARM, THIGH, SHIN = 0.6 * T, 0.55 * T, 0.9 * T, 0.9 * T
FLOOR = 440.0

Point = tuple[float, float]
Frames = list[tuple[float, Pose | None]]


def _u(deg: float) -> np.ndarray:
    """Unit vector at ``deg`` in image coordinates (0 = right, 90 = down)."""
    r = math.radians(deg)
    return np.array([math.cos(r), math.sin(r)])


def _lerp(a: float, b: float, p: float) -> float:
    return a + (b - a) * p


def _pose(points: dict[K, np.ndarray | Sequence[float]], conf: float = 0.95) -> Pose:
    return Pose.from_points({k: (float(v[0]), float(v[1]), conf) for k, v in points.items()}, W, H)


def _both(name: str, pt: np.ndarray, dx: float = 0.0) -> dict[K, np.ndarray]:
    """The same point for both sides (a side view), the far side ``dx`` pixels away."""
    return {K[f"LEFT_{name}"]: pt, K[f"RIGHT_{name}"]: pt + np.array([dx, -dx])}


def _side_body(
    sh: np.ndarray,
    hip: np.ndarray,
    knee: np.ndarray,
    ankle: np.ndarray,
    elbow: np.ndarray,
    wrist: np.ndarray,
) -> Pose:
    pts: dict[K, np.ndarray] = {}
    for name, pt in (
        ("SHOULDER", sh),
        ("HIP", hip),
        ("KNEE", knee),
        ("ANKLE", ankle),
        ("ELBOW", elbow),
        ("WRIST", wrist),
    ):
        pts.update(_both(name, pt, 2.0))
    head = sh + (sh - hip) * 0.3
    pts[K.NOSE] = head
    return _pose(pts)


def _elbow_between(sh: np.ndarray, wr: np.ndarray, a: float, b: float, bend: float) -> np.ndarray:
    """The elbow at distance ``a`` from the shoulder and ``b`` from the wrist, bent ``bend``
    (+1: towards +x, -1: towards -x)."""
    d = float(np.linalg.norm(wr - sh))
    d = min(max(d, abs(a - b) + 1e-6), a + b - 1e-6)
    x = (a * a - b * b + d * d) / (2 * d)
    h = math.sqrt(max(a * a - x * x, 0.0))
    along = (wr - sh) / d
    perp = np.array([-along[1], along[0]]) * bend
    return sh + along * x + perp * h


def push_up(p: float, sag: float = 0.0) -> Pose:
    """Side view, head to the right. Elbow 170 deg at p=0, about 65 deg at p=1."""
    elbow = _lerp(170.0, 65.0, p)
    e = math.radians(elbow)
    h = math.sqrt(UPPER_ARM**2 + FOREARM**2 - 2 * UPPER_ARM * FOREARM * math.cos(e))
    wrist = np.array([450.0, FLOOR])
    sh = np.array([450.0, FLOOR - h])
    el = _elbow_between(sh, wrist, UPPER_ARM, FOREARM, -1.0)
    ankle = np.array([450.0 - 2.7 * T, FLOOR - 0.1 * T])
    line = sh - ankle
    normal = np.array([line[1], -line[0]]) / np.linalg.norm(line)
    if normal[1] < 0:
        normal = -normal
    hip = ankle + line * (1.7 / 2.7) + normal * sag * T
    knee = ankle + (hip - ankle) * 0.5
    return _side_body(sh, hip, knee, ankle, el, wrist)


def standing_side(knee_deg: float = 178.0) -> Pose:
    """Side view, standing (or squatting to ``knee_deg``), facing right, arms hanging forward."""
    flex = (180.0 - knee_deg) / 2.0
    ankle = np.array([320.0, FLOOR])
    knee = ankle + SHIN * _u(-90.0 + flex)
    hip = knee + THIGH * _u(-90.0 - flex)
    sh = hip + T * _u(-90.0 + flex / 1.5)
    el = sh + UPPER_ARM * _u(80.0 - flex)
    wr = el + FOREARM * _u(60.0 - flex)
    return _side_body(sh, hip, knee, ankle, el, wr)


def squat(p: float) -> Pose:
    """Side view squat: knee 178 deg at p=0, 85 deg at p=1."""
    return standing_side(_lerp(178.0, 85.0, p))


def bicep_curl(p: float) -> Pose:
    """Side view, standing, upper arm hanging: elbow 170 deg at p=0, 40 deg at p=1."""
    body = standing_side()
    elbow = _lerp(170.0, 40.0, p)
    xy = body.xy.copy()
    for side in ("LEFT", "RIGHT"):
        sh = xy[K[f"{side}_SHOULDER"]]
        el = sh + UPPER_ARM * _u(92.0)
        xy[K[f"{side}_ELBOW"]] = el
        xy[K[f"{side}_WRIST"]] = el + FOREARM * _u(elbow - 88.0)
    return Pose(xy, body.conf.copy(), body.score, W, H)


def front_curl(left: float, right: float, conf: tuple[float, float] = (0.95, 0.95)) -> Pose:
    """Front view, standing, upper arms hanging; each side's progress curls that forearm up
    and slightly outwards (elbow 170 deg at 0, 40 deg at 1); ``conf`` per arm."""
    body = _front((5.0, 5.0), 0.45)
    xy, c = body.xy.copy(), body.conf.copy()
    for i, (side, p) in enumerate((("LEFT", left), ("RIGHT", right))):
        s = 1.0 if side == "LEFT" else -1.0  # the person's left is on the image right
        elbow = _lerp(170.0, 40.0, p)
        el = xy[K[f"{side}_SHOULDER"]] + UPPER_ARM * _u(90.0)
        xy[K[f"{side}_ELBOW"]] = el
        xy[K[f"{side}_WRIST"]] = el + FOREARM * _u(90.0 - s * (180.0 - elbow))
        for joint in ("SHOULDER", "ELBOW", "WRIST"):
            c[K[f"{side}_{joint}"]] = conf[i]
    return Pose(xy, c, body.score, W, H)


def sit_up(p: float) -> Pose:
    """Side view, lying with bent knees: torso 8 deg from the floor at p=0, 75 deg at p=1."""
    incline = _lerp(8.0, 75.0, p)
    hip = np.array([300.0, FLOOR - 15.0])
    sh = hip + T * _u(180.0 + incline)
    knee = hip + THIGH * _u(-50.0)
    ankle = knee + SHIN * _u(75.0)
    el = sh + UPPER_ARM * _u(incline - 30.0)
    wr = el + FOREARM * _u(incline + 150.0)
    return _side_body(sh, hip, knee, ankle, el, wr)


def mountain_climber(left: float, right: float) -> Pose:
    """A high plank; each side's progress drives that knee in (hip angle 175 -> 70 deg)."""
    body = push_up(0.0)
    xy = body.xy.copy()
    for side, drive in (("LEFT", left), ("RIGHT", right)):
        hip = xy[K[f"{side}_HIP"]]
        base = math.degrees(math.atan2(*(xy[K[f"{side}_ANKLE"]] - hip)[::-1]))
        knee = hip + THIGH * _u(base - 105.0 * drive)
        xy[K[f"{side}_KNEE"]] = knee
        xy[K[f"{side}_ANKLE"]] = knee + SHIN * _u(base - 20.0 * drive)
    return Pose(xy, body.conf.copy(), body.score, W, H)


def burpee(p: float) -> Pose:
    """Standing (p=0) -> squat (p=0.5) -> high plank (p>=0.75)."""
    if p < 0.75:
        return standing_side(_lerp(178.0, 80.0, min(p / 0.5, 1.0)))
    return push_up(0.0)


def _front(
    arms_deg: tuple[float, float],
    feet: float,
    knee_out: tuple[float, float] = (0, 0),
    knee_lift: tuple[float, float] = (0.0, 0.0),
    hip_y: float = 0.0,
) -> Pose:
    """Front view. ``arms_deg`` = abduction of each arm (0 down, 180 overhead); ``feet`` =
    ankle spread in torso lengths; ``knee_out`` bends each knee outward (frontal-plane squat,
    degrees); ``knee_lift`` raises each knee (torso lengths, 0 = standing)."""
    cx = 320.0
    hip_mid_y = FLOOR - THIGH - SHIN + hip_y
    pts: dict[K, np.ndarray] = {}
    for i, side in enumerate(("LEFT", "RIGHT")):
        s = 1.0 if side == "LEFT" else -1.0  # the person's left is on the image right
        hip = np.array([cx + s * 0.27 * T, hip_mid_y])
        sh = np.array([cx + s * 0.4 * T, hip_mid_y - T])
        arm = sh + UPPER_ARM * _u(90.0 - s * arms_deg[i])
        wr = arm + FOREARM * _u(90.0 - s * arms_deg[i])
        ankle_x = cx + s * feet * T / 2.0
        out = knee_out[i]
        lift = knee_lift[i]
        if lift > 0:
            knee = hip + np.array([0.0, THIGH * (1.0 - lift)])
            ankle = knee + np.array([0.0, SHIN * 0.8])
        else:
            ankle = np.array([ankle_x, FLOOR])
            knee = _elbow_between(hip, ankle, THIGH, SHIN, -s if out > 0 else s)
            if out <= 0:
                knee = hip + (ankle - hip) * (THIGH / (THIGH + SHIN))
        pts.update(
            {
                K[f"{side}_HIP"]: hip,
                K[f"{side}_SHOULDER"]: sh,
                K[f"{side}_ELBOW"]: arm,
                K[f"{side}_WRIST"]: wr,
                K[f"{side}_KNEE"]: knee,
                K[f"{side}_ANKLE"]: ankle,
            }
        )
    pts[K.NOSE] = np.array([cx, hip_mid_y - 1.35 * T])
    return _pose(pts)


def jumping_jack(p: float, arms: bool = True, feet: bool = True) -> Pose:
    a = _lerp(15.0, 165.0, p) if arms else 15.0
    f = _lerp(0.3, 1.6, p) if feet else 0.3
    return _front((a, a), f)


def toe_tap(left: float, right: float) -> Pose:
    """Front view; each side's progress lifts that knee up to 0.45 torso lengths."""
    return _front((15.0, 15.0), 0.45, knee_lift=(0.45 * left, 0.45 * right))


def side_squat(p: float, wide: bool = True) -> Pose:
    """Front view wide squat: the knees bend outwards from 178 to 85 degrees as ``p`` grows."""
    feet = 1.7 if wide else 0.6
    k = math.radians(_lerp(178.0, 85.0, p))
    reach = math.sqrt(THIGH**2 + SHIN**2 - 2 * THIGH * SHIN * math.cos(k))
    cx = 320.0
    base = _front((15.0, 15.0), feet)
    xy = base.xy.copy()
    dx = abs(feet * T / 2.0 - 0.27 * T)
    hip_y = FLOOR - math.sqrt(max(reach**2 - dx**2, 1.0))
    shift = np.array([0.0, hip_y - base.xy[K.LEFT_HIP][1]])
    for side, s in (("LEFT", 1.0), ("RIGHT", -1.0)):
        hip = np.array([cx + s * 0.27 * T, hip_y])
        ankle = np.array([cx + s * feet * T / 2.0, FLOOR])
        xy[K[f"{side}_HIP"]] = hip
        xy[K[f"{side}_KNEE"]] = _elbow_between(hip, ankle, THIGH, SHIN, -s)
        xy[K[f"{side}_ANKLE"]] = ankle
        for up in ("SHOULDER", "ELBOW", "WRIST"):
            xy[K[f"{side}_{up}"]] = base.xy[K[f"{side}_{up}"]] + shift
    xy[K.NOSE] = base.xy[K.NOSE] + shift
    return Pose(xy, base.conf.copy(), base.score, W, H)


# -- sequences ----------------------------------------------------------------------------------


def sequence(
    pose_at: Callable[[float], Pose],
    keyframes: Sequence[tuple[float, float]],
    fps: float = 30.0,
) -> Frames:
    """Frames at ``fps`` through ``[(t, progress), ...]`` keyframes (linear in between)."""
    times = [k[0] for k in keyframes]
    values = [k[1] for k in keyframes]
    n = math.floor(times[-1] * fps) + 1
    return [(i / fps, pose_at(float(np.interp(i / fps, times, values)))) for i in range(n)]


def reps(
    count: int,
    period: float,
    depth: float = 1.0,
    lead: float = 1.0,
    tail: float = 1.0,
    hold: float = 0.0,
) -> list[tuple[float, float]]:
    """Keyframes: ``lead`` s at the start, ``count`` cycles 0 -> depth -> 0, ``tail`` s at rest.

    ``hold`` seconds are spent at the turning point of each cycle.
    """
    keys = [(0.0, 0.0), (lead, 0.0)]
    t = lead
    for _ in range(count):
        half = (period - hold) / 2.0
        keys += [(t + half, depth), (t + half + hold, depth), (t + period, 0.0)]
        t += period
    keys.append((t + tail, 0.0))
    return keys


def noisy(
    frames: Frames, sigma: float = 1.5, drop_kp: float = 0.0, drop_frame: float = 0.0, seed: int = 0
) -> Frames:
    """Gaussian pixel noise, keypoints dropped (confidence 0.1) and whole frames dropped."""
    rng = np.random.default_rng(seed)
    out: Frames = []
    for t, pose in frames:
        if pose is None or rng.random() < drop_frame:
            out.append((t, None))
            continue
        xy = pose.xy + rng.normal(0.0, sigma, pose.xy.shape)
        conf = pose.conf.copy()
        lost = (rng.random(conf.shape) < drop_kp) & (conf > 0)
        conf[lost] = 0.1
        out.append((t, Pose(xy, conf, pose.score, pose.width, pose.height)))
    return out


def concat(*parts: Frames) -> Frames:
    """Join sequences end to end (each part's times are shifted after the previous part)."""
    out: Frames = []
    offset = 0.0
    for part in parts:
        for t, pose in part:
            out.append((t + offset, pose))
        offset = out[-1][0] + 1.0 / 30.0
    return out


def feed(referee: Referee, frames: Frames) -> Referee:
    """Feed every frame to the referee and return it (read ``.state`` / ``.events``)."""
    for t, pose in frames:
        referee.update(pose, t)
    return referee
