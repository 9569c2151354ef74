"""Suite-wide fixtures: the ../shared folder (clips, models) and opt-in hardware tests.

Tests that need ../shared are marked ``shared`` (or use the ``shared_dir`` fixture): they skip
with a reason when it is absent, except under CI (``CI=true``), where its absence fails them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def _default_models_dir() -> Path:
    from hiitpi.config import PoseConfig

    return PoseConfig().models_dir


REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HIITPI_TEST_SHARED_DIR") or REPO.parent / "shared")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
EXTERNAL_REDIS_URL = os.environ.get("HIITPI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# The machine's models folder (filled by `make install`): tests that isolate data_dir in a
# temporary folder point the models folder back here, since it follows data_dir by default.
MODELS_DIR = Path(os.environ.get("HIITPI_POSE__MODELS_DIR") or _default_models_dir())


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-hardware", action="store_true", help="run tests that need a Pi camera or a Coral"
    )


def _shared_missing() -> str | None:
    if (SHARED / "data" / "clips.csv").is_file():
        return None
    return f"needs the shared clips and models at {SHARED} (absent)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run_hw = config.getoption("--run-hardware")
    missing = _shared_missing()
    for item in items:
        if "hardware" in item.keywords and not run_hw:
            item.add_marker(pytest.mark.skip(reason="hardware test: pass --run-hardware"))
        if "shared" in item.keywords and missing and not IN_CI:
            item.add_marker(pytest.mark.skip(reason=missing))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """Path of ../shared; skips (or fails under CI) when it is absent."""
    missing = _shared_missing()
    if missing:
        if IN_CI:
            pytest.fail(f"CI=true but the suite {missing}")
        pytest.skip(missing)
    return SHARED


@pytest.fixture(scope="session")
def clips_dir(shared_dir: Path) -> Path:
    return shared_dir / "data" / "clips"


@pytest.fixture
def external_store(request: pytest.FixtureRequest) -> Iterator[object]:
    """A live store on the real Redis server under a fresh station id; its keys removed after.

    Skips with the reason when that server is down, except under CI, where it fails.
    """
    from hiitpi.errors import StoreError
    from hiitpi.live import RedisLiveStore

    prefix = request.node.name.split("[")[0][:20]
    try:
        store = RedisLiveStore.from_url(EXTERNAL_REDIS_URL, f"{prefix}-{uuid.uuid4().hex[:12]}")
    except StoreError as exc:
        reason = f"no Redis at {EXTERNAL_REDIS_URL}: {exc}"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    yield store
    store.clear()
    store.close()


@pytest.fixture(scope="session")
def blazepose_models() -> Path:
    """The models folder of the default configuration, holding the BlazePose files that
    `make install` fetches (`hiitpi models fetch`); skips (fails under CI) without them."""
    from hiitpi.pose import models

    folder = MODELS_DIR
    bad = [f.model.name for f in models.inspect(folder, models.DEFAULT_MODELS) if f.status != "OK"]
    if bad:
        reason = f"BlazePose files missing in {folder}: {bad} (run `hiitpi models fetch`)"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    return folder
