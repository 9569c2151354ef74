"""The accuracy harness behind ``hiitpi eval MANIFEST.csv``.

Counts every clip of a manifest (``file, exercise, reps, partial, confidence, ...``, the
../shared/data/clips.csv format) from its cached pose track, scores each count against the
interval ``[reps, reps + partial]`` and summarises per exercise and overall: exact rate, OBO
rate (``|error| <= 1``) and MAE normalised by the true count (``|error| / max(reps, 1)``, as
the RepCount / PoseRAC papers define it). ``--baseline`` adds the original HIIT PI rules and a
single-angle up/down counter, run on the very same tracks. ``--fps N`` first subsamples each
track in time as a slower pipeline would see it; ``--cv source`` adds leave-one-source-out
figures. ``--jobs N`` computes the tracks
that are not cached yet in N worker processes, one clip each (both cores of a Pi-class machine).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import multiprocessing
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from hiitpi.config import RefereeConfig, Settings
from hiitpi.core.events import EventKind
from hiitpi.engine.poses import settings_key, track_for
from hiitpi.engine.tracks import TrackFrame, cache_path
from hiitpi.errors import ConfigError, SourceError
from hiitpi.logs import setup_logging
from hiitpi.referee import RefereePipeline, load_exercise
from hiitpi.referee.baselines import OriginalCounter, SingleAngleCounter
from hiitpi.referee.catalog import is_path

log = logging.getLogger(__name__)

COUNTERS = ("referee", "original", "single_angle")
_REQUIRED_COLUMNS = ("file", "exercise", "reps", "partial")


@dataclass(frozen=True, slots=True)
class ClipSpec:
    file: str
    exercise: str
    reps: int
    partial: int
    confidence: str = ""


@dataclass(frozen=True, slots=True)
class ClipResult:
    spec: ClipSpec
    count: int
    no_reps: int
    baselines: dict[str, int | None] = field(default_factory=dict)

    @property
    def error(self) -> int:
        return interval_error(self.count, self.spec.reps, self.spec.partial)


def interval_error(count: int, reps: int, partial: int) -> int:
    """Signed distance of ``count`` from ``[reps, reps + partial]`` (0 inside it)."""
    if count < reps:
        return count - reps
    if count > reps + partial:
        return count - (reps + partial)
    return 0


def read_manifest(path: Path) -> list[ClipSpec]:
    """Parse a clips manifest; errors name the file, line and column."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
            columns = rows[0].keys() if rows else ()
    except OSError as exc:
        raise ConfigError(f"manifest {path}: cannot be read: {exc}") from None
    missing = [c for c in _REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ConfigError(f"manifest {path}: missing column(s) {', '.join(missing)}")
    specs = []
    for line, row in enumerate(rows, 2):
        try:
            reps, partial = int(row["reps"]), int(row["partial"] or 0)
        except ValueError:
            raise ConfigError(f"manifest {path}:{line}: reps/partial must be integers") from None
        if reps < 0 or partial < 0:
            raise ConfigError(f"manifest {path}:{line}: reps/partial must be >= 0")
        exercise = row["exercise"]
        if is_path(exercise) and not Path(exercise).expanduser().is_absolute():
            exercise = str(path.parent / exercise)  # a user's file, beside the manifest
        specs.append(ClipSpec(row["file"], exercise, reps, partial, row.get("confidence") or ""))
    return specs


def subsample(frames: Sequence[TrackFrame], fps: float | None) -> list[TrackFrame]:
    """The frames a ``fps`` pipeline would see: every frame whose timestamp crosses the next
    ``1/fps`` grid point (all frames when ``fps`` is None or above the track's own rate)."""
    if fps is None:
        return list(frames)
    if fps <= 0:
        raise ConfigError(f"--fps must be > 0, got {fps}")
    step = 1.0 / fps
    out: list[TrackFrame] = []
    next_t: float | None = None
    for frame in frames:
        if next_t is None or frame.t >= next_t - 1e-6:
            out.append(frame)
            next_t = (frame.t if next_t is None else next_t) + step
            while next_t <= frame.t + 1e-6:
                next_t += step
    return out


def count_clip(
    spec: ClipSpec,
    frames: Sequence[TrackFrame],
    config: RefereeConfig,
    baseline: bool,
    fps: float | None = None,
) -> ClipResult:
    """Run the referee (and optionally the baselines) over one clip's track (at ``fps``)."""
    frames = subsample(frames, fps)
    referee = RefereePipeline(load_exercise(spec.exercise), config)
    original = OriginalCounter(spec.exercise)
    single = SingleAngleCounter(spec.exercise)
    for frame in frames:
        referee.update(frame.pose, frame.t)
        if baseline:
            original.update(frame.pose)
            single.update(frame.pose)
    events = referee.events
    reps = sum(1 for e in events if e.kind == EventKind.REP)
    base: dict[str, int | None] = {}
    if baseline:
        base["original"] = original.reps if original.supported else None
        base["single_angle"] = single.reps if single.supported else None
    return ClipResult(spec, reps, len(events) - reps, base)


def summarise(pairs: Iterable[tuple[ClipSpec, int]]) -> dict[str, float | int]:
    """``{"n", "exact", "obo", "mae"}`` over (clip, count) pairs."""
    errors = [(interval_error(c, s.reps, s.partial), s.reps) for s, c in pairs]
    n = len(errors)
    if n == 0:
        return {"n": 0, "exact": 0.0, "obo": 0.0, "mae": 0.0}
    return {
        "n": n,
        "exact": round(sum(e == 0 for e, _ in errors) / n, 4),
        "obo": round(sum(abs(e) <= 1 for e, _ in errors) / n, 4),
        "mae": round(sum(abs(e) / max(r, 1) for e, r in errors) / n, 4),
    }


def _counts(results: Sequence[ClipResult], counter: str) -> list[tuple[ClipSpec, int]]:
    if counter == "referee":
        return [(r.spec, r.count) for r in results]
    return [(r.spec, c) for r in results if (c := r.baselines.get(counter)) is not None]


def report(results: Sequence[ClipResult], baseline: bool) -> dict[str, Any]:
    """The JSON report: overall, per exercise, per clip (plus baselines when run)."""
    exercises = sorted({r.spec.exercise for r in results})
    out: dict[str, Any] = {
        "overall": {
            **summarise(_counts(results, "referee")),
            "no_reps": sum(r.no_reps for r in results),
        },
        "per_exercise": {},
        "clips": [],
    }
    for ex in exercises:
        subset = [r for r in results if r.spec.exercise == ex]
        out["per_exercise"][ex] = {
            **summarise(_counts(subset, "referee")),
            "no_reps": sum(r.no_reps for r in subset),
        }
    for r in results:
        clip: dict[str, Any] = {
            "file": r.spec.file,
            "exercise": r.spec.exercise,
            "count": r.count,
            "no_reps": r.no_reps,
            "error": r.error,
        }
        if baseline:
            clip["baselines"] = dict(r.baselines)
        out["clips"].append(clip)
    if baseline:
        out["baselines"] = _baseline_report(results)
    return out


def _baseline_report(results: Sequence[ClipResult]) -> dict[str, Any]:
    """Each baseline beside the referee on the clips that baseline supports."""
    out: dict[str, Any] = {}
    for counter in COUNTERS[1:]:
        supported = [r for r in results if r.baselines.get(counter) is not None]
        out[counter] = {
            "overall": summarise(_counts(supported, counter)),
            "referee_same_clips": summarise(_counts(supported, "referee")),
        }
    return out


def _fmt(s: dict[str, Any]) -> str:
    return f"{s['exact']:6.2f} {s['obo']:6.2f} {s['mae']:6.3f}"


def print_table(rep: dict[str, Any], results: Sequence[ClipResult], out: TextIO) -> None:
    """Human-readable tables: per clip, per exercise, overall (and the baselines)."""
    baseline = "baselines" in rep
    head = f"{'clip':38} {'exercise':16} {'truth':>7} {'conf':6} {'count':>5} {'no-rep':>6} "
    head += f"{'error':>5}" + (f" {'orig':>5} {'1-angle':>7}" if baseline else "")
    print(head, file=out)
    for r in results:
        truth = f"{r.spec.reps}" + (f"-{r.spec.reps + r.spec.partial}" if r.spec.partial else "")
        line = f"{r.spec.file:38} {r.spec.exercise:16} {truth:>7} {r.spec.confidence:6} "
        line += f"{r.count:5d} {r.no_reps:6d} {r.error:+5d}"
        if baseline:
            o, s = r.baselines.get("original"), r.baselines.get("single_angle")
            line += f" {'-' if o is None else o:>5} {'-' if s is None else s:>7}"
        print(line, file=out)
    print(f"\n{'exercise':18} {'n':>3} {'exact':>6} {'obo':>6} {'mae':>6} {'no-reps':>7}", file=out)
    for ex, s in rep["per_exercise"].items():
        print(f"{ex:18} {s['n']:3d} {_fmt(s)} {s['no_reps']:7d}", file=out)
    o = rep["overall"]
    print(f"{'OVERALL':18} {o['n']:3d} {_fmt(o)} {o['no_reps']:7d}", file=out)
    if baseline:
        title = "counter (same clips)"
        print(f"\n{title:36} {'n':>3} {'exact':>6} {'obo':>6} {'mae':>6}", file=out)
        for name, b in rep["baselines"].items():
            ours, theirs = b["referee_same_clips"], b["overall"]
            print(f"{name:36} {theirs['n']:3d} {_fmt(theirs)}", file=out)
            print(f"{'  referee on the same clips':36} {ours['n']:3d} {_fmt(ours)}", file=out)


def evaluate(
    specs: Sequence[ClipSpec],
    clips_dir: Path,
    settings: Settings,
    baseline: bool = False,
    jobs: int = 1,
    fps: float | None = None,
) -> list[ClipResult]:
    """Count every clip from its (cached) pose track; ``jobs`` > 1 computes missing tracks in
    that many worker processes first (a clip per worker)."""
    for spec in specs:
        load_exercise(spec.exercise)  # fail fast on an unknown id, before any model runs
        if not (clips_dir / spec.file).is_file():
            raise SourceError(f"clip not found: {clips_dir / spec.file}")
    computed = compute_tracks(specs, clips_dir, settings, jobs) if jobs > 1 else {}
    results = []
    for i, spec in enumerate(specs, 1):
        log.info("[%d/%d] %s", i, len(specs), spec.file)
        frames = computed.get(spec.file)
        if frames is None:
            frames = track_for(clips_dir / spec.file, settings.pose, settings.cache_dir)
        results.append(count_clip(spec, frames, settings.referee, baseline, fps))
    return results


def compute_tracks(
    specs: Sequence[ClipSpec], clips_dir: Path, settings: Settings, jobs: int
) -> dict[str, list[TrackFrame]]:
    """The tracks not cached yet, computed (and cached) by ``jobs`` worker processes.

    Longest files first, so the last worker is not left alone with the biggest clip. Spawned,
    not forked: a model runtime's threads do not survive a fork.
    """
    key = settings_key(settings.pose)
    files = {s.file for s in specs}
    missing = [f for f in files if not cache_path(settings.cache_dir, clips_dir / f, key).is_file()]
    if len(missing) < 2:
        return {}
    missing.sort(key=lambda f: (clips_dir / f).stat().st_size, reverse=True)
    log.info("computing %d pose tracks in %d processes", len(missing), jobs)
    with worker_pool(min(jobs, len(missing)), settings.log_level) as pool:
        futures = {
            f: pool.submit(track_for, clips_dir / f, settings.pose, settings.cache_dir)
            for f in missing
        }
        return {f: future.result() for f, future in futures.items()}


def worker_pool(workers: int, log_level: str) -> ProcessPoolExecutor:
    """Spawned (not forked: a model runtime's threads do not survive a fork) worker processes,
    each set up like the CLI (logging, native-log and warning filters) before any work."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=setup_logging,
        initargs=(log_level,),
    )


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("manifest", type=Path, help="clips manifest CSV (../shared/data/clips.csv)")
    parser.add_argument(
        "--clips-dir",
        type=Path,
        help="folder of the videos (default: the manifest's name "
        "without .csv, e.g. data/clips.csv -> data/clips/)",
    )
    parser.add_argument("--json", action="store_true", help="print the JSON report")
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="also count with the original HIIT PI rules and a single-angle counter",
    )
    parser.add_argument(
        "--fps",
        type=float,
        metavar="N",
        help="subsample each track in time to N frames per second (a Pi's rate) first",
    )
    parser.add_argument(
        "--cv",
        choices=["source"],
        help="'source': leave-one-source-out figures (each source's clips held out in turn)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="compute missing pose tracks in N processes, a clip each (default 1)",
    )


def run_eval_command(args: argparse.Namespace, settings: Settings) -> int:
    manifest: Path = args.manifest
    clips_dir: Path = args.clips_dir or manifest.with_suffix("")
    specs = read_manifest(manifest)
    jobs = int(getattr(args, "jobs", 1) or 1)
    if jobs < 1:
        raise ConfigError(f"--jobs must be >= 1, got {jobs}")
    fps = getattr(args, "fps", None)
    if fps is not None and fps <= 0:
        raise ConfigError(f"--fps must be > 0, got {fps}")
    results = evaluate(specs, clips_dir, settings, baseline=bool(args.baseline), jobs=jobs, fps=fps)
    rep = report(results, baseline=bool(args.baseline))
    rep["fps"] = fps
    if getattr(args, "cv", None) == "source":
        rep["cv_source"] = cross_validate_sources(results)
    if args.json:
        json.dump(rep, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_table(rep, results, sys.stdout)
        if "cv_source" in rep:
            print_cv(rep["cv_source"], sys.stdout)
    return 0


def source_of(spec: ClipSpec) -> str:
    """The clip's source: the middle part of ``exercise__source__n.mp4``."""
    parts = Path(spec.file).stem.split("__")
    return parts[1] if len(parts) >= 3 else Path(spec.file).stem


def cross_validate_sources(results: Sequence[ClipResult]) -> dict[str, Any]:
    """Leave-one-source-out: each source's clips scored as the held-out fold.

    Nothing in the referee is fitted from these clips (every threshold is a nominal physical
    value in the exercise files, calibrated per person at run time), so training on the
    other sources changes nothing and each fold's figures are those of its own clips; the
    report gives them per source and their mean, the figure that would drop if a rule had
    been keyed to one source.
    """
    sources = sorted({source_of(r.spec) for r in results})
    folds = {
        src: summarise([(r.spec, r.count) for r in results if source_of(r.spec) == src])
        for src in sources
    }
    n = len(folds)
    mean = {k: round(sum(f[k] for f in folds.values()) / n, 4) for k in ("exact", "obo", "mae")}
    return {"folds": folds, "mean_over_sources": {"n": n, **mean}}


def print_cv(cv: dict[str, Any], out: TextIO) -> None:
    print(f"\n{'held-out source':18} {'n':>3} {'exact':>6} {'obo':>6} {'mae':>6}", file=out)
    for src, s in cv["folds"].items():
        print(f"{src:18} {s['n']:3d} {_fmt(s)}", file=out)
    m = cv["mean_over_sources"]
    print(f"{'MEAN (sources)':18} {m['n']:3d} {_fmt(m)}", file=out)
