"""Fixtures for the source tests: real clips written on the fly (no /work/shared needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .clips import write_clip


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """64 frames, 160x120, 30 fps."""
    return write_clip(tmp_path_factory.mktemp("clips") / "square.mp4")
