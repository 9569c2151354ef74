"""Offline pose extraction with a track cache: video -> TrackFrames, model runs at most once."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

import hiitpi.pose
from hiitpi.config import PoseConfig, SourceConfig
from hiitpi.core.frame import Frame
from hiitpi.engine.tracks import TrackFrame, TrackWriter, cache_path, file_digest, read_track
from hiitpi.errors import ModelError
from hiitpi.pose.base import PoseEstimator
from hiitpi.pose.registry import build_estimator
from hiitpi.sources.factory import open_source
from hiitpi.sources.prefetch import DEPTH, FrameReader

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (frames done, total frames or 0)


def cacheable(cfg: PoseConfig) -> bool:
    """Whether a track can be cached under its settings: not for ``auto``, whose choice of
    backend depends on how fast this machine is at the moment it probes."""
    return cfg.backend != "auto"


# The packages whose version changes what a backend outputs (absent ones are left out).
# OpenCV decodes, resizes and converts the pixels every model sees.
RUNTIMES = (
    "mediapipe",
    "ai-edge-litert",
    "tflite-runtime",
    "opencv-python-headless",
    "opencv-python",
    "opencv-contrib-python",
)


def settings_key(cfg: PoseConfig) -> str:
    """A stable string for everything that changes the track: every pose setting (the model
    file by content), the pose code of this package and the installed runtime versions, so a
    track is recomputed after any of them changes instead of replaying stale poses."""
    # num_threads: speed, not poses; models_dir: where, not what (resolved files are hash-checked)
    d = cfg.model_dump(mode="json", exclude={"num_threads", "models_dir"})
    if cfg.model_path is not None:
        model = Path(cfg.model_path).expanduser()
        if not model.is_file():  # what the backend would say, before the cache key needs it
            raise ModelError(f"pose.model_path: no such file: {model}")
        d["model_path"] = file_digest(model)
    d["code"] = pose_code_digest()
    d["runtimes"] = runtime_versions()
    return json.dumps(d, sort_keys=True)


POSE_CODE = Path(hiitpi.pose.__file__).parent


@cache
def pose_code_digest(root: Path = POSE_CODE) -> str:
    """Digest of the ``hiitpi.pose`` package's sources (backends, crops, decoders)."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


@cache
def runtime_versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in RUNTIMES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def estimate_frames(
    frames: Iterator[Frame], estimator: PoseEstimator
) -> Iterator[tuple[Frame, TrackFrame]]:
    """Run the estimator over frames in order, timing each call."""
    for frame in frames:
        t0 = time.perf_counter()
        pose = estimator.estimate(frame)
        ms = (time.perf_counter() - t0) * 1000.0
        yield frame, TrackFrame(frame.t, frame.index, frame.width, frame.height, pose, ms)


def read_frames(video: str | Path, *, prefetch: int = 0) -> tuple[FrameReader, int, float]:
    """Open a video file as fast as possible; returns (frames, frame count, fps).

    ``prefetch`` > 0 decodes that many frames ahead on a thread (the model's thread then never
    waits for the decoder); 0 decodes in the caller's thread (to time decoding on its own).
    The reader owns the source: close it when done early.
    """
    source = open_source(SourceConfig(uri=str(video)), paced=False)
    total = int(getattr(source, "frame_count", 0))
    return FrameReader(source, prefetch), total, source.fps


@dataclass
class Estimation:
    """A video being run through a pose model: (frame, track frame) pairs in order."""

    pairs: Iterator[tuple[Frame, TrackFrame]]
    total: int  # frames in the file, as its container says (0 when unknown)
    fps: float
    backend: Callable[[], str]  # the model's name; ``auto`` knows its choice only after probing


def open_estimation(
    video: str | Path,
    cfg: PoseConfig,
    cached: Path | None,
    stack: ExitStack,
    complete: Callable[[], bool],
    estimator: PoseEstimator | None = None,
) -> Estimation:
    """Decode ``video`` (a few frames ahead, on a thread) and run the model over it, writing the
    track to ``cached`` as it goes.

    Everything opened here is closed by ``stack``, even if another close fails: the model
    before the frames (left to the interpreter's exit, mediapipe's graph blocks in
    WaitUntilDone and Ctrl-C hangs), and the cache file, kept only if ``complete()`` is true
    by then. A bad video fails before a model loads. ``estimator``: the caller's, not closed.
    """
    frames, total, fps = read_frames(video, prefetch=DEPTH)
    stack.callback(frames.close)
    est = estimator
    name = [""]
    if est is None:
        est = build_estimator(cfg)
        own = est

        def close_estimator() -> None:
            name[0] = own.name  # read before close(): auto forgets its choice when closed
            own.close()

        stack.callback(close_estimator)
    model = est
    writer = TrackWriter(cached) if cached is not None else None
    if writer is not None:
        stack.callback(lambda: writer.close(ok=complete()))

    def pairs() -> Iterator[tuple[Frame, TrackFrame]]:
        for frame, tf in estimate_frames(frames, model):
            line = tf.to_json()
            if writer is not None:
                writer.write_line(line)
            # The poses as the cache stores them (rounded): the first run of a video and every
            # later run from its cached track then count exactly the same.
            yield frame, TrackFrame.from_json(line)

    return Estimation(pairs(), total, fps, lambda: name[0] or model.name)


def track_for(
    video: str | Path,
    cfg: PoseConfig,
    cache_dir: Path | None,
    progress: Progress | None = None,
    estimator: PoseEstimator | None = None,
) -> list[TrackFrame]:
    """The pose track of a whole video, from the cache when present, else computed and cached."""
    if cache_dir is None or not cacheable(cfg):
        cached = None
    else:
        cached = cache_path(cache_dir, video, settings_key(cfg))
    if cached is not None and cached.is_file():
        log.info("pose track from cache %s", cached)
        return list(read_track(cached))
    out: list[TrackFrame] = []
    ok = False
    with ExitStack() as stack:
        run = open_estimation(video, cfg, cached, stack, lambda: ok, estimator)
        for _, tf in run.pairs:
            out.append(tf)
            if progress is not None:
                progress(len(out), run.total)
        ok = True
    return out
