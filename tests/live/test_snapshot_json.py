"""The state published every frame encodes exactly as ``LiveSnapshot.to_dict`` says."""

from __future__ import annotations

import json

from hiitpi.core.events import WorkoutState
from hiitpi.live.base import EngineStatus, LiveSnapshot, component
from hiitpi.live.redis_store import snapshot_json


def test_snapshot_json_is_the_to_dict_encoding_and_reads_back() -> None:
    state = WorkoutState(
        "squat", 12.5, reps=4, no_reps=1, phase="down", rep_times=(1.0, 2.5), last_reason="x"
    )
    status = EngineStatus(
        source="cam",
        backend="blazepose-full",
        fps=29.9,
        active=True,
        stages_ms={"pose": 9.1, "draw": 0.4},
        latency_ms={"to_jpeg": 20.0},
        answers={"1-0": [None, "ana"]},
        health={"camera": component(True, "ok", since=1.0), "database": component(None, "?")},
    )
    for snap in (LiveSnapshot(state, status, 123.0), LiveSnapshot(None, EngineStatus(), 1.0)):
        text = snapshot_json(snap)
        assert text == json.dumps(snap.to_dict())
        assert LiveSnapshot.from_dict(json.loads(text)) == snap
