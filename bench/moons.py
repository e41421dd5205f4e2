"""Benchmark: the original micrograd demo, trained by five contenders side by side.

    python bench/moons.py                 # full run: 100 steps, memory, scaling table
    python bench/moons.py --steps 2 --skip original --no-scaling     # a smoke run

Contenders: the original micrograd 0.1.0 (installed from the package index into its own virtual
environment, `bench/.venv-original`, since its import name is the same as ours), this micrograd
per sample and batched, PyTorch (CPU, float64, one thread) and a hand-vectorised numpy MLP. Each
runs in its own process. They take turns, in an order that rotates every round, so drift in the
machine's speed hits all alike; in a turn a contender runs `--block` consecutive steps (default
5), as training does. A step that follows a long idle wait pays for cold caches and TLBs (on
these machines about 3-5 ms): a 1-second step hardly notices, a 10-millisecond one is slowed by
a third, so turns of one step each would measure the waiting, not the training.

Prints the table (median/min/max ms per step, ratios to the original and to PyTorch, final
loss and accuracy), the largest loss difference from the original, peak memory of one step, and
how time scales with batch size and hidden width; writes everything as JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORKER = HERE / "_worker.py"
ORIGINAL = "original"
CONTENDERS = [ORIGINAL, "micrograd per-sample", "micrograd batched", "pytorch", "numpy"]
ALPHA = 1e-4


def moons(n: int, seed: int) -> tuple[list[list[float]], list[float]]:
    from micrograd.data import make_moons

    ds = make_moons(n_samples=n, noise=0.1, seed=seed)
    return ds.X.tolist(), (ds.y * 2.0 - 1.0).tolist()


def initial_weights(sizes: list[int], seed: int) -> list[float]:
    count = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
    rng = random.Random(seed)
    return [rng.uniform(-1, 1) for _ in range(count)]


def original_python(venv: Path) -> str:
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} with micrograd==0.1.0 from the package index ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "micrograd==0.1.0"], check=True
        )
    return str(python)


class Worker:
    def __init__(self, name: str, python: str, setup: dict[str, Any]) -> None:
        self.name = name
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        self.proc = subprocess.Popen(
            [python, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            cwd=HERE, env=env,
        )
        self.ask(json.dumps({**setup, "contender": name}), reply=False)
        self.steps: list[dict[str, float]] = []

    def ask(self, line: str, reply: bool = True) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        if not reply:
            return {}
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"contender {self.name!r} stopped (exit {self.proc.wait()})")
        result: dict[str, Any] = json.loads(answer)
        return result

    def close(self) -> None:
        if self.proc.poll() is None:
            self.ask("quit", reply=False)
            self.proc.wait(timeout=30)


def race(names: list[str], steps: int, setup: dict[str, Any], venv: Path,
         memory: bool, block: int) -> dict[str, Any]:
    workers = [
        Worker(n, original_python(venv) if n == ORIGINAL else sys.executable, setup)
        for n in names
    ]
    try:
        for turn, first in enumerate(range(0, steps, block)):
            shift = turn % len(workers)
            for w in workers[shift:] + workers[:shift]:
                for k in range(first, min(first + block, steps)):
                    w.steps.append(w.ask(f"step {k}"))
            done = min(first + block, steps)
            if ORIGINAL in names and done % 10 < block:
                print(f"  step {done}/{steps}", flush=True)
        peaks = {}
        if memory:
            for w in workers:
                peaks[w.name] = w.ask(f"memory {steps}")["peak_bytes"]
    finally:
        for w in workers:
            w.close()
    return {"steps": {w.name: w.steps for w in workers}, "peak_bytes": peaks}


def summarise(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    steps = result["steps"]
    med = {n: statistics.median(s["ms"] for s in v) for n, v in steps.items()}
    for name, v in steps.items():
        ms = [s["ms"] for s in v]
        row: dict[str, Any] = {
            "contender": name,
            "median_ms": med[name],
            "min_ms": min(ms),
            "max_ms": max(ms),
            "final_loss": v[-1]["loss"],
            "final_accuracy": v[-1]["acc"],
        }
        if ORIGINAL in med:
            row["x_faster_than_original"] = med[ORIGINAL] / med[name]
            row["max_loss_diff_vs_original"] = max(
                abs(a["loss"] - b["loss"]) for a, b in zip(v, steps[ORIGINAL], strict=True)
            )
        if "pytorch" in med:
            row["ratio_to_pytorch"] = med[name] / med["pytorch"]
        if name in result["peak_bytes"]:
            row["peak_step_kib"] = result["peak_bytes"][name] / 1024
        rows.append(row)
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    cols = [
        ("contender", "{:<22}", "contender"),
        ("median_ms", "{:>11.3f}", "median ms"),
        ("min_ms", "{:>10.3f}", "min ms"),
        ("max_ms", "{:>10.3f}", "max ms"),
        ("x_faster_than_original", "{:>11.1f}", "x original"),
        ("ratio_to_pytorch", "{:>11.2f}", "/ pytorch"),
        ("final_loss", "{:>13.9f}", "final loss"),
        ("final_accuracy", "{:>7.0%}", "acc"),
        ("peak_step_kib", "{:>11.0f}", "peak KiB"),
    ]
    print("".join(f"{title:>{len(fmt.format(0) if key != 'contender' else 'x' * 22)}}"
                  if key != "contender" else f"{title:<22}" for key, fmt, title in cols))
    for row in rows:
        cells = []
        for key, fmt, _ in cols:
            if key in row:
                cells.append(fmt.format(row[key]))
            else:
                width = len(fmt.format(0)) if key != "contender" else 22
                cells.append(f"{'-':>{width}}")
        print("".join(cells))


def scaling(steps: int) -> list[dict[str, Any]]:
    """Time per step of this micrograd, both modes, over batch sizes and hidden widths."""
    import numpy as np

    from micrograd.losses import hinge_loss, l2_penalty
    from micrograd.nn import MLP
    from micrograd.optim import SGD
    from micrograd.train import gc_paused

    rows = []
    for n in (25, 100, 400):
        X, y = moons(n, seed=1)
        for width in (8, 16, 32):
            sizes = [2, width, width, 1]
            for mode in ("per-sample", "batched"):
                model = MLP(2, sizes[1:])
                params = model.parameters()
                for p, w in zip(params, initial_weights(sizes, 2), strict=True):
                    p.data = w
                opt = SGD(params, lr=0.1)
                inputs: Any = np.array(X) if mode == "batched" else X
                targets: Any = np.array(y) if mode == "batched" else y
                times = []
                reps = steps if mode == "per-sample" else steps * 10
                for _ in range(reps):
                    t = time.perf_counter()
                    with gc_paused():
                        scores = model(inputs) if mode == "batched" else list(map(model, X))
                        total = hinge_loss(scores, targets) + ALPHA * l2_penalty(params)
                        opt.zero_grad()
                        total.backward()
                        opt.step()
                    times.append((time.perf_counter() - t) * 1e3)
                ms = statistics.median(times)
                rows.append({"samples": n, "width": width, "parameters": len(params),
                             "mode": mode, "median_ms": ms,
                             "ns_per_sample_parameter": ms * 1e6 / (n * len(params))})
    return rows


def print_scaling(rows: list[dict[str, Any]]) -> None:
    print(f"{'samples':>8}{'width':>7}{'params':>8}{'mode':>12}{'median ms':>11}"
          f"{'ns/(sample*param)':>19}")
    for r in rows:
        print(f"{r['samples']:>8}{r['width']:>7}{r['parameters']:>8}{r['mode']:>12}"
              f"{r['median_ms']:>11.3f}{r['ns_per_sample_parameter']:>19.1f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=100, help="training steps (default 100)")
    ap.add_argument("--seed", type=int, default=0, help="data and weights seed (default 0)")
    ap.add_argument("--block", type=int, default=5,
                    help="consecutive steps a contender runs in its turn (default 5)")
    ap.add_argument("--skip", action="append", default=[], choices=CONTENDERS,
                    help="leave a contender out (repeatable)")
    ap.add_argument("--no-scaling", action="store_true", help="skip the scaling table")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    ap.add_argument("--venv", type=Path, default=HERE / ".venv-original",
                    help="where the original micrograd's virtual environment lives")
    ap.add_argument("--json", type=Path, default=HERE / "results" / "moons.json",
                    help="where to write the results (default bench/results/moons.json)")
    args = ap.parse_args(argv)

    X, y = moons(100, args.seed)
    setup = {"X": X, "y": y, "weights": initial_weights([2, 16, 16, 1], args.seed),
             "alpha": ALPHA}
    names = [n for n in CONTENDERS if n not in args.skip]
    print(f"moons, 100 samples, MLP(2, [16, 16, 1]), {args.steps} steps in turns of "
          f"{args.block}; contenders: {', '.join(names)}", flush=True)
    if args.block < 1:
        ap.error(f"--block must be at least 1, got {args.block}")
    result = race(names, args.steps, setup, args.venv, memory=not args.no_memory,
                  block=args.block)
    rows = summarise(result)
    print()
    print_table(rows)
    by = {r["contender"]: r for r in rows}
    if ORIGINAL in by and "micrograd per-sample" in by:
        print(f"\nlargest loss difference from the original over {args.steps} steps: "
              f"per-sample {by['micrograd per-sample']['max_loss_diff_vs_original']:.2e}")
    if "peak_step_kib" in by.get(ORIGINAL, {}) and "micrograd per-sample" in by:
        ratio = by["micrograd per-sample"]["peak_step_kib"] / by[ORIGINAL]["peak_step_kib"]
        print(f"peak memory of a per-sample step: {ratio:.2f} of the original's")
    scale = [] if args.no_scaling else scaling(steps=5)
    if scale:
        print("\nscaling (this micrograd):")
        print_scaling(scale)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
        "steps": args.steps, "block": args.block, "seed": args.seed, "table": rows,
        "scaling": scale,
        "per_step": result["steps"], "peak_bytes": result["peak_bytes"],
    }, indent=1))
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
