"""``hiitpi serve`` with no backend chosen: the real App probes the real models on a real clip
frame, remembers the choice in its data dir, and reports it in ``/api/status``."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from hiitpi.app import App
from hiitpi.config import PoseConfig, Settings, SourceConfig, WebConfig
from hiitpi.pose.choice import MEMORY_FILE


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5) as resp:
        body: dict[str, Any] = json.load(resp)
    return body


def _serve_once(clip: Path, data: Path, station: str, models: Path) -> dict[str, Any]:
    settings = Settings(
        source=SourceConfig(uri=str(clip), loop=True),
        # the machine's models folder; no backend named, so serve probes
        pose=PoseConfig(models_dir=models),
        web=WebConfig(host="127.0.0.1", port=_free_port(), threads=4),
        data_dir=data,
    )
    # a set running: nobody is in view on the clip's first frame, so the start-up probe is
    # provisional and the final one runs on the set's first frame with a person
    app = App(settings, station=station, exercise="squat")
    app.start()
    try:
        deadline = time.monotonic() + 90  # two probes of up to 3 models on a loaded machine
        while not (data / MEMORY_FILE).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        # the choice is final once remembered; frames published after that carry its name
        # (a status read before may still show the provisional choice of an empty frame)
        after = _status(app.port).get("frames", 0) + 3
        while True:
            body = _status(app.port)
            if body.get("frames", 0) >= after or time.monotonic() > deadline:
                return body
            time.sleep(0.1)
    finally:
        app.stop()


@pytest.mark.model
@pytest.mark.shared
def test_serve_without_a_backend_probes_once_and_remembers(
    shared_dir: Path, tmp_path: Path, blazepose_models: Path
) -> None:
    clip = shared_dir / "data" / "clips" / "squat__tomnotch__1.mp4"
    station = f"choice-{time.time_ns()}"
    first = _serve_once(clip, tmp_path, station, blazepose_models)
    saved = json.loads((tmp_path / MEMORY_FILE).read_text())
    assert first["backend"] == saved["label"]
    assert "ms/frame" in first["backend_reason"]  # what the probe measured
    assert first["falling_behind"] is False and first["warning"] is None
    assert saved["fingerprint"]["cpu_model"]
    second = _serve_once(clip, tmp_path, station + "-2", blazepose_models)
    assert second["backend"] == first["backend"]
    assert f"(probed {saved['chosen_at']})" in second["backend_reason"]
