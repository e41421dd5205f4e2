"""The sweep driver: runs what a database's plan still lacks and writes each run as it arrives.

The driver is the only writer of the database. It asks the store for the runs not stored yet
(so a resumed sweep skips what is done), hands them to the runner's backend and stores every
record in its own transaction. `estimate` times a few short runs to say how long a sweep takes.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from .backends import Backend
from .runner import LOST, RunRecord, run, run_jobs
from .spec import Job
from .store import Store

__all__ = ["Estimate", "estimate", "run_sweep"]


def run_sweep(
    store: Store,
    backend: Backend,
    on_record: Callable[[RunRecord, int, int], None] | None = None,
) -> int:
    """Run every planned job that `store` does not hold yet on `backend`; return how many ran.

    `on_record(record, done, total)` hears about each run that came back (`done` of `total`
    planned stored); a run the backend lost (status `lost`: a worker or the scheduler died) is
    not stored, so a resumed sweep runs it again. Ctrl-C (KeyboardInterrupt) cancels the queued
    runs and goes on up; what was stored stays."""
    jobs = store.remaining()
    total = store.plan().runs
    done = total - len(jobs)
    ran = 0

    def keep(i: int, record: RunRecord) -> None:
        nonlocal done, ran
        if record.status != LOST and store.add(record):
            done += 1
            ran += 1
        if on_record is not None:
            on_record(record, done, total)

    if jobs:
        run_jobs(jobs, backend, keep)
    return ran


@dataclass(frozen=True)
class Estimate:
    """How long the runs left should take on `workers` workers, from timing a few short runs."""

    runs: int
    seconds_per_run: float
    workers: int
    timed: int  # how many settings were timed
    epochs_timed: int

    @property
    def seconds(self) -> float:
        return self.runs * self.seconds_per_run / max(1, self.workers)


def estimate(
    jobs: Sequence[Job], workers: int | None, *, settings: int = 4, epochs: int = 3
) -> Estimate:
    """Time `epochs` epochs of up to `settings` settings spread over the sweep and scale to the
    full epochs: an upper bound for runs that stop early (tolerance, patience)."""
    workers = workers or os.cpu_count() or 1
    if not jobs:
        return Estimate(0, 0.0, workers, 0, 0)
    by_key: dict[str, Job] = {}
    for job in jobs:
        by_key.setdefault(job.key, job)
    distinct = list(by_key.values())
    step = max(1, math.ceil(len(distinct) / settings))
    sample = distinct[::step][:settings]
    per_run = []
    for job in sample:
        short = replace(job.config, epochs=min(epochs, job.config.epochs))
        start = time.perf_counter()
        run(short)
        took = time.perf_counter() - start
        per_run.append(took * job.config.epochs / short.epochs)
    return Estimate(len(jobs), sum(per_run) / len(per_run), workers, len(sample), epochs)
