"""The suite's figures: per-contender summaries, the tables (console and Markdown), the headline.

Ratios are of median step times. Losses are compared step by step with a reference contender
(micrograd batched when it ran) over the steps both ran; float64 contenders must agree to
1e-9, float32 ones to 1e-3 (they round every operation to 24 bits).
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Any

ORIGINAL = "original"
TORCH = "torch f64 optim"
TORCH_LEAN = "torch f64 lean"
BATCHED = "micrograd batched"
PER_SAMPLE = "micrograd per-sample"
NOTEBOOK = "micrograd notebook loop"
NUMPY = "numpy"
BEGIN, END = "<!-- suite:begin -->", "<!-- suite:end -->"


def tolerance(name: str) -> float:
    return 1e-3 if "f32" in name else 1e-9


def summarise(
    steps: dict[str, list[dict[str, float]]],
    setup: dict[str, dict[str, Any]],
    memory: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    med = {n: statistics.median(s["ms"] for s in v) for n, v in steps.items()}
    ref = BATCHED if BATCHED in steps else next(n for n in steps if "f32" not in n)
    rows = []
    for name, v in steps.items():
        ms = [s["ms"] for s in v]
        diff = max(abs(a["loss"] - b["loss"]) for a, b in zip(v, steps[ref], strict=False))
        row: dict[str, Any] = {
            "contender": name,
            "steps": len(v),
            "median_ms": med[name],
            "min_ms": min(ms),
            "max_ms": max(ms),
            "first_loss": v[0]["loss"],
            "final_loss": v[-1]["loss"],
            "loss_reference": ref,
            "max_loss_diff": diff,
            "losses_agree": diff <= tolerance(name),
        }
        for key, other in (
            ("x_original", ORIGINAL),
            ("per_torch_f64_optim", TORCH),
            ("per_torch_f64_lean", TORCH_LEAN),
            ("per_numpy", NUMPY),
        ):
            if other in med:
                row[key] = med[other] / med[name] if key == "x_original" else med[name] / med[other]
        row["setup_rss_kib"] = setup[name].get("rss_kib")
        row.update(memory.get(name, {}))
        rows.append(row)
    return rows


def _num(x: Any, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


COLUMNS: list[tuple[str, str, str]] = [
    ("contender", "contender", "s"),
    ("steps", "steps", "d"),
    ("median_ms", "median ms", ".3f"),
    ("min_ms", "min ms", ".3f"),
    ("max_ms", "max ms", ".3f"),
    ("x_original", "x original", ".1f"),
    ("per_torch_f64_optim", "/ torch f64", ".2f"),
    ("per_numpy", "/ numpy", ".2f"),
    ("max_loss_diff", "max loss diff", ".1e"),
    ("final_loss", "final loss", ".6f"),
    ("process_peak_rss_kib", "peak RSS MiB", "mib"),
    ("step_rss_kib", "step RSS KiB", ".0f"),
    ("tracemalloc_step_kib", "tracemalloc KiB", ".0f"),
]


def cells(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    cols = [c for c in COLUMNS if any(c[0] in r for r in rows)]
    out = []
    for r in rows:
        line = []
        for key, _, fmt in cols:
            x = r.get(key)
            if fmt == "mib":
                line.append(_num(None if x is None else x / 1024, ".0f"))
            elif key == "max_loss_diff" and r["contender"] == r["loss_reference"]:
                line.append("(ref)")
            else:
                line.append(_num(x, fmt))
        out.append(line)
    return [c[1] for c in cols], out


def text(headers: list[str], body: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(headers)]
    lines = [
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(headers, widths, strict=True))
        )
    ]
    for r in body:
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return "\n".join(lines)


def markdown(headers: list[str], body: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)


def text_table(rows: list[dict[str, Any]]) -> str:
    return text(*cells(rows))


def headline(results: list[dict[str, Any]]) -> list[str]:
    """The ratios issue 10 targets, one line each, and whether the losses agreed."""
    lines = []
    for res in results:
        by = {r["contender"]: r for r in res["table"]}
        b = by.get(BATCHED)
        if b is None:
            continue
        med = {r["contender"]: r["median_ms"] for r in res["table"]}
        low = {r["contender"]: r["min_ms"] for r in res["table"]}
        parts = [f"{res['workload']}: micrograd batched {b['median_ms']:.3f} ms"]
        for key, label in (
            ("per_torch_f64_optim", "torch f64 optim"),
            ("per_torch_f64_lean", "torch f64 lean"),
            ("per_numpy", "numpy"),
        ):
            other = label if label in med else None
            if key in b and other is not None:
                # the ratio of fastest steps beside the medians': less hit by other work
                parts.append(f"{b[key]:.2f}x {label} (min/min {low[BATCHED] / low[other]:.2f}x)")
        if PER_SAMPLE in by and ORIGINAL in by:
            parts.append(f"per-sample {by[PER_SAMPLE]['x_original']:.0f}x faster than the original")
        if NOTEBOOK in by and ORIGINAL in by:
            parts.append(f"the notebook's own loop {by[NOTEBOOK]['x_original']:.0f}x")
        lines.append(", ".join(parts))
    worst = [
        (r["max_loss_diff"], res["workload"], r["contender"])
        for res in results
        for r in res["table"]
        if r["contender"] != r["loss_reference"]
    ]
    f64 = [w for w in worst if "f32" not in w[2]]
    if f64:
        d, wl, c = max(f64)
        lines.append(f"largest loss difference, float64 contenders: {d:.1e} ({c}, {wl})")
    f32 = [w for w in worst if "f32" in w[2]]
    if f32:
        d, wl, c = max(f32)
        lines.append(f"largest loss difference, float32 contenders: {d:.1e} ({c}, {wl})")
    bad = [f"{c} on {wl}" for d, wl, c in worst if d > tolerance(c)]
    lines.append("losses agree" if not bad else "LOSSES DISAGREE: " + "; ".join(bad))
    return lines


def docs_block(out: dict[str, Any]) -> str:
    import scaling

    m = out["machine"]
    run = (
        f"Run of {out['date']} (UTC): `{out['command']}`, Python {m['python']}, "
        f"{m['cpus']} CPUs, {m['platform']}"
    )
    if m.get("load_average"):
        run += ", load average at the end " + " / ".join(f"{x:.1f}" for x in m["load_average"])
    run += "."
    parts = [BEGIN, "", run, ""]
    for res in out["workloads"]:
        parts += [f"### {res['title']}", "", markdown(*cells(res["table"])), ""]
    parts += ["### Headline", ""] + [f"- {line}" for line in out["summary"]] + [""]
    if out["scaling"]:
        parts += [
            "### Scaling",
            "",
            scaling.markdown_table(out["scaling"]),
            "",
            "```",
            scaling.fit_text(out["scaling"]),
            "```",
            "",
        ]
    parts.append(END)
    return "\n".join(parts)


def write_docs(path: Path, out: dict[str, Any]) -> None:
    """Replace the text between the suite's markers (kept: everything outside them)."""
    doc = path.read_text()
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"{path}: no {BEGIN} ... {END} markers to write the tables between")
    block = docs_block(out)
    path.write_text(
        re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, doc, flags=re.S)
    )


def main(argv: list[str]) -> int:
    """`python bench/report.py RESULTS.json DOCS.md`: the tables again, from saved results."""
    import json

    if len(argv) != 2:
        raise SystemExit(
            "usage: python bench/report.py bench/results/suite.json docs/benchmarks.md"
        )
    out = json.loads(Path(argv[0]).read_text())
    out["summary"] = headline(out["workloads"])
    print("\n".join(out["summary"]))
    write_docs(Path(argv[1]), out)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
