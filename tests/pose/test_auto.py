"""``pose.backend = "auto"``: the start-up probe with fake backends and a fake clock."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hiitpi.config import PoseConfig
from hiitpi.core.frame import Frame
from hiitpi.core.pose import Pose
from hiitpi.errors import ModelError
from hiitpi.pose import auto
from hiitpi.pose.auto import AutoEstimator, Candidate, ProbeResult, choose, discover
from hiitpi.pose.registry import build_estimator

BUDGET = 1000.0 * auto.HEADROOM / auto.TARGET_FPS  # 26.7 ms


class Clock:
    """The fake clock, and whether a person is in view of the fake camera."""

    def __init__(self, person: bool = True) -> None:
        self.now = 0.0
        self.person = person

    def __call__(self) -> float:
        return self.now


class FakeBackend:
    """A backend that costs ``ms`` per frame on the fake clock and finds a person or not."""

    def __init__(self, name: str, ms: float, clock: Clock) -> None:
        self.name, self.ms, self.clock = name, ms, clock
        self.calls = 0
        self.closed = False

    def estimate(self, frame: Frame) -> Pose | None:
        self.calls += 1
        self.clock.now += self.ms / 1000.0
        if not self.clock.person:
            return None
        return Pose(np.zeros((33, 2)), np.ones(33), 0.9, frame.width, frame.height)

    def reset(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def make(
    costs: dict[str, float | None], person: bool = True
) -> tuple[AutoEstimator, dict[str, FakeBackend], Clock]:
    """An AutoEstimator over fake candidates; cost None = cannot load."""
    clock = Clock(person)
    backends: dict[str, FakeBackend] = {}
    cands = [Candidate(label, rank, PoseConfig(backend=label)) for rank, label in enumerate(costs)]

    def builder(cfg: PoseConfig) -> FakeBackend:
        ms = costs[cfg.backend]
        if ms is None:
            raise ModelError(f"{cfg.backend} missing")
        backends[cfg.backend] = FakeBackend(cfg.backend, ms, clock)
        return backends[cfg.backend]

    est = AutoEstimator(PoseConfig(), candidates=cands, builder=builder, clock=clock)
    return est, backends, clock


def frame(i: int = 0) -> Frame:
    return Frame(np.zeros((48, 64, 3), np.uint8), i, i / 30)


def test_picks_the_most_accurate_backend_that_keeps_30_fps():
    est, backends, _ = make({"heavy": 250.0, "full": 56.0, "lite": 20.0, "lightning": 5.0})
    assert est.name == "auto"
    assert est.estimate(frame()) is not None
    assert est.name == "lite"
    assert "too slow or unavailable: heavy, full" in est.reason
    assert [r.label for r in est.results] == ["heavy", "full", "lite", "lightning"]
    assert est.results[1].ms == pytest.approx(56.0)
    # The losers are closed; the heavy one stopped timing early (over 3x the budget).
    assert backends["heavy"].closed and backends["full"].closed and backends["lightning"].closed
    assert not backends["lite"].closed
    assert backends["heavy"].calls == auto.WARMUP + 1
    assert backends["full"].calls == auto.WARMUP + auto.TIMED
    # Afterwards every frame goes to the chosen backend only.
    calls = backends["lite"].calls
    est.estimate(frame(1))
    assert (
        backends["lite"].calls == calls + 1 and backends["full"].calls == auto.WARMUP + auto.TIMED
    )


def test_a_backend_that_cannot_load_is_skipped_with_its_reason():
    est, _, _ = make({"heavy": None, "full": 20.0})
    est.estimate(frame())
    assert est.name == "full"
    assert est.results[0].error == "heavy missing"


def test_when_nothing_keeps_up_the_fastest_wins():
    est, _, _ = make({"full": 60.0, "lightning": 40.0})
    est.estimate(frame())
    assert est.name == "lightning"
    assert "no backend fits" in est.reason


def test_when_nothing_loads_the_error_lists_why():
    est, _, _ = make({"full": None, "lightning": None})
    with pytest.raises(ModelError, match="full: full missing; lightning: lightning missing"):
        est.estimate(frame())


def test_nobody_in_view_probes_again_when_someone_appears():
    est, backends, clock = make({"full": 20.0, "lightning": 5.0}, person=False)
    assert est.estimate(frame()) is None
    assert est.name == "full"  # provisional
    first = backends["full"]
    clock.person = True
    assert est.estimate(frame(1)) is not None  # re-probe on this frame
    assert first.closed and backends["full"] is not first
    assert est.name == "full"
    n = backends["full"].calls
    est.estimate(frame(2))
    assert backends["full"].calls == n + 1  # no third probe


def test_choose_is_in_ranking_order():
    results = [ProbeResult("a", 30.0, True), ProbeResult("b", 10.0, True)]
    assert choose(results, 33.3)[0] == 0
    assert choose(results, 20.0)[0] == 1


def test_no_candidates_at_all(monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(ModelError, match="no backend found"):
        AutoEstimator(PoseConfig(), candidates=[])


def test_discover_finds_model_files_in_the_model_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(auto, "_has_module", lambda name: True)
    monkeypatch.setattr(auto, "_mediapipe_installed", lambda filename: False)
    keys = ("mediapipe", "movenet", "posenet", "auto")  # this build's keys, whatever is merged
    monkeypatch.setattr(auto, "BACKENDS", {k: v for k, v in auto.BACKENDS.items() if k in keys})
    for name in (
        "pose_landmark_heavy.tflite",
        "movenet_single_pose_lightning_ptq.tflite",
        "movenet_single_pose_lightning_ptq_edgetpu.tflite",
    ):
        (tmp_path / name).write_bytes(b"")
    found = discover(PoseConfig(backend="auto", model_path=tmp_path, models_dir=tmp_path / "none"))
    assert [c.label for c in found] == ["mediapipe-heavy", "mediapipe-full", "movenet-lightning"]
    assert found[0].cfg.model_path == tmp_path / "pose_landmark_heavy.tflite"
    assert found[1].cfg.model_path is None  # full ships inside the mediapipe wheel
    assert found[2].cfg.model_path == tmp_path / "movenet_single_pose_lightning_ptq.tflite"
    tpu = discover(
        PoseConfig(
            backend="auto", model_path=tmp_path, delegate="edgetpu", models_dir=tmp_path / "none"
        )
    )
    assert tpu[-1].label == "movenet-lightning-edgetpu"
    assert tpu[-1].cfg.model_path is not None and "_edgetpu" in tpu[-1].cfg.model_path.name
    assert tpu[-1].cfg.delegate == "edgetpu"


def test_registry_builds_auto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(auto, "_has_module", lambda name: name == "mediapipe")
    est = build_estimator(PoseConfig(backend="auto", model_path=tmp_path))
    assert isinstance(est, AutoEstimator)
    assert est.name == "auto"


def test_discover_ranks_every_registered_family(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """blazepose heavy > full > lite (the maintained runtime just above the legacy wheel)
    > hailo > movenet thunder > lightning > posenet; keys this build lacks are not offered."""
    monkeypatch.setattr(auto, "_has_module", lambda name: True)
    monkeypatch.setattr(auto, "_mediapipe_installed", lambda filename: True)
    keys = ("blazepose", "mediapipe", "hailo", "movenet", "posenet")
    monkeypatch.setattr(auto, "BACKENDS", dict.fromkeys(keys, "x:y"))
    for name in (
        "movenet_single_pose_thunder.tflite",
        "movenet_single_pose_lightning_ptq.tflite",
        "posenet_mobilenet_v1_075_481_641_quant_decoder.tflite",
        "yolov8s_pose_h8l_pi.hef",
    ):
        (tmp_path / name).write_bytes(b"")
    found = discover(PoseConfig(model_path=tmp_path, num_threads=2, models_dir=tmp_path / "none"))
    assert [c.label for c in found] == [
        "blazepose-heavy", "mediapipe-heavy", "blazepose-full", "mediapipe-full",
        "blazepose-lite", "mediapipe-lite", "hailo-yolov8s_pose_h8l_pi", "movenet-thunder",
        "movenet-lightning", "posenet",
    ]  # fmt: skip
    assert [c.cfg.model_complexity for c in found[:6]] == [2, 2, 1, 1, 0, 0]
    assert all(c.cfg.num_threads == 2 for c in found)  # settings other than the model carry over
    assert found[6].cfg.model_path == tmp_path / "yolov8s_pose_h8l_pi.hef"
    monkeypatch.setattr(auto, "BACKENDS", dict.fromkeys(("movenet",), "x:y"))
    assert [c.label for c in discover(PoseConfig(model_path=tmp_path))] == [
        "movenet-thunder", "movenet-lightning",
    ]  # fmt: skip
