"""The development clips for the quality regression: ../shared next to the repository.

Absent: the tests that need them skip with a reason, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = (REPO / ".." / "shared").resolve()
MANIFEST = SHARED / "data" / "clips.csv"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def clips_manifest() -> Path:
    """``../shared/data/clips.csv``; skips (fails under CI) when it is absent."""
    if not MANIFEST.is_file():
        msg = f"the quality regression needs the development clips at {MANIFEST} (absent)"
        if IN_CI:
            pytest.fail(f"CI=true but {msg}")
        pytest.skip(msg)
    return MANIFEST


@pytest.fixture(scope="session")
def track_cache() -> Path:
    """Where cached pose tracks live: the app's own cache (``cache_dir``; $HIITPI_CACHE_DIR).

    The same place `hiitpi analyze`/`eval` use, keyed by video content and pose settings, so a
    fresh clone on a machine that has counted these clips before does not run the model again.
    """
    from hiitpi.config import load_config

    return load_config().cache_dir
