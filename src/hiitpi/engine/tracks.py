"""Pose tracks: one JSON object per frame, written while analysing and replayed without a model.

Line format (frame pixels)::

    {"t": 0.033, "frame": 1, "width": 848, "height": 478, "score": 0.93, "inference_ms": 17.2,
     "keypoints": {"left_shoulder": [x, y, visibility], ...},
     "world": {"left_shoulder": [x, y, z], ...}, "view": "side"}

``"world"`` (metres, hip-centred; BlazePose's 3D world landmarks) is present only for backends
that produce it and optional when reading. ``"view"`` (the camera's view the referee estimated:
side, front, three_quarter or overhead) is written by ``analyze --track`` once a view is known,
and optional when reading. A frame where nobody was found has
``"keypoints": {}``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from hiitpi.core.pose import Pose
from hiitpi.errors import HiitPiError
from hiitpi.referee.view import ALL_VIEWS

VIEW_NAMES = tuple(v.value for v in ALL_VIEWS)

# 2: optional "world" landmarks; 3: file frames follow the video's rotation metadata
TRACK_VERSION = 3


class TrackError(HiitPiError):
    """A pose-track file is missing or malformed."""

    exit_code = 3


@dataclass(frozen=True, slots=True)
class TrackFrame:
    t: float
    frame: int
    width: int
    height: int
    pose: Pose | None
    inference_ms: float = 0.0
    view: str | None = None

    def to_json(self) -> str:
        obj: dict[str, Any] = {
            "t": round(self.t, 4),
            "frame": self.frame,
            "width": self.width,
            "height": self.height,
            "score": round(self.pose.score, 4) if self.pose is not None else 0.0,
            "inference_ms": round(self.inference_ms, 2),
            "keypoints": self.pose.to_track() if self.pose is not None else {},
        }
        world = self.pose.world_to_track() if self.pose is not None else None
        if world:
            obj["world"] = world
        if self.view is not None:
            obj["view"] = self.view
        return json.dumps(obj, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> TrackFrame:
        obj = json.loads(line)
        width, height = int(obj["width"]), int(obj["height"])
        pose = Pose.from_track(obj.get("keypoints") or {}, width, height)
        if pose is not None and "score" in obj:
            pose = Pose(
                pose.xy, pose.conf, float(obj["score"]), width, height, pose.num_model_keypoints
            )
        if pose is not None:
            pose = pose.with_world(obj.get("world"))
        return cls(
            float(obj["t"]),
            int(obj["frame"]),
            width,
            height,
            pose,
            float(obj.get("inference_ms", 0.0)),
            _view(obj.get("view")),
        )


def _view(value: object) -> str | None:
    if value is None:
        return None
    if value not in VIEW_NAMES:
        raise ValueError(f"view {value!r} is not one of {', '.join(VIEW_NAMES)}")
    return str(value)


def read_track(path: str | Path) -> Iterator[TrackFrame]:
    """Yield the frames of a track file; TrackError names the file and line when malformed."""
    p = Path(path)
    if not p.exists():
        raise TrackError(f"track file not found: {p}")
    if not p.is_file():
        raise TrackError(f"not a track file: {p}")
    lineno = 0
    try:
        with p.open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    frame = TrackFrame.from_json(line)
                except (ValueError, KeyError, TypeError) as exc:
                    raise TrackError(f"{p}:{lineno}: not a pose-track line ({exc})") from None
                yield frame
    except UnicodeDecodeError:
        raise TrackError(f"{p}:{lineno + 1}: not a UTF-8 pose track") from None
    except OSError as exc:
        raise TrackError(f"cannot read track {p}: {exc.strerror or exc}") from None


class TrackWriter:
    """Writes a track atomically: to ``path.part``, renamed into place on ``close(ok=True)``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._tmp = self.path.with_name(self.path.name + f".{os.getpid()}.part")
        if self.path.is_dir():
            raise TrackError(f"cannot write track {self.path}: it is a folder; name a file in it")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._f: IO[str] | None = self._tmp.open("w", encoding="utf-8")
        except OSError as exc:
            raise TrackError(f"cannot write track {self.path}: {exc.strerror or exc}") from None

    def write(self, frame: TrackFrame) -> None:
        self.write_line(frame.to_json())

    def write_line(self, line: str) -> None:
        """One frame already encoded by :meth:`TrackFrame.to_json`."""
        assert self._f is not None
        self._f.write(line)
        self._f.write("\n")

    def close(self, ok: bool = True) -> None:
        if self._f is None:
            return
        self._f.close()
        self._f = None
        if ok:
            try:
                os.replace(self._tmp, self.path)
            except OSError as exc:  # the part file never stays behind
                self._tmp.unlink(missing_ok=True)
                raise TrackError(f"cannot write track {self.path}: {exc.strerror or exc}") from None
        else:
            self._tmp.unlink(missing_ok=True)


def file_digest(path: str | Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_path(cache_dir: Path, video: str | Path, settings_key: str) -> Path:
    """Where the track for ``video`` under backend ``settings_key`` is cached.

    Keyed by the video's content hash and the backend settings, so a renamed file still hits
    and a changed model or threshold misses.
    """
    digest = file_digest(video)[:20]
    key = hashlib.sha256(f"v{TRACK_VERSION}|{settings_key}".encode()).hexdigest()[:12]
    return Path(cache_dir) / "tracks" / f"{digest}-{key}.jsonl"
