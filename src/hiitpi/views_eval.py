"""How well the camera's view is estimated: ``hiitpi views MANIFEST.csv``.

The manifest's ``view`` column is hand-written text ("3/4 front", "side, portrait 1080x1920",
"front -> 3/4 -> side (edited cuts at ~8.6 s and ~15.0 s)"). :func:`parse_view_label` reads it
as one view, or a sequence of views with the times they change when the text gives them. Each
clip (or each segment of a clip whose view changes) is scored by the view the estimator
published for most of it, from the same cached pose tracks ``hiitpi eval`` uses; the first
seconds after a change are left out while the estimate settles.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hiitpi.config import Settings
from hiitpi.engine.poses import track_for
from hiitpi.engine.tracks import TrackFrame
from hiitpi.errors import ConfigError
from hiitpi.referee import load_exercise
from hiitpi.referee.view import View, ViewEstimator

SETTLE_S = 1.5  # after a change of view, the estimator's hold time and smoothing
NEIGHBOURS = {
    (View.FRONT, View.THREE_QUARTER),
    (View.THREE_QUARTER, View.SIDE),
}
_TIME = re.compile(r"~\s*(\d+(?:\.\d+)?)")


def _one_view(text: str) -> View | None:
    t = text.lower()
    if "overhead" in t or "top-down" in t:
        return View.OVERHEAD
    if "3/4" in t or "three-quarter" in t or "three quarter" in t:
        return View.THREE_QUARTER
    found = [(t.find(word), view) for word, view in (("side", View.SIDE), ("front", View.FRONT))]
    found = [(i, v) for i, v in found if i >= 0]
    return min(found)[1] if found else None


def parse_view_label(text: str) -> list[tuple[float, View]] | None:
    """``[(from_s, view), ...]``; ``None`` when the text names no view, or names several
    without the times they change."""
    views: list[View] = []
    for part in (p for p in text.split("->") if p.strip()):
        view = _one_view(part)
        if view is None:
            return None
        views.append(view)
    if len(views) <= 1:
        return [(0.0, views[0])] if views else None
    times = [float(x) for x in _TIME.findall(text)]
    if len(times) != len(views) - 1:
        return None
    return list(zip([0.0, *times], views, strict=True))


@dataclass(frozen=True, slots=True)
class Scored:
    clip: str
    start: float
    truth: View
    estimate: View | None
    share: float  # of the segment's frames with a published view, the estimate's share

    @property
    def exact(self) -> bool:
        return self.estimate is self.truth

    @property
    def adjacent(self) -> bool:
        pair = (self.truth, self.estimate)
        return self.exact or pair in NEIGHBOURS or pair[::-1] in NEIGHBOURS


def score_clip(
    clip: str, label: list[tuple[float, View]], frames: Sequence[TrackFrame], lying: bool
) -> list[Scored]:
    """One row per segment of ``label``: the view the estimator published for most of it."""
    estimator = ViewEstimator(lying=lying)
    published = [(tf.t, estimator.update(tf.pose, tf.t).view) for tf in frames]
    rows = []
    for i, (start, truth) in enumerate(label):
        end = label[i + 1][0] if i + 1 < len(label) else float("inf")
        settle = start + SETTLE_S if i > 0 else start
        seen = Counter(v for t, v in published if settle <= t < end and v is not None)
        if not seen:
            rows.append(Scored(clip, start, truth, None, 0.0))
            continue
        view, n = seen.most_common(1)[0]
        rows.append(Scored(clip, start, truth, view, round(n / sum(seen.values()), 3)))
    return rows


def evaluate(manifest: Path, clips_dir: Path, settings: Settings) -> tuple[list[Scored], list[str]]:
    """Score every clip with a readable ``view``; also the clips left out (and why)."""
    try:
        with manifest.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise ConfigError(f"manifest {manifest}: cannot be read: {exc}") from None
    if rows and "view" not in rows[0]:
        raise ConfigError(f"manifest {manifest}: no 'view' column")
    scored: list[Scored] = []
    skipped: list[str] = []
    for row in rows:
        label = parse_view_label(row["view"])
        if label is None:
            skipped.append(f"{row['file']}: view {row['view']!r} not readable")
            continue
        lying = load_exercise(row["exercise"], settings.user_exercises_dir).views.lying
        frames = track_for(clips_dir / row["file"], settings.pose, settings.cache_dir)
        scored.extend(score_clip(row["file"], label, frames, lying))
    return scored, skipped


def confusion(scored: Sequence[Scored]) -> dict[str, dict[str, int]]:
    """``{truth: {estimate: n}}`` (estimate ``none`` when no view was ever published)."""
    out: dict[str, dict[str, int]] = {v.value: {} for v in View}
    for s in scored:
        est = s.estimate.value if s.estimate is not None else "none"
        row = out[s.truth.value]
        row[est] = row.get(est, 0) + 1
    return out


def summary(scored: Sequence[Scored]) -> dict[str, Any]:
    n = len(scored)
    return {
        "n": n,
        "exact": round(sum(s.exact for s in scored) / n, 3) if n else 0.0,
        "adjacent": round(sum(s.adjacent for s in scored) / n, 3) if n else 0.0,
        "confusion": confusion(scored),
    }


def table(scored: Sequence[Scored]) -> str:
    """The confusion table as Markdown: rows the hand-written view, columns the estimate."""
    cols = [v.value for v in View] + ["none"]
    lines = ["| hand-written \\ estimated | " + " | ".join(cols) + " |"]
    lines.append("|---|" + "---|" * len(cols))
    for truth, row in confusion(scored).items():
        lines.append(f"| {truth} | " + " | ".join(str(row.get(c, 0)) for c in cols) + " |")
    return "\n".join(lines)


def add_views_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("manifest", type=Path, help="clips manifest with a 'view' column")
    p.add_argument("--clips-dir", type=Path, help="folder of the clips (default: beside it)")
    p.add_argument("--json", action="store_true", help="print JSON")


def run_views_command(args: argparse.Namespace, settings: Settings) -> int:
    clips_dir = args.clips_dir or args.manifest.with_suffix("")
    scored, skipped = evaluate(args.manifest, clips_dir, settings)
    if args.json:
        rows = [
            {
                "clip": s.clip,
                "from_s": s.start,
                "truth": s.truth.value,
                "estimate": None if s.estimate is None else s.estimate.value,
                "share": s.share,
            }
            for s in scored
        ]
        print(json.dumps({**summary(scored), "clips": rows, "skipped": skipped}, indent=2))
        return 0
    for s in scored:
        mark = "" if s.exact else ("  (neighbour)" if s.adjacent else "  WRONG")
        est = s.estimate.value if s.estimate is not None else "-"
        print(f"{s.clip:38} {s.start:5.1f} s  {s.truth.value:14} {est:14} {s.share:4.0%}{mark}")
    figures = summary(scored)
    print(f"\n{figures['n']} clips/segments: exact {figures['exact']:.2f}, ", end="")
    print(f"exact or a neighbouring view {figures['adjacent']:.2f}\n")
    print(table(scored))
    for line in skipped:
        print(f"skipped {line}")
    return 0
