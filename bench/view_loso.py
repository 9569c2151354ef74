"""Leave-one-source-out check of the camera-view boundaries (referee/view.py).

The boundaries (front up to FRONT_MAX_DEG of turn, side from SIDE_MIN_DEG) were chosen looking
at the development clips. Here, for each source (the name between the first ``__`` of a clip's
file name), the best pair on a small grid is chosen on the *other* sources' clips and scored on
the held-out source's clips; the held-out results are pooled. Reads the cached pose tracks.

    PYTHONPATH=src .venv/bin/python bench/view_loso.py [../shared/data/clips.csv]
"""

from __future__ import annotations

import csv
import itertools
import sys
from collections import defaultdict
from pathlib import Path

from hiitpi.config import load_config
from hiitpi.engine.poses import track_for
from hiitpi.referee import load_exercise, view
from hiitpi.views_eval import Scored, parse_view_label, score_clip

FRONT = (20.0, 25.0, 30.0)
SIDE = (45.0, 50.0, 55.0, 60.0)


def main(manifest: Path) -> None:
    settings = load_config()
    rows = list(csv.DictReader(manifest.open(newline="", encoding="utf-8")))
    clips = []
    for row in rows:
        label = parse_view_label(row["view"])
        if label is None:
            continue
        frames = track_for(
            manifest.with_suffix("") / row["file"], settings.pose, settings.cache_dir
        )
        lying = load_exercise(row["exercise"]).views.lying
        clips.append((row["file"].split("__")[1], row["file"], label, frames, lying))
    # every clip scored under every pair of boundaries, once
    scored: dict[tuple[float, float], dict[str, list[Scored]]] = defaultdict(dict)
    for front, side in itertools.product(FRONT, SIDE):
        view.FRONT_MAX_DEG, view.SIDE_MIN_DEG = front, side
        for _, file, label, frames, lying in clips:
            scored[(front, side)][file] = score_clip(file, label, frames, lying)
    sources = sorted({c[0] for c in clips})
    held: list[Scored] = []
    chosen: dict[tuple[float, float], int] = defaultdict(int)
    for source in sources:
        train = [c[1] for c in clips if c[0] != source]
        test = [c[1] for c in clips if c[0] == source]

        def exact(pair: tuple[float, float], files: list[str]) -> float:
            segs = [s for f in files for s in scored[pair][f]]
            return sum(s.exact for s in segs) / len(segs)

        # ties go to the pair nearest the shipped one, so the choice does not drift for nothing
        best = max(scored, key=lambda p: (exact(p, train), -abs(p[0] - 25) - abs(p[1] - 50)))
        chosen[best] += 1
        held.extend(s for f in test for s in scored[best][f])
    n = len(held)
    print(f"{len(sources)} sources, {n} clips/segments held out one source at a time")
    held_exact = sum(s.exact for s in held) / n
    print(f"  exact {held_exact:.3f}, neighbour {sum(s.adjacent for s in held) / n:.3f}")
    print("  boundaries chosen (front max, side min): ", dict(chosen))
    for pair in sorted(scored):
        every = [s for f in (c[1] for c in clips) for s in scored[pair][f]]
        print(f"  {pair[0]:.0f}/{pair[1]:.0f} on all: exact {sum(s.exact for s in every) / n:.3f}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/clips.csv"))
