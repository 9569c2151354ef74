"""Writes tests/pose/data/mediapipe_golden.json: the legacy mediapipe 0.10.14 backend's
landmarks (BlazePose full) on the first frame it sees of three development clips, the reference
the blazepose backend's letterboxing and un-projection are tested against.

Run once, in an environment that has mediapipe 0.10.14 (Python <= 3.12, `make mediapipe`):
    python tests/pose/make_mediapipe_golden.py ../shared/data/clips
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2

from hiitpi.config import PoseConfig
from hiitpi.core import Frame
from hiitpi.pose import build_estimator

CLIPS = {"push_up__venkat__1.mp4": 0, "squat__tomnotch__1.mp4": 300,
         "jumping_jacks__ahmedlila__1.mp4": 0}  # fmt: skip
OUT = Path(__file__).parent / "data" / "mediapipe_golden.json"


def main(clips: Path) -> None:
    out = {}
    for name, index in CLIPS.items():
        cap = cv2.VideoCapture(str(clips / name))
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, image = cap.read()
        assert ok, name
        est = build_estimator(PoseConfig(backend="mediapipe"))  # a fresh graph: detector path
        pose = est.estimate(Frame(image, 0, 0.0))
        est.close()
        assert pose is not None and pose.world is not None, name
        out[name] = {
            "frame": index,
            "keypoints": pose.to_track(),
            "world": pose.world_to_track(),
        }
    OUT.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
