"""The human-readable table of ``hiitpi bench`` (the same figures as ``--json``)."""

from __future__ import annotations

from typing import Any

_STAGES = ("decode", "wait", "pose", "referee", "draw", "encode", "publish")


def _p(s: dict[str, Any] | None, keys: tuple[str, ...] = ("median", "p90")) -> str:
    if not s or not s.get("n"):
        return "-"
    return " / ".join(f"{s[k]:.1f}" for k in keys)


def _f(v: dict[str, Any], key: str, digits: int) -> str:
    return f"{v[key]:.{digits}f}" if key in v else "-"


def _lives(r: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(k, v) for k, v in r.items() if k.startswith("live") and isinstance(v, dict)]


def render(r: dict[str, Any]) -> str:
    lines: list[str] = []
    m = r["machine"]
    lines.append(
        f"HIIT PI bench: {m['cpu_model']} ({_cpu_detail(m)}), {m['cpus']} CPUs, "
        f"load {m['loadavg_at_start']}; "
        f"{r.get('backend', r['pose']['backend'])}, {r['clip']} ({r.get('resolution', '?')}), "
        f"{r['exercise']}"
    )
    if r.get("backend_reason"):
        lines.append(f"backend: {r['backend_reason']}")
    if "bare_model" in r:
        b = r["bare_model"]
        lines.append(
            f"bare model CPU {b['cpu_ms_per_frame']:.1f} ms per frame ({b['wall_ms_per_frame']:.1f}"
            f" ms wall) over {b['frames']} frames in memory"
        )
    if "bare_model_paced" in r:
        b = r["bare_model_paced"]
        lines.append(
            f"  paced at {b['fps']:g} fps (the live run's rate) {b['cpu_ms_per_frame']:.1f} ms "
            "per frame: the cpu ratio's denominator"
        )
    if "ceiling_ms" in r:
        st = r["stage_pass"]["stages_ms"]["pose"]
        lines += [
            "",
            f"ceiling (bare pose inference)  median {st['median']:.1f} ms, p90 {st['p90']:.1f}, "
            f"p99 {st['p99']:.1f}, mean {st['mean']:.1f}  -> {r['ceiling_fps']:.1f} frames/s",
            f"offline pipeline               {r['offline_fps']:.1f} frames/s = "
            f"{r['offline_ratio']:.2f} x ceiling ({r['offline_ratio_vs_median']:.2f} x "
            f"1000/median); {r['offline']['frames']} frames in "
            f"{r['offline']['elapsed_s']:.1f} s, model load included",
            f"  share of the offline pass's own time spent in the model: "
            f"{r['offline_pose_share']:.2f}  (load-drift-proof)",
        ]
        if "default_backend" in r:
            d = r["default_backend"]
            lines.append(
                f"default backend {d['backend']:15}median {d['ceiling_ms']:.1f} ms, p90 "
                f"{d['ceiling_p90_ms']:.1f}  -> this backend is {r['speed_vs_default']:.2f} x "
                "its speed"
            )
    lives = _lives(r)
    heads = ["offline pass"] + [f"live, {v['viewers']} viewer(s)" for _, v in lives]
    lines += ["", f"{'stage, ms (median / p90)':28}" + "".join(f"{h:>22}" for h in heads)]
    for stage in _STAGES:
        cells = [_p(r.get("stage_pass", {}).get("stages_ms", {}).get(stage))]
        cells += [_p(v["stages_ms"].get(stage)) for _, v in lives]
        lines.append(f"{stage:28}" + "".join(f"{c:>22}" for c in cells))
    if lives:
        lines += [
            "",
            f"{'live, paced at the clip rate':34}" + "".join(f"{h:>22}" for h in heads[1:]),
        ]
        rows: list[tuple[str, Any]] = [
            ("delivered fps (engine)", lambda v: f"{v['delivered_fps']:.2f}"),
            (
                "frames / captured / dropped",
                lambda v: f"{v['frames']}/{v['captured_frames']}/{v['dropped_frames']}",
            ),
            (
                "capture->count ms med/p90/p99",
                lambda v: _p(v["latency_to_count_ms"], ("median", "p90", "p99")),
            ),
            (
                "capture->JPEG ms med/p90/p99",
                lambda v: _p(v["latency_to_jpeg_ms"], ("median", "p90", "p99")),
            ),
            ("store->viewer ms med/p90", lambda v: _p(v["store_to_viewer_ms"])),
            ("viewer fps (min)", lambda v: f"{min(v['viewer_fps'], default=0):.2f}"),
            ("CPU % of all cores, whole app", lambda v: f"{v['cpu_pct']:.1f}"),
            ("  x the bare model's CPU", lambda v: _f(v, "cpu_vs_bare_model", 2)),
            ("  x it back to back", lambda v: _f(v, "cpu_vs_bare_back_to_back", 2)),
            ("fps ratio (>= 0.95)", lambda v: _f(v, "fps_ratio", 3)),
            ("latency excess ms (<= 0)", lambda v: _f(v, "latency_excess_ms", 1)),
            ("cpu ratio (<= 1.15 / <= 1.05)", lambda v: _f(v, "cpu_ratio", 3)),
            ("peak RSS MB (app + redis)", lambda v: f"{v['peak_rss_mb']:.0f}"),
            ("start-up to 1st frame s", lambda v: f"{v['startup_s']:.2f}"),
        ]
        for label, cell in rows:
            lines.append(f"{label:34}" + "".join(f"{cell(v):>22}" for _, v in lives))
        for _, v in lives:
            parts = ", ".join(f"{k} {p:.1f}" for k, p in v["cpu_pct_by_part"].items())
            lines.append(f"  CPU by part, {v['viewers']} viewer(s): {parts}")
    if r.get("targets"):
        lines += ["", "targets (this machine, measured side by side in this run)"]
        for name, t in r["targets"].items():
            mark = "met   " if t["met"] else "MISSED"
            lines.append(f"  [{mark}] {name:48} value {t['value']}  limit {t['limit']}")
    return "\n".join(lines) + "\n"


def _cpu_detail(m: dict[str, Any]) -> str:
    parts = []
    if m.get("cpu_family_model"):
        parts.append(f"family/model {m['cpu_family_model']}")
    parts.append("+".join(m.get("simd") or []) or "no avx2/neon")
    return ", ".join(parts)
