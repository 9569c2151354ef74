"""Per-frame timings of the live engine and the rolling per-stage budget (Status page, bench)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median


@dataclass(frozen=True, slots=True)
class FrameTiming:
    """One frame's trip through the engine, in ms; ``None`` for what did not happen.

    ``wait`` is the engine idle before the frame arrived (the slack); ``publish`` every write
    to the live store (state, events, metric and, when rendered, the JPEG). Latencies start at
    ``Frame.captured``: ``to_count`` ends once the state with this frame's count is published,
    ``to_jpeg`` once its JPEG is in the store.
    """

    index: int
    wait: float
    pose: float
    referee: float
    publish: float
    draw: float | None = None
    encode: float | None = None
    to_count: float | None = None
    to_jpeg: float | None = None


def budget(timings: Sequence[FrameTiming]) -> tuple[dict[str, float], dict[str, float]]:
    """Medians over ``timings``: (stages, latencies), keys without any value left out."""
    stages: dict[str, float] = {}
    latency: dict[str, float] = {}
    for name in ("wait", "pose", "referee", "publish", "draw", "encode"):
        values = [v for t in timings if (v := getattr(t, name)) is not None]
        if values:
            stages[name] = round(median(values), 2)
    for name in ("to_count", "to_jpeg"):
        values = [v for t in timings if (v := getattr(t, name)) is not None]
        if values:
            latency[name] = round(median(values), 2)
    return stages, latency
