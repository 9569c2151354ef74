"""Native start-up chatter: kept off the terminal, but quoted when a load fails."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from hiitpi.config import PoseConfig
from hiitpi.errors import ModelError
from hiitpi.pose.backends import litert
from hiitpi.pose.native import muted_native_stderr

log = logging.getLogger("test-native")


def test_native_lines_are_captured_not_printed(capfd: pytest.CaptureFixture[str]) -> None:
    with muted_native_stderr(log) as native:
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"W0000 absl chatter\n")
    assert capfd.readouterr().err == ""
    assert "absl chatter" in native.text
    assert native.detail() == " (native log: W0000 absl chatter)"  # the INFO line is noise
    os.write(2, b"after\n")  # fd 2 is back
    assert capfd.readouterr().err == "after\n"


def test_the_runtimes_reason_survives_a_failure(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError), muted_native_stderr(log) as native:
        os.write(2, b"ERROR: Package requires runtime version (14), which is newer than (13).\n")
        raise RuntimeError("failed to prepare")
    assert "runtime version (14)" in native.detail()
    assert capfd.readouterr().err == ""


def test_debug_logging_captures_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    debug = logging.getLogger("test-native-debug")
    debug.setLevel(logging.DEBUG)
    with muted_native_stderr(debug) as native:
        os.write(2, b"visible\n")
    assert capfd.readouterr().err == "visible\n" and native.text == ""


def test_a_litert_load_failure_quotes_the_native_log(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def failing_interpreter(path: Path, delegates: list[Any], threads: int) -> Any:
        os.write(2, b"ERROR: Failed to prepare for TPU. Package requires runtime version (14)\n")
        raise RuntimeError("failed to prepare")

    model = tmp_path / "m.tflite"
    model.write_bytes(b"\x1c\x00\x00\x00TFL3" + b"\x00" * 64)
    monkeypatch.setattr(litert, "make_interpreter", failing_interpreter)
    with pytest.raises(ModelError, match=r"failed to prepare \(native log: .*runtime version"):
        litert.LiteRTEstimator(PoseConfig(backend="movenet", model_path=model))
