"""Fixtures for the source tests: real clips written on the fly (no /work/shared needed)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import fake_picamera2 as fake
from .clips import write_clip


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """64 frames, 160x120, 30 fps."""
    return write_clip(tmp_path_factory.mktemp("clips") / "square.mp4")


@pytest.fixture
def fake_picamera2(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[fake.FakePicamera2]]:
    """Injects the picamera2 TEST DOUBLE as ``sys.modules["picamera2"]`` (and the submodules
    it uses) with one camera on a Pi 4 (VC4, hardware JPEG). A test that changes
    ``platform``/``hardware_jpeg`` calls :func:`install` again to rebuild the modules."""
    fake.reset(cameras=1)
    install(monkeypatch)
    yield fake.FakePicamera2
    fake.reset(cameras=0)


def install(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, module in fake.make_modules().items():
        monkeypatch.setitem(sys.modules, name, module)
