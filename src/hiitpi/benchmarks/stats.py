"""Small statistics for timing samples: median and tail percentiles, rounded for reports."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def percentiles(samples: Iterable[float | None], digits: int = 2) -> dict[str, float | int]:
    """``{"n", "median", "p90", "p99", "mean", "max"}`` of the non-None samples (zeros if none)."""
    values = np.asarray([s for s in samples if s is not None], dtype=np.float64)
    if values.size == 0:
        return {"n": 0, "median": 0.0, "p90": 0.0, "p99": 0.0, "mean": 0.0, "max": 0.0}
    p50, p90, p99 = np.percentile(values, [50, 90, 99])
    return {
        "n": int(values.size),
        "median": round(float(p50), digits),
        "p90": round(float(p90), digits),
        "p99": round(float(p99), digits),
        "mean": round(float(values.mean()), digits),
        "max": round(float(values.max()), digits),
    }


def medians(rows: Iterable[dict[str, float | None]]) -> dict[str, float]:
    """Per key, the median of the non-None values over ``rows`` (keys with no value dropped)."""
    columns: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            if value is not None:
                columns.setdefault(key, []).append(value)
    return {k: round(float(np.median(v)), 3) for k, v in columns.items() if v}
