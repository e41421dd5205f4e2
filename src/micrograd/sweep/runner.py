"""The one way to run many training runs: `run` is a pure function of a config and a seed, and
`execute` / `run_jobs` spread runs over a backend (`backends`: serial, local processes, a Dask
cluster). Every run depends only on its config and seed, so its numbers are the same on every
backend.

Faults: a run that diverges comes back with status `diverged`, one that raises with status
`error` and its one-line error; neither stops the others. A Dask worker that dies has its runs
rescheduled on the others (Dask's `allowed-failures`); a local process pool that breaks is
restarted for the runs it lost; a run the backend does not bring back is `lost`. On Ctrl-C (or
any exception while waiting) the queued runs are cancelled and the exception goes on up:
whatever was handed to the caller stays handed. `micrograd.train.evaluate` and the command's
`compare` and `sweep` all come through here.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from typing import Any

from ..data import Dataset
from ..loop import Callback, History, TrainingDiverged
from ..run import RunOutcome, TrainConfig, load_data, train
from .backends import Backend, one_line, open_backend
from .spec import Job, setting_key

__all__ = [
    "STATUSES",
    "RunRecord",
    "execute",
    "jobs_for",
    "outcome",
    "run",
    "run_jobs",
]

STATUSES = ("finished", "diverged", "error")
_POOL_RESTARTS = 3
SCHEDULER_GRACE = 15.0  # seconds unreachable (reconnecting) before a cluster's runs are lost


@dataclass
class RunRecord:
    """What one run produced: final metrics, every epoch's row, and how it ended.

    `status` is `finished`, `diverged` (the loss blew up: no final metrics, the rows up to the
    last good epoch are kept) or `error` (the run raised: `error` holds the one-line message).
    `converged` is True when the loss reached the tolerance, or, without a tolerance, when the
    run finished."""

    key: str
    seed: int
    config: dict[str, Any]
    status: str
    metrics: dict[str, float] = field(default_factory=dict)
    epochs: int = 0
    seconds: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)
    error: str | None = None
    converged: bool = False
    stop_reason: str | None = None
    epochs_to_tolerance: int | None = None
    worker: str = ""


class _Keep(Callback):
    def __init__(self) -> None:
        self.history: History | None = None

    def on_train_end(self, history: History) -> None:
        self.history = history


@functools.lru_cache(maxsize=8)
def _dataset(
    dataset: str,
    data_path: str | None,
    samples: int | None,
    noise: float | None,
    data_seed: int,
    task: str | None,
) -> Dataset:
    # Runs of one sweep share their data: each process builds or reads it once.
    return load_data(
        TrainConfig(
            dataset=dataset,
            data_path=data_path,
            samples=samples,
            noise=noise,
            data_seed=data_seed,
            task=task,
        )
    )


def run(config: TrainConfig, seed: int | None = None) -> RunRecord:
    """Train `config` (with `seed`, when given) and return its record. Never raises for a bad
    run: divergence and errors are recorded; the result depends only on the config and seed."""
    if seed is not None:
        config = replace(config, seed=seed)
    keep = _Keep()
    record = RunRecord(
        setting_key(config),
        config.seed,
        config.as_dict(),
        "finished",
        worker=f"{socket.gethostname()}:{os.getpid()}",
    )
    start = time.perf_counter()
    try:
        data = _dataset(
            config.dataset,
            config.data_path,
            config.samples,
            config.noise,
            config.data_seed,
            config.task,
        )
        result = train(config, [keep], data)
    except TrainingDiverged as e:
        record.status, record.error = "diverged", one_line(e)
    except Exception as e:
        record.status, record.error = "error", one_line(e)
    else:
        h = result.history
        record.metrics = {k: float(v) for k, v in result.scores().items() if k != "lr"}
        record.stop_reason = h.stop_reason
        record.epochs_to_tolerance = h.epochs_to_tolerance
        record.converged = h.converged if config.tolerance is not None else True
    record.seconds = time.perf_counter() - start
    if keep.history is not None:
        record.history = [dict(row) for row in keep.history.rows]
        record.epochs = len(record.history)
        record.stop_reason = keep.history.stop_reason
    return record


def _run_job(config: TrainConfig) -> RunRecord:
    return run(config)


LOST = "lost"  # a run the backend did not bring back: never a result, run again on resume


def _lost(job: Job, error: BaseException) -> RunRecord:
    """A run that did not finish for a reason outside it (its worker or the scheduler died, it
    was cancelled): status `lost`, which is never stored, so `--resume` runs it again. A run
    that raises by itself is recorded by `run` as `error` instead."""
    return RunRecord(
        job.key,
        job.seed,
        job.config.as_dict(),
        LOST,
        error=f"the backend lost this run: {one_line(error)}",
    )


def execute(
    jobs: Sequence[Job], executor: Executor | None, *, cancel: bool = True
) -> Iterator[tuple[int, RunRecord]]:
    """Run `jobs` on `executor` (None: here, in order) and yield `(index, record)` as each
    finishes. Leaving early (Ctrl-C, an exception, closing the iterator) cancels the runs that
    have not started (unless `cancel` is False: the caller ends the executor itself). A
    `BrokenProcessPool` goes on up, with the unfinished runs not yielded."""
    if executor is None:
        for i, job in enumerate(jobs):
            yield i, run(job.config)
        return
    pending: dict[Future[RunRecord], int] = {}
    alive: Callable[[], bool] | None = getattr(executor, "alive", None)
    gone_since: float | None = None
    try:
        for i, job in enumerate(jobs):
            pending[executor.submit(_run_job, job.config)] = i
        while pending:
            done, _ = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            if not done and alive is not None:
                # A cluster whose scheduler died never finishes its futures: after a grace
                # period for reconnecting, the runs it held are lost (run again on resume).
                gone_since = None if alive() else gone_since or time.monotonic()
                if gone_since is not None and time.monotonic() - gone_since > SCHEDULER_GRACE:
                    gone = ConnectionError("the Dask scheduler stopped answering")
                    for future, i in list(pending.items()):
                        del pending[future]
                        yield i, _lost(jobs[i], gone)
                    return
            for future in done:
                i = pending.pop(future)
                try:
                    record = future.result()
                except BrokenProcessPool:
                    pending[future] = i  # not finished: the caller may run it again
                    raise
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as e:  # KilledWorker, a lost scheduler, CancelledError
                    record = _lost(jobs[i], e)
                yield i, record
    finally:
        if cancel:
            for future in pending:
                future.cancel()


def run_jobs(
    jobs: Sequence[Job],
    backend: Backend,
    on_record: Callable[[int, RunRecord], None],
    *,
    executor: Executor | None = None,
) -> None:
    """Run every job on `backend` (or on a given `executor`) and hand `(index in jobs, record)`
    to `on_record` as each arrives. A local process pool that breaks (a worker killed) is
    started again for the runs it had not finished, up to three times."""
    left = list(range(len(jobs)))
    restarts = 0
    backend = backend.capped(len(jobs))
    while left:
        finished: set[int] = set()
        try:
            with contextlib.ExitStack() as stack:
                ex = (
                    executor if executor is not None else stack.enter_context(open_backend(backend))
                )
                own_pool = executor is None and backend.kind == "processes"
                for k, record in execute([jobs[i] for i in left], ex, cancel=not own_pool):
                    finished.add(k)
                    on_record(left[k], record)
            return
        except BrokenProcessPool as e:
            restarts += 1
            left = [i for k, i in enumerate(left) if k not in finished]
            if executor is not None or restarts > _POOL_RESTARTS:
                for i in left:
                    on_record(i, _lost(jobs[i], e))
                return


def jobs_for(config: TrainConfig, seeds: Sequence[int]) -> list[Job]:
    """One job per seed of one config."""
    return [Job(setting_key(config), replace(config, seed=s), s) for s in seeds]


def outcome(record: RunRecord, metric: str) -> RunOutcome:
    """A record as one of `evaluate`'s outcomes (`metric`: accuracy or rmse)."""
    if record.status == "diverged":
        return RunOutcome(record.seed, math.nan, math.nan, 0, None, True)
    return RunOutcome(
        record.seed,
        record.metrics.get("loss", math.nan),
        record.metrics.get(metric, math.nan),
        record.epochs,
        record.epochs_to_tolerance,
        False,
    )
