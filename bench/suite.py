"""The benchmark suite: five workloads, every contender side by side, in one run.

    python bench/suite.py                      # full run (about 6 minutes), tables + JSON
    python bench/suite.py --write-docs         # ... and the tables into docs/benchmarks.md
    python bench/suite.py --quick              # smoke run: 3 steps each, tiny scaling grid
    python bench/suite.py --workload moons --skip original

Contenders: the original micrograd 0.1.0 (from the package index, in its own virtual
environment `bench/.venv-original`, since its import name is ours; its steps are limited, it
takes 1-2 s each), this micrograd per sample and batched, PyTorch (CPU, one thread) in float64
and float32, each with `torch.optim` and with a lean hand-written update, and the numpy floor.
Each runs in its own process, written as its users write it (see the `_*.py` contender files),
with one thread for its math (numpy's BLAS included).
They take turns in an order that rotates every turn, so drift in the machine's speed hits all
alike; in a turn a contender runs `--block` consecutive steps (default 5) back to back in its
process, as training does, timing each and reporting after the last. A step after a wait pays
for cold caches (about 3-5 ms here after a long one; a round trip over the pipe between steps
cost micrograd's 0.1 ms demo step about 15%), so turns of single steps would measure the
waiting. Every contender starts from the same weights and sees the same batches, so the losses
are compared step by step.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import report  # bench/ is on the path: these files run as scripts
import scaling
import workloads
from _options import add_contender_options

HERE = Path(__file__).resolve().parent

WORKER = HERE / "_worker.py"
ORIGINAL = "original"
NOTEBOOK = "micrograd notebook loop"  # the original's own code, run on this micrograd
# This micrograd as it was at another commit (`--before DIR`: a checkout of it, built in place
# with `python setup.py build_ext --inplace` where it has a C extension), side by side.
BEFORE_PER_SAMPLE = "micrograd per-sample (before)"
BEFORE_BATCHED = "micrograd batched (before)"
BEFORE: dict[str, Path] = {}
# One thread for every contender's math, as for PyTorch's (`torch.set_num_threads(1)`): numpy's
# OpenBLAS would otherwise start a thread per core, and on a shared machine those thrash.
ONE_THREAD = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
CONTENDERS = [
    ORIGINAL,
    "micrograd per-sample",
    "micrograd batched",
    NOTEBOOK,
    BEFORE_PER_SAMPLE,
    BEFORE_BATCHED,
    "torch f64 optim",
    "torch f64 lean",
    "torch f32 optim",
    "torch f32 lean",
    "numpy",
]


def original_python(venv: Path) -> str:
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} with micrograd==0.1.0 from the package index ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "micrograd==0.1.0"], check=True)
    return str(python)


class Worker:
    """One contender's process; `setup` may be sent again to run another workload in it."""

    def __init__(self, name: str, python: str) -> None:
        self.name = name
        env = {**os.environ, "PYTHONHASHSEED": "0", **ONE_THREAD}
        if name in BEFORE:
            env["PYTHONPATH"] = str(BEFORE[name] / "src")
        self.proc = subprocess.Popen(
            [python, str(WORKER), name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=HERE,
            env=env,
        )

    def ask(self, line: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"contender {self.name!r} stopped (exit {self.proc.wait()})")
        result: dict[str, Any] = json.loads(answer)
        return result

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


def start(names: list[str], venv: Path) -> list[Worker]:
    """All processes at once, so their imports overlap."""
    return [Worker(n, original_python(venv) if n == ORIGINAL else sys.executable) for n in names]


def race(
    workers: list[Worker], limits: dict[str, int], block: int, progress: bool = False
) -> dict[str, list[dict[str, float]]]:
    """Rotating turns of `block` consecutive steps; contender c runs steps 0..limits[c]-1."""
    steps: dict[str, list[dict[str, float]]] = {w.name: [] for w in workers}
    longest = max(limits.values())
    for turn, first in enumerate(range(0, longest, block)):
        shift = turn % len(workers)
        for w in workers[shift:] + workers[:shift]:
            count = min(first + block, limits[w.name]) - first
            if count > 0:
                steps[w.name] += w.ask(f"steps {first} {count}")["steps"]
        if progress and ORIGINAL in limits and first < limits[ORIGINAL]:
            print(
                f"  step {min(first + block, limits[ORIGINAL])}/{limits[ORIGINAL]} of the original",
                flush=True,
            )
    return steps


def run_workload(name: str, names: list[str], args: argparse.Namespace) -> dict[str, Any]:
    wl = workloads.WORKLOADS[name]
    names = [n for n in names if n not in (ORIGINAL, NOTEBOOK) or wl["original"]]
    spec = workloads.setup(wl, args.steps, args.seed)
    limits = {n: args.steps for n in names}
    if ORIGINAL in limits:
        limits[ORIGINAL] = min(args.steps, args.original_steps)
    if "micrograd per-sample" in limits:
        cap = wl.get("per_sample_steps", args.steps)
        if args.quick and "per_sample_steps" in wl:
            cap = 1
        limits["micrograd per-sample"] = min(args.steps, cap, args.per_sample_steps)
        for same in (BEFORE_PER_SAMPLE, NOTEBOOK):
            if same in limits:
                limits[same] = limits["micrograd per-sample"]
    print(
        f"\n{name}: {wl['title']}; {args.steps} steps in turns of {args.block}, "
        f"{workloads.parameter_count(wl['sizes'])} parameters",
        flush=True,
    )
    workers = start(names, args.venv)
    try:
        line = json.dumps(spec)
        setup = {w.name: w.ask(line) for w in workers}
        steps = race(workers, limits, args.block, progress=True)
        memory = {}
        if not args.no_memory:
            memory = {w.name: w.ask(f"memory {limits[w.name]}") for w in workers}
    finally:
        for w in workers:
            w.close()
    rows = report.summarise(steps, setup, memory)
    result = {
        "workload": name,
        "title": wl["title"],
        "spec": {k: v for k, v in wl.items()},
        "parameters": workloads.parameter_count(wl["sizes"]),
        "steps": args.steps,
        "limits": limits,
        "table": rows,
        "per_step": steps,
    }
    print(report.text_table(rows))
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--quick", action="store_true", help="smoke run: 3 steps, no original, 1-cell scaling grid"
    )
    ap.add_argument(
        "--workload",
        action="append",
        choices=list(workloads.WORKLOADS),
        help="run this workload (repeatable; default all)",
    )
    add_contender_options(ap, CONTENDERS, HERE / "results" / "suite.json")
    ap.add_argument("--steps", type=int, default=workloads.STEPS, help="steps (default 100)")
    ap.add_argument(
        "--original-steps",
        type=int,
        default=20,
        help="steps of the original micrograd (default 20; ~1-2 s each)",
    )
    ap.add_argument(
        "--per-sample-steps",
        type=int,
        default=workloads.STEPS,
        help="at most this many per-sample steps (default 100; capped further "
        "where a workload sets it)",
    )
    ap.add_argument("--seed", type=int, default=0, help="data and weights seed (default 0)")
    ap.add_argument(
        "--block",
        type=int,
        default=5,
        help="consecutive steps a contender runs in its turn (default 5)",
    )
    ap.add_argument("--no-scaling", action="store_true", help="skip the scaling table")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    ap.add_argument(
        "--venv",
        type=Path,
        default=HERE / ".venv-original",
        help="the original micrograd's virtual environment",
    )
    ap.add_argument(
        "--write-docs",
        type=Path,
        nargs="?",
        const=HERE.parent / "docs" / "benchmarks.md",
        default=None,
        help="write the tables between the suite's markers in this file "
        "(default docs/benchmarks.md)",
    )
    ap.add_argument(
        "--before",
        type=Path,
        default=None,
        help="also run this micrograd from a checkout of another commit (DIR/src), side by side",
    )
    args = ap.parse_args(argv)
    if args.before is None:
        args.skip = sorted({*args.skip, BEFORE_PER_SAMPLE, BEFORE_BATCHED})
    else:
        BEFORE.update({BEFORE_PER_SAMPLE: args.before, BEFORE_BATCHED: args.before})
    if args.quick:
        args.steps, args.block = 3, 1
        args.skip = sorted({*args.skip, ORIGINAL})
    for flag in ("steps", "block", "original_steps", "per_sample_steps"):
        if getattr(args, flag) < 1:
            ap.error(f"--{flag.replace('_', '-')} must be at least 1, got {getattr(args, flag)}")
    names = [n for n in CONTENDERS if n not in args.skip]
    if not names:
        ap.error("every contender is skipped")
    started = datetime.datetime.now(datetime.UTC)
    results = [run_workload(w, names, args) for w in args.workload or list(workloads.WORKLOADS)]
    scale: dict[str, Any] = {}
    if not args.no_scaling:
        scale = scaling.run(
            args.quick,
            args.block,
            args.seed,
            [n for n in scaling.CONTENDERS if n in names],
            start,
            race,
        )
        print("\nscaling: median ms per step (moons, MLP(2,[w,w,1]), hinge + L2, SGD)")
        print(scaling.text_table(scale))
        print(scaling.fit_text(scale))
    summary = report.headline(results)
    print("\n" + "\n".join(summary))
    out = {
        "date": started.isoformat(timespec="seconds"),
        "command": "python bench/suite.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            # other work on the machine: the load average (1, 5, 15 min) as the run ends
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        },
        "quick": args.quick,
        "seed": args.seed,
        "block": args.block,
        "workloads": results,
        "scaling": scale,
        "summary": summary,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1))
    print(f"\nwrote {args.json}")
    if args.write_docs is not None:
        report.write_docs(args.write_docs, out)
        print(f"wrote {args.write_docs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
