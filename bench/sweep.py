"""Benchmark: how fast each sweep backend gets through many short runs.

    python bench/sweep.py                  # 200 runs x 3 rounds per backend; docs table on stdout
    python bench/sweep.py --runs 20 --rounds 1 --json out.json      # a smoke run

The workload is 200 short runs: two moons (100 samples), batched, 50 epochs, 20 settings
(activation x 5 learning rates x 2 widths) x 10 seeds, stored in a SQLite database by the
driver as in `micrograd sweep`. Backends: serial (1 local process), local worker processes
(`processes:N`, N = cores) and a Dask LocalCluster of N worker processes (`local:N`).

For each backend: the time to start it (a process pool starts its workers on first use, so a
2-run warm-up is counted as its start), then the wall time of the runs on the warm backend;
runs per second; and the per-run overhead, the wall time each worker spends per run beyond the
run's own training time (measured inside the run): wall x workers / runs - mean run seconds.
Rounds alternate the backends' order, so drift in a shared machine's speed hits all alike;
the medians are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from micrograd.sweep import Backend, Job, Plan, RunRecord, Store, Sweep, open_backend, run_jobs


def plan(runs: int) -> Plan:
    seeds = max(1, runs // 20)
    sweep = Sweep(
        grid={
            "dataset": ["moons"],
            "samples": [100],
            "epochs": [50],
            "mode": ["batched"],
            "activation": ["tanh", "relu"],
            "lr": [0.03, 0.1, 0.3, 1.0, 3.0],
            "layers": [(8, 8, 1), (16, 16, 1)],
        },
        seeds=range(seeds),
    )
    return Plan.from_sweep(sweep)


def measure(backend: Backend, jobs: list[Job], folder: Path) -> dict[str, float]:
    """Start `backend`, warm it with 2 runs, then time `jobs` stored into a fresh database."""
    warm = jobs[:2]
    with Store.create(
        folder / f"{backend.kind}-{time.monotonic_ns()}.db", Plan([], [], [])
    ) as store:
        start = time.perf_counter()
        with open_backend(backend) as executor:
            run_jobs(warm, backend, lambda i, r: None, executor=executor)
            started = time.perf_counter()
            seconds: list[float] = []

            def keep(i: int, record: RunRecord) -> None:
                assert record.status == "finished", record.error
                store.add(record)
                seconds.append(record.seconds)

            run_jobs(jobs, backend, keep, executor=executor)
            end = time.perf_counter()
        assert store.count() == len(jobs)
    wall = end - started
    workers = backend.workers or 1
    return {
        "start_s": started - start,
        "wall_s": wall,
        "runs_per_s": len(jobs) / wall,
        "run_s": statistics.fmean(seconds),
        "overhead_ms": (wall * workers / len(jobs) - statistics.fmean(seconds)) * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--json", type=Path, default=Path(__file__).parent / "results" / "sweep.json"
    )
    args = parser.parse_args(argv)
    jobs = plan(args.runs).jobs()
    backends = {
        "serial (1 process)": Backend("serial", 1),
        f"local processes ({args.workers})": Backend("processes", args.workers),
        f"Dask LocalCluster ({args.workers})": Backend("local", args.workers),
    }
    results: dict[str, list[dict[str, float]]] = {name: [] for name in backends}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.rounds):
            order = list(backends)
            if k % 2:
                order.reverse()
            for name in order:
                results[name].append(measure(backends[name], jobs, Path(tmp)))
                print(
                    f"round {k + 1}: {name}: {results[name][-1]['runs_per_s']:.1f} runs/s",
                    file=sys.stderr,
                )
    medians = {
        name: {key: statistics.median(r[key] for r in rows) for key in rows[0]}
        for name, rows in results.items()
    }
    local = medians[f"local processes ({args.workers})"]["runs_per_s"]
    lines = [
        "| backend | start s | runs/s | wall s | mean run s | overhead ms/run | "
        "vs local processes |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, m in medians.items():
        lines.append(
            f"| {name} | {m['start_s']:.2f} | {m['runs_per_s']:.1f} | "
            f"{m['wall_s']:.2f} | {m['run_s'] * 1000:.1f} ms | "
            f"{m['overhead_ms']:.1f} | {m['runs_per_s'] / local:.2f}x |"
        )
    print("\n".join(lines))
    out: dict[str, Any] = {
        "runs": len(jobs),
        "rounds": args.rounds,
        "workers": args.workers,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "medians": medians,
        "rounds_detail": results,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
