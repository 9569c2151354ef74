"""The offline referee: a whole video (or a recorded pose track) -> a report."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from hiitpi.config import Settings
from hiitpi.core.events import EventKind, RepEvent, WorkoutState
from hiitpi.core.frame import Frame
from hiitpi.engine.poses import cacheable, open_estimation, read_frames, settings_key
from hiitpi.engine.tracks import TrackError, TrackFrame, TrackWriter, cache_path, read_track
from hiitpi.errors import ConfigError
from hiitpi.referee import RefereePipeline, load_exercise

Progress = Callable[[int, int], None]
Pairs = Generator[tuple[Frame | None, TrackFrame], None, None]


@dataclass
class AnalysisReport:
    video: str
    exercise: str
    backend: str
    frames: int = 0
    duration_s: float = 0.0
    elapsed_s: float = 0.0
    cached: bool = False
    frames_without_pose: int = 0
    events: list[RepEvent] = field(default_factory=list)
    final: WorkoutState | None = None
    event_views: list[str | None] = field(default_factory=list)  # the view at each event
    view_frames: Counter[str] = field(default_factory=Counter)  # frames seen from each view
    exercise_id: str = ""  # the definition's id (``exercise`` may be a file path)
    expected_frames: int = 0  # the frames the container says the video has (0: unknown)
    fps: float = 0.0

    @property
    def warning(self) -> str:
        """What the numbers do not say: decoding stopped well before the container's end (a
        cut or damaged file, whose reps after that point are not counted)."""
        missing = self.expected_frames - self.frames
        if self.fps <= 0 or missing <= max(self.fps, 0.05 * self.expected_frames):
            return ""
        return (
            f"decoding stopped at {self.duration_s:.1f} s of "
            f"{self.expected_frames / self.fps:.1f} s ({self.frames} of "
            f"{self.expected_frames} frames): the file may be cut short or damaged, and "
            "nothing after that point is counted"
        )

    def view_summary(self) -> dict[str, Any]:
        """The clip's view (the one it was seen from longest) and each view's share of time."""
        total = sum(self.view_frames.values())
        if not total:
            return {"view": None, "view_share": {}}
        share = {v: round(n / total, 3) for v, n in self.view_frames.most_common()}
        return {"view": next(iter(share)), "view_share": share}

    @property
    def reps(self) -> int:
        return sum(1 for e in self.events if e.kind is EventKind.REP)

    @property
    def no_reps(self) -> int:
        return sum(1 for e in self.events if e.kind is EventKind.NO_REP)

    def to_json(self) -> dict[str, Any]:
        return {
            "video": self.video,
            "exercise": self.exercise_id or self.exercise,
            "reps": self.reps,
            "no_reps": self.no_reps,
            "rep_times": [round(e.t, 3) for e in self.events if e.kind is EventKind.REP],
            **self.view_summary(),
            "rep_details": [
                {"t": round(e.t, 3), "view": v, "form_judged": e.form_judged}
                for e, v in zip(self.events, self.event_views, strict=True)
                if e.kind is EventKind.REP
            ],
            "no_rep_reasons": [
                {"t": round(e.t, 3), "code": e.reason_code, "reason": e.reason, "view": v}
                for e, v in zip(self.events, self.event_views, strict=True)
                if e.kind is EventKind.NO_REP
            ],
            "message": self.final.message if self.final else "",
            "pace": round(self.final.pace, 2) if self.final else 0.0,
            "hold_s": round(self.final.hold_s, 2) if self.final else 0.0,
            "duration_s": round(self.duration_s, 3),
            "frames": self.frames,
            "frames_without_pose": self.frames_without_pose,
            "fps_processed": round(self.frames / self.elapsed_s, 1) if self.elapsed_s > 0 else 0.0,
            "backend": self.backend,
            "pose_cache": self.cached,
            "expected_frames": self.expected_frames,
            "warning": self.warning,
        }


def referee_over(
    frames: Iterable[TrackFrame], report: AnalysisReport, referee: RefereePipeline
) -> Iterator[tuple[TrackFrame, WorkoutState]]:
    """Feed track frames to the referee, filling ``report``; yields each frame with its state
    (and the frame carrying the view the referee saw it from)."""
    for tf in frames:
        state, events = referee.update(tf.pose, tf.t)
        report.events.extend(events)
        report.event_views.extend(state.view for _ in events)
        if tf.pose is not None and state.view is not None:
            report.view_frames[state.view] += 1
            tf = replace(tf, view=state.view)
        report.frames += 1
        report.frames_without_pose += tf.pose is None
        report.duration_s = tf.t
        report.final = state
        yield tf, state


def _frames_and_poses(
    video: str,
    settings: Settings,
    use_cache: bool,
    need_images: bool,
    progress: Progress | None,
    stack: ExitStack,
    complete: Callable[[], bool],
) -> tuple[Pairs, Callable[[], str], bool, float, int]:
    """(frame, track frame) pairs from the cache or the model; images only when needed; the
    backend's name, whether the track is cached, the fps and the container's frame count.

    Everything opened here (source and decoder, model, cache file) is closed by ``stack``; the
    cache file is kept only if ``complete()`` is true by then. The backend's name is a
    callable: ``auto`` knows what it chose only after its probe.
    """
    # cameras and streams are never cached, nor tracks of a machine-dependent backend choice
    use_cache = use_cache and Path(video).is_file() and cacheable(settings.pose)
    cached = (
        cache_path(settings.cache_dir, video, settings_key(settings.pose)) if use_cache else None
    )
    if cached is None or not cached.is_file():
        run = open_estimation(video, settings.pose, cached, stack, complete)
        estimated = _with_progress(run.pairs, run.total, progress)
        return estimated, run.backend, False, run.fps, run.total
    # opens the source: a bad video fails here
    frames, total, fps = read_frames(video)
    stack.callback(frames.close)
    track = read_track(cached)
    if need_images:
        pairs: Iterator[tuple[Frame | None, TrackFrame]] = zip(frames, track, strict=False)
    else:
        frames.close()
        pairs = ((None, tf) for tf in track)
    name = _backend_of(settings)
    return _with_progress(pairs, total, progress), lambda: name, True, fps, total


def _backend_of(settings: Settings) -> str:
    labels = {0: "lite", 1: "full", 2: "heavy"}
    if settings.pose.backend in ("mediapipe", "blazepose"):
        return f"{settings.pose.backend}-{labels[settings.pose.model_complexity]}"
    return settings.pose.backend


def _with_progress(
    pairs: Iterator[tuple[Frame | None, TrackFrame]], total: int, progress: Progress | None
) -> Pairs:
    for n, pair in enumerate(pairs, 1):
        if progress is not None:
            progress(n, total)
        yield pair


def analyze_video(
    video: str | Path,
    exercise: str,
    settings: Settings,
    *,
    annotated: Path | None = None,
    track_out: Path | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> AnalysisReport:
    """Run source -> pose -> referee over a whole file; optionally write video and track."""
    from hiitpi.render.annotate import annotate
    from hiitpi.render.video import BackgroundVideoWriter, VideoWriter

    definition = load_exercise(exercise, settings.user_exercises_dir)  # fails before decoding
    referee = RefereePipeline(definition, settings.referee)
    _refuse_overwriting(video, {"annotated video": annotated, "pose track": track_out})
    video = str(video)
    t0 = time.perf_counter()
    ok = [False]  # every output is kept only once the whole video is through
    # Every close runs, in reverse order of opening, even when one of them fails or Ctrl-C
    # arrives during another; partial outputs are removed.
    with ExitStack() as stack:
        pairs, backend_name, cached, fps, total = _frames_and_poses(
            video, settings, use_cache, annotated is not None, progress, stack, lambda: ok[0]
        )
        report = AnalysisReport(
            video, exercise, backend_name(), cached=cached, exercise_id=definition.id,
            expected_frames=total, fps=fps,
        )  # fmt: skip
        images: list[Frame | None] = []

        def track_frames() -> Iterator[TrackFrame]:
            for frame, tf in pairs:
                images.append(frame)
                yield tf

        vw: BackgroundVideoWriter | None = None
        if annotated is not None:
            vw = BackgroundVideoWriter(VideoWriter(annotated, fps))
            stack.callback(lambda: None if ok[0] else vw.close(ok=False))
        writer = TrackWriter(track_out) if track_out is not None else None
        if writer is not None:
            stack.callback(lambda: writer.close(ok=ok[0]))
        for tf, state in referee_over(track_frames(), report, referee):
            frame = images.pop()
            if writer is not None:
                writer.write(tf)
            if vw is not None and frame is not None:  # drawn and encoded on the writer's thread
                floor = settings.referee.confidence_floor
                vw.submit(partial(annotate, frame.image, tf.pose, state, floor))
        if vw is not None:
            vw.close()  # waits for the writer's thread; raises what failed there
        ok[0] = True
    report.elapsed_s = time.perf_counter() - t0
    report.backend = backend_name()
    return report


def _refuse_overwriting(video: str | Path, outputs: dict[str, Path | None]) -> None:
    """ConfigError when an output is the input video (writing it would destroy the video
    while it is read) or two outputs are one file."""
    seen: dict[Path, str] = {Path(video).expanduser().resolve(): "input video"}
    for what, out in outputs.items():
        if out is None:
            continue
        path = Path(out).expanduser().resolve()
        if path in seen:
            raise ConfigError(
                f"the {what} {out} is the {seen[path]}: writing it would destroy it; "
                "name another file"
            )
        seen[path] = what


def replay_track(track: str | Path, exercise: str, settings: Settings) -> AnalysisReport:
    """Count from a recorded pose track without running any model."""
    definition = load_exercise(exercise, settings.user_exercises_dir)
    referee = RefereePipeline(definition, settings.referee)
    report = AnalysisReport(str(track), exercise, "track", exercise_id=definition.id)
    t0 = time.perf_counter()
    for _ in referee_over(read_track(track), report, referee):
        pass
    if report.frames == 0:
        raise TrackError(f"{track}: the track has no frames")
    report.elapsed_s = time.perf_counter() - t0
    return report
