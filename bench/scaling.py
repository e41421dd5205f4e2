"""The scaling table: step time over batch sizes 25..1600 and hidden widths 8..64, and a fit.

Workload: moons, MLP(2, [w, w, 1]), hinge + L2, SGD (lr 0.1), weights scaled by 1/sqrt(fan_in).
The contenders run in their own processes with rotating turns, as in the suite; each cell sets
up a fresh model in the same processes. The fit, by least squares: for each contender and batch
size, (its step time - the numpy floor's) = a + b * parameters over the widths; per sample,
step time = a + b * samples * parameters over every cell.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import workloads

CONTENDERS = [
    "micrograd per-sample",
    "micrograd batched",
    "torch f64 optim",
    "torch f64 lean",
    "numpy",
]
SAMPLES = (25, 100, 400, 1600)
WIDTHS = (8, 16, 32, 64)
STEPS, PER_SAMPLE_STEPS = 20, 5
FITTED = ["micrograd batched", "torch f64 optim", "torch f64 lean"]


def workload(n: int, width: int) -> dict[str, Any]:
    return {
        **workloads.DEMO,
        **workloads.WIDE,
        "data": ("moons", {"n_samples": n, "noise": 0.1}),
        "sizes": [2, width, width, 1],
    }


def run(
    quick: bool,
    block: int,
    seed: int,
    names: list[str],
    start: Callable[..., Any],
    race: Callable[..., Any],
) -> dict[str, Any]:
    grid = [(25, 8)] if quick else [(n, w) for n in SAMPLES for w in WIDTHS]
    steps, per_sample = (2, 1) if quick else (STEPS, PER_SAMPLE_STEPS)
    workers = start(names, Path("unused: no original here"))
    rows = []
    try:
        for n, width in grid:
            wl = workload(n, width)
            line = json.dumps(workloads.setup(wl, steps, seed))
            for w in workers:
                w.ask(line)
            limits = {w.name: per_sample if "per-sample" in w.name else steps for w in workers}
            times = race(workers, limits, block)
            row: dict[str, Any] = {
                "samples": n,
                "width": width,
                "parameters": workloads.parameter_count(wl["sizes"]),
            }
            for name, v in times.items():
                row[name] = statistics.median(s["ms"] for s in v)
            rows.append(row)
            print(
                f"  batch {n:>5}, width {width:>3}: "
                + ", ".join(f"{k} {row[k]:.3f}" for k in times),
                flush=True,
            )
    finally:
        for w in workers:
            w.close()
    return {"rows": rows, "fits": fits(rows)}


def _line(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least-squares intercept, slope and R^2 of ys against xs."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return my, 0.0, 0.0
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    a = my - slope * mx
    ss = sum((y - my) ** 2 for y in ys)
    res = sum((y - a - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    return a, slope, 1 - res / ss if ss else 1.0


def fits(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, float]]]:
    """Per batch size, over the widths: (contender - numpy) = a + b * parameters; and per
    sample over every cell: step time = a + b * samples * parameters."""
    out: dict[str, list[dict[str, float]]] = {}
    if not rows:
        return out
    for name in FITTED:
        if name not in rows[0] or "numpy" not in rows[0]:
            continue
        out[name] = []
        for n in sorted({r["samples"] for r in rows}):
            cell = [r for r in rows if r["samples"] == n]
            a, b, r2 = _line([r["parameters"] for r in cell], [r[name] - r["numpy"] for r in cell])
            out[name].append(
                {"samples": n, "over_numpy_us": a * 1e3, "us_per_parameter": b * 1e3, "r2": r2}
            )
    if "micrograd per-sample" in rows[0]:
        a, b, r2 = _line(
            [r["samples"] * r["parameters"] for r in rows],
            [r["micrograd per-sample"] for r in rows],
        )
        out["micrograd per-sample"] = [
            {"fixed_us": a * 1e3, "ns_per_sample_parameter": b * 1e6, "r2": r2}
        ]
    return out


def _cells(scale: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    rows = scale["rows"]
    names = [n for n in CONTENDERS if rows and n in rows[0]]
    headers = ["samples", "width", "params"] + [f"{n} ms" for n in names]
    if "micrograd batched" in names and "torch f64 optim" in names:
        headers.append("batched / torch f64")
    body = []
    for r in rows:
        line = [str(r["samples"]), str(r["width"]), str(r["parameters"])]
        line += [f"{r[n]:.3f}" for n in names]
        if "micrograd batched" in names and "torch f64 optim" in names:
            line.append(f"{r['micrograd batched'] / r['torch f64 optim']:.2f}")
        body.append(line)
    return headers, body


def text_table(scale: dict[str, Any]) -> str:
    from report import text

    return text(*_cells(scale))


def markdown_table(scale: dict[str, Any]) -> str:
    from report import markdown

    return markdown(*_cells(scale))


def fit_text(scale: dict[str, Any]) -> str:
    lines = []
    for name, found in scale["fits"].items():
        for f in found:
            if "us_per_parameter" in f:
                lines.append(
                    f"{name}, batch {f['samples']}: step = numpy floor + "
                    f"{f['over_numpy_us']:.0f} us + {f['us_per_parameter']:.3f} us per parameter "
                    f"(R^2 {f['r2']:.2f})"
                )
            else:
                lines.append(
                    f"{name}: step = {f['fixed_us']:.0f} us + "
                    f"{f['ns_per_sample_parameter']:.0f} ns per sample x parameter "
                    f"(R^2 {f['r2']:.2f})"
                )
    return "\n".join(lines)
