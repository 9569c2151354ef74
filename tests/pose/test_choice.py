"""The live backend choice: remembered per machine, probed again when the CPU or runtimes change.

Fake backends on a fake clock (from ``test_auto``) stand in for the models: what is tested is
the decision and its memory, not a model's speed. The CPU string is monkeypatched, as a
different machine would report it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hiitpi.config import PoseConfig, load_config
from hiitpi.errors import ModelError
from hiitpi.pose import choice
from hiitpi.pose.auto import AutoEstimator, Candidate
from hiitpi.pose.choice import MEMORY_FILE, LiveChoice, live_estimator, wants_auto

from .test_auto import Clock, FakeBackend, frame

CPU_A = {"cpu_model": "AMD EPYC 9R14", "cpu_family_model": "25/17", "flags": "avx2"}
CPU_B = {"cpu_model": "Cortex-A76", "cpu_family_model": "0x41/0xd0b", "flags": "asimd"}


class Models:
    """Fake candidates with per-label costs; counts how often each is built."""

    def __init__(self, costs: dict[str, float | None]) -> None:
        self.costs = costs
        self.clock = Clock()
        self.built: list[str] = []
        self.candidates = [
            Candidate(label, rank * 10, PoseConfig(backend=label, model_complexity=1))
            for rank, label in enumerate(costs)
        ]

    def __call__(self, cfg: PoseConfig) -> FakeBackend:
        ms = self.costs[cfg.backend]
        if ms is None:
            raise ModelError(f"{cfg.backend} missing")
        self.built.append(cfg.backend)
        return FakeBackend(cfg.backend, ms, self.clock)

    def choose(
        self, data_dir: Path, fps: float = 30.0, pose: PoseConfig | None = None
    ) -> LiveChoice:
        return live_estimator(
            pose or PoseConfig(),
            data_dir,
            fps,
            builder=self,
            candidates=self.candidates,
            clock=self.clock,
        )


@pytest.fixture(autouse=True)
def cpu_a(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(choice, "cpu_info", lambda: dict(CPU_A))


def test_no_backend_chosen_means_auto_for_serve() -> None:
    assert wants_auto(PoseConfig())  # the default was not chosen by anyone
    assert wants_auto(PoseConfig(backend="auto"))
    assert not wants_auto(PoseConfig(backend="movenet"))
    assert wants_auto(load_config(env={}).pose)
    assert not wants_auto(load_config(env={"HIITPI_POSE__BACKEND": "mediapipe"}).pose)
    assert not wants_auto(load_config(env={}, overrides={"pose": {"backend": "mediapipe"}}).pose)


def test_naming_a_model_chooses_the_default_backend_a_folder_does_not(tmp_path: Path) -> None:
    model = tmp_path / "pose_landmark_lite.tflite"
    model.write_bytes(b"")
    assert not wants_auto(PoseConfig(model_complexity=0))  # --complexity 0
    assert not wants_auto(PoseConfig(model_path=model))  # --model FILE
    assert wants_auto(PoseConfig(model_path=tmp_path))  # --model DIR: where auto looks
    assert wants_auto(PoseConfig(min_detection_confidence=0.6, num_threads=2))


def test_a_chosen_backend_is_built_without_probing(tmp_path: Path) -> None:
    models = Models({"heavy": 250.0, "movenet": 5.0})
    got = models.choose(tmp_path, pose=PoseConfig(backend="movenet"))
    assert got.probe is None and got.estimator.name == "movenet"
    assert "chosen with pose.backend" in got.reason
    assert not (tmp_path / MEMORY_FILE).exists()


def test_first_start_probes_then_the_choice_is_remembered(tmp_path: Path) -> None:
    models = Models({"heavy": 250.0, "full": 20.0, "lightning": 5.0})
    first = models.choose(tmp_path)
    assert isinstance(first.probe, AutoEstimator)
    first.probe.probe(frame())  # the App does this on a camera frame before the engine starts
    assert first.estimator.name == "full"
    saved = json.loads((tmp_path / MEMORY_FILE).read_text())
    assert saved["label"] == "full" and saved["pose"]["backend"] == "full"
    assert saved["fingerprint"]["cpu_model"] == "AMD EPYC 9R14"
    assert saved["fingerprint"]["cpu_family_model"] == "25/17"
    assert "hiitpi" in saved["fingerprint"]["runtimes"]
    assert saved["fingerprint"]["target_fps"] == 30.0
    assert [r["label"] for r in saved["results"]] == ["heavy", "full", "lightning"]

    models.built.clear()
    second = models.choose(tmp_path)
    assert second.probe is None  # no probe: remembered
    assert models.built == ["full"]
    assert second.estimator.name == "full"
    assert second.reason.startswith("full: most accurate within 26.7 ms/frame")
    assert "too slow or unavailable: heavy" in second.reason


def test_a_changed_cpu_probes_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models = Models({"full": 20.0, "lightning": 5.0})
    models.choose(tmp_path).probe.probe(frame())  # type: ignore[union-attr]
    monkeypatch.setattr(choice, "cpu_info", lambda: dict(CPU_A, cpu_family_model="25/1"))
    models.costs["full"] = 60.0  # an older generation: full no longer keeps up
    again = models.choose(tmp_path)
    assert again.probe is not None
    again.probe.probe(frame())
    assert again.estimator.name == "lightning"
    saved = json.loads((tmp_path / MEMORY_FILE).read_text())
    assert saved["label"] == "lightning" and saved["fingerprint"]["cpu_family_model"] == "25/1"
    monkeypatch.setattr(choice, "cpu_info", lambda: dict(CPU_B))
    assert models.choose(tmp_path).probe is not None


def test_changed_runtimes_fps_or_candidates_probe_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = Models({"full": 20.0, "lightning": 5.0})
    models.choose(tmp_path).probe.probe(frame())  # type: ignore[union-attr]
    assert models.choose(tmp_path).probe is None
    assert models.choose(tmp_path, fps=60.0).probe is not None  # a faster camera
    versions = choice.runtime_versions()
    monkeypatch.setattr(choice, "runtime_versions", lambda: {**versions, "mediapipe": "9.9"})
    assert models.choose(tmp_path).probe is not None
    monkeypatch.setattr(choice, "runtime_versions", lambda: versions)
    assert models.choose(tmp_path).probe is None
    models.candidates = models.candidates[:1]  # a model file went away
    assert models.choose(tmp_path).probe is not None


def test_nobody_in_view_is_not_remembered_until_someone_appears(tmp_path: Path) -> None:
    models = Models({"full": 20.0, "lightning": 5.0})
    models.clock.person = False
    got = models.choose(tmp_path)
    assert got.probe is not None
    got.probe.probe(frame())
    assert not (tmp_path / MEMORY_FILE).exists()  # timed on an empty frame: provisional
    models.clock.person = True
    assert got.estimator.estimate(frame(1)) is not None  # the set's first person: final
    assert json.loads((tmp_path / MEMORY_FILE).read_text())["label"] == "full"


def test_a_broken_memory_or_a_remembered_backend_that_fails_probes_again(
    tmp_path: Path,
) -> None:
    models = Models({"full": 20.0, "lightning": 5.0})
    (tmp_path / MEMORY_FILE).write_text("{not json")
    assert models.choose(tmp_path).probe is not None
    models.choose(tmp_path).probe.probe(frame())  # type: ignore[union-attr]
    models.costs["full"] = None  # its model file was deleted
    again = models.choose(tmp_path)
    assert again.probe is not None


def test_no_candidate_at_all_is_a_clear_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no backend found"):
        Models({}).choose(tmp_path)


def test_resolve_live_config_probes_until_a_person_is_in_view(tmp_path: Path) -> None:
    """What ``hiitpi bench`` measures: the backend serve would run, probed on clip frames."""
    models = Models({"full": 20.0, "lightning": 5.0})
    models.clock.person = False

    def frames():  # type: ignore[no-untyped-def]
        for i in range(5):
            models.clock.person = i >= 2
            yield frame(i)

    kw = {"builder": models, "candidates": models.candidates}
    cfg, why = choice.resolve_live_config(PoseConfig(), tmp_path, 30.0, frames(), **kw)
    assert cfg.backend == "full" and why.startswith("full: most accurate")
    assert json.loads((tmp_path / MEMORY_FILE).read_text())["label"] == "full"
    cfg, why = choice.resolve_live_config(PoseConfig(), tmp_path, 30.0, [], **kw)
    assert cfg.backend == "full" and "(probed " in why  # remembered: no frame needed
    chosen = PoseConfig(backend="lightning")
    cfg, why = choice.resolve_live_config(chosen, tmp_path, 30.0, [], **kw)
    assert cfg.backend == "lightning" and "chosen with pose.backend" in why
