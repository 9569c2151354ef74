"""OpenCVSource on real files, a missing camera and a URL that never answers."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from hiitpi.config import SourceConfig
from hiitpi.core.frame import Frame
from hiitpi.errors import SourceError
from hiitpi.sources import open_source
from hiitpi.sources.opencv import OpenCVSource

from .clips import CLIP_FPS, CLIP_FRAMES, CLIP_SIZE, square_x


def read_all(source: OpenCVSource, limit: int = 10_000) -> list[Frame]:
    frames: list[Frame] = []
    while len(frames) < limit and (frame := source.read()) is not None:
        frames.append(frame)
    return frames


def test_file_offline_reads_every_frame_with_media_time(clip: Path) -> None:
    source = OpenCVSource(str(clip))
    source.open()
    try:
        assert source.fps == CLIP_FPS
        assert source.frame_count == CLIP_FRAMES
        frames = read_all(source)
        assert source.read() is None  # stays at the end
    finally:
        source.close()
    assert len(frames) == CLIP_FRAMES
    assert [f.index for f in frames] == list(range(CLIP_FRAMES))
    assert [f.t for f in frames] == pytest.approx([i / CLIP_FPS for i in range(CLIP_FRAMES)])
    width, height = CLIP_SIZE
    assert {f.image.shape for f in frames} == {(height, width, 3)}
    assert {f.source_id for f in frames} == {str(clip)}


def test_first_frame_is_the_clips_first_frame(clip: Path) -> None:
    # open() decodes one frame to validate the file; read() must still start at frame 0.
    source = OpenCVSource(str(clip))
    source.open()
    try:
        xs = [square_x(f.image) for f in read_all(source, limit=4)]
    finally:
        source.close()
    assert xs == [0, 2, 4, 6]


def test_paced_playback_runs_at_about_native_speed(clip: Path) -> None:
    source = OpenCVSource(str(clip), paced=True)
    source.open()
    try:
        start = time.monotonic()
        frames = read_all(source, limit=20)
        elapsed = time.monotonic() - start
    finally:
        source.close()
    assert len(frames) == 20
    assert elapsed >= 0.5  # 19 frame intervals at 30 fps = 0.63 s; loose on purpose
    assert frames[-1].t == pytest.approx(19 / CLIP_FPS)  # t stays media time


def test_paced_clock_starts_at_first_read_not_at_open(clip: Path) -> None:
    # A pipeline that opens the source, then spends a while loading a model, must not see the
    # first frames burst out to "catch up".
    source = OpenCVSource(str(clip), paced=True)
    source.open()
    try:
        time.sleep(0.4)
        start = time.monotonic()
        read_all(source, limit=10)
        elapsed = time.monotonic() - start
    finally:
        source.close()
    assert elapsed >= 0.2  # 9 intervals = 0.3 s


def test_a_delayed_paced_file_goes_on_at_its_rate_without_a_burst(clip: Path) -> None:
    # the bench holds the app's capture to time the bare model; after the hold the file must
    # not hand over the frames it "missed" back to back
    source = OpenCVSource(str(clip), paced=True)
    source.open()
    try:
        read_all(source, limit=5)
        time.sleep(0.4)  # held
        source.delay(0.4)
        start = time.monotonic()
        frames = read_all(source, limit=10)
        elapsed = time.monotonic() - start
    finally:
        source.close()
    assert elapsed >= 0.25  # 9-10 intervals at 30 fps, not a burst of the 12 missed frames
    assert frames[0].t == pytest.approx(5 / CLIP_FPS)  # media time goes on where it was


def test_loop_wraps_to_the_start_with_increasing_t_and_index(clip: Path) -> None:
    source = OpenCVSource(str(clip), loop=True)
    source.open()
    try:
        frames = read_all(source, limit=2 * CLIP_FRAMES + 5)
    finally:
        source.close()
    assert len(frames) == 2 * CLIP_FRAMES + 5
    ts = [f.t for f in frames]
    assert all(b > a for a, b in itertools.pairwise(ts))
    assert [f.index for f in frames] == list(range(len(frames)))
    wrapped = frames[CLIP_FRAMES]
    assert wrapped.t == pytest.approx(CLIP_FRAMES / CLIP_FPS)
    assert np.array_equal(wrapped.image, frames[0].image)
    assert square_x(frames[2 * CLIP_FRAMES + 1].image) == 2


def test_reopen_starts_again_from_zero(clip: Path) -> None:
    source = OpenCVSource(str(clip), loop=True)
    source.open()
    read_all(source, limit=CLIP_FRAMES + 3)
    source.open()
    try:
        first = source.read()
    finally:
        source.close()
    assert first is not None
    assert (first.index, first.t) == (0, 0.0)


def _missing(d: Path) -> Path:
    return d / "absent.mp4"


def _directory(d: Path) -> Path:
    return d


def _garbage(d: Path) -> Path:
    path = d / "x.mp4"
    path.write_bytes(b"\x00garbage, not a video\xff" * 64)
    return path


def _empty(d: Path) -> Path:
    path = d / "empty.mp4"
    path.touch()
    return path


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_missing, "not found"),
        (_directory, "not a file"),
        (_garbage, "not a video"),
        (_empty, "not a video"),
    ],
    ids=["missing", "directory", "garbage-bytes", "empty"],
)
def test_bad_file_raises_source_error_naming_the_path(
    tmp_path: Path, make: Callable[[Path], Path], expected: str
) -> None:
    path = make(tmp_path)
    with pytest.raises(SourceError, match=expected) as info:
        OpenCVSource(str(path)).open()
    assert str(path) in str(info.value)


@pytest.mark.parametrize("uri", ["97", "/dev/video97"])
def test_camera_that_does_not_exist_raises_source_error(uri: str) -> None:
    with pytest.raises(SourceError, match="camera 97 not found"):
        OpenCVSource(uri).open()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections and never sends a byte."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    done.set()
    thread.join(2)
    for conn in accepted:
        conn.close()
    server.close()


def _open_stream_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "hiitpi-open-stream"]


def test_url_that_never_answers_times_out(silent_server: int) -> None:
    uri = f"http://127.0.0.1:{silent_server}/stream"
    source = OpenCVSource(uri, open_timeout_s=1)
    start = time.monotonic()
    with pytest.raises(SourceError, match="timed out") as info:
        source.open()
    assert time.monotonic() - start < 5
    assert uri in str(info.value)
    # The attempt itself must end too, not linger on FFmpeg's own 30 s default.
    deadline = time.monotonic() + 5
    while _open_stream_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _open_stream_threads()


def test_url_refused_fails_fast() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed on exit: nothing listens there afterwards
    start = time.monotonic()
    with pytest.raises(SourceError, match=f"127.0.0.1:{port}"):
        OpenCVSource(f"http://127.0.0.1:{port}/stream", open_timeout_s=5).open()
    assert time.monotonic() - start < 4.5


def test_read_before_open_raises_and_close_is_idempotent(clip: Path) -> None:
    source = OpenCVSource(str(clip))
    with pytest.raises(SourceError, match="not open"):
        source.read()
    source.close()
    source.open()
    source.close()
    source.close()


def test_open_source_returns_an_open_file_source(clip: Path) -> None:
    source = open_source(SourceConfig(uri=str(clip)))
    try:
        frame = source.read()
    finally:
        source.close()
    assert frame is not None and frame.index == 0
    assert source.fps == CLIP_FPS


def test_open_source_reports_a_bad_path_as_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"absent\.mp4"):
        open_source(SourceConfig(uri=str(tmp_path / "absent.mp4")))


def test_failed_opens_leave_stderr_to_the_error_message(tmp_path: Path) -> None:
    # OpenCV and FFmpeg print their own diagnosis ("moov atom not found", "can't open camera by
    # index") straight to fd 2; the CLI promises one line. A fresh process, because FFmpeg reads
    # its log level once, at first use.
    garbage = tmp_path / "x.mp4"
    garbage.write_bytes(b"\x00garbage\xff" * 64)
    script = (
        "import sys\n"
        "from hiitpi.errors import SourceError\n"
        "from hiitpi.sources.opencv import OpenCVSource\n"
        "for uri in sys.argv[1:]:\n"
        "    try:\n"
        "        OpenCVSource(uri).open()\n"
        "    except SourceError:\n"
        "        pass\n"
        "    else:\n"
        "        raise SystemExit(uri + ' opened')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_")}
    proc = subprocess.run(
        [sys.executable, "-c", script, str(garbage), "97"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
