"""How a file is decoded when it plays as a camera (the live app's CPU budget, issue 11)."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from hiitpi.sources.opencv import OpenCVSource

pytestmark = pytest.mark.skipif(
    not hasattr(cv2, "CAP_PROP_N_THREADS"), reason="this OpenCV cannot set decoder threads"
)


def _decoder_threads(source: OpenCVSource) -> float:
    assert source._cap is not None
    return float(source._cap.get(cv2.CAP_PROP_N_THREADS))


def test_a_paced_file_decodes_on_the_capture_thread_alone(clip: Path) -> None:
    """Live, the model's threads own the other cores: FFmpeg's frame threads only add their
    hand-over cost; offline analysis keeps FFmpeg's default (throughput)."""
    paced = OpenCVSource(str(clip), paced=True, loop=True)
    paced.open()
    try:
        assert _decoder_threads(paced) == 1
        assert paced.read() is not None and paced.read() is not None
        paced._restart_file()  # a looped file reopens the same way
        assert _decoder_threads(paced) == 1
    finally:
        paced.close()
    offline = OpenCVSource(str(clip))
    offline.open()
    try:
        assert _decoder_threads(offline) != 1 or (cv2.getNumberOfCPUs() == 1)
    finally:
        offline.close()
