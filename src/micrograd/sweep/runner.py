"""The one way to run many training runs: `run` is a pure function of a config and a seed, and
`execute` / `run_jobs` spread runs over a backend.

Backends (`Backend.parse`): `serial` (here, one after another), `processes:N` (local worker
processes, `concurrent.futures`), `local:N` (a Dask `LocalCluster` of N worker processes on
127.0.0.1) and `tcp://HOST:PORT` (an existing Dask scheduler). Every run depends only on its
config and seed, so its numbers are the same on every backend.

Faults: a run that diverges comes back with status `diverged`, one that raises with status
`error` and its one-line error; neither stops the others. A Dask worker that dies has its runs
rescheduled on the others (Dask's `allowed-failures`); a local process pool that breaks is
restarted for the runs it lost. On Ctrl-C (or any exception while waiting) the queued runs are
cancelled and the exception goes on up: whatever was handed to the caller stays handed.
`micrograd.train.evaluate` and the command's `compare` and `sweep` all come through here.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any

from ..data import Dataset
from ..loop import Callback, History, TrainingDiverged
from ..optional import require
from ..run import RunOutcome, TrainConfig, load_data, train
from .spec import Job, setting_key

__all__ = [
    "STATUSES",
    "Backend",
    "BackendError",
    "RunRecord",
    "cores",
    "execute",
    "jobs_for",
    "one_line",
    "open_backend",
    "outcome",
    "require_dask",
    "run",
    "run_jobs",
    "run_seeds",
]

STATUSES = ("finished", "diverged", "error")
_POOL_RESTARTS = 3


class BackendError(ValueError):
    """A backend description is wrong, or its cluster cannot be reached."""


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


def one_line(error: BaseException) -> str:
    """`TypeName: first line of the message`."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


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
                except BaseException as e:  # KilledWorker, a lost scheduler, CancelledError
                    if isinstance(e, KeyboardInterrupt | SystemExit):
                        raise
                    record = _lost(jobs[i], e)
                yield i, record
    finally:
        if cancel:
            for future in pending:
                future.cancel()


# -- backends ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    """Where runs go: `serial`, local `processes`, a Dask `local` cluster, or a Dask `scheduler`
    at `address`; `workers` counts processes (for a scheduler: unknown, None)."""

    kind: str
    workers: int | None = None
    address: str | None = None

    @classmethod
    def parse(cls, text: str) -> Backend:
        """'serial', 'processes:N', 'local:N' (Dask LocalCluster) or 'tcp://HOST:PORT'."""
        if text == "serial":
            return cls("serial", 1)
        if text.startswith("tcp://"):
            host, _, port = text[len("tcp://") :].rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise BackendError(
                    f"{text!r} is not a scheduler address: expected tcp://HOST:PORT, "
                    "e.g. tcp://10.0.0.5:8786"
                )
            return cls("scheduler", None, text)
        kind, colon, count = text.partition(":")
        if kind in ("processes", "local"):
            if not colon:
                return cls(kind, os.cpu_count() or 1)
            if count.isdigit() and int(count) >= 1:
                return cls(kind, int(count))
            raise BackendError(f"{text!r}: expected {kind}:N with N >= 1 workers, e.g. {kind}:2")
        raise BackendError(
            f"unknown backend {text!r}: expected serial, processes:N, local:N (a Dask "
            "LocalCluster) or tcp://HOST:PORT (a Dask scheduler)"
        )

    def capped(self, runs: int) -> Backend:
        """This backend with no more local workers than cores, nor than `runs` (at least 1):
        runs are CPU-bound, so more processes than cores only slow each other down while each
        holds its own Python and numpy (about 100 MB; --workers 10000 once started 3,500 of
        them for two runs). A scheduler's workers are its own."""
        if self.kind not in ("processes", "local") or self.workers is None:
            return self
        return replace(self, workers=max(1, min(self.workers, cores(), runs)))

    def describe(self) -> str:
        if self.kind == "serial":
            return "this process"
        if self.kind == "processes":
            return f"{self.workers} local worker process{'es' if self.workers != 1 else ''}"
        if self.kind == "local":
            return f"a Dask LocalCluster of {self.workers} worker processes on 127.0.0.1"
        return f"the Dask scheduler at {self.address}"


def cores() -> int:
    """The CPU cores this process may run on (its affinity mask, where the system has one)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # macOS and Windows have no affinity mask
        return os.cpu_count() or 1


# Runs that raise are recorded by `run` itself; Dask's retries cover the rest (a lost worker is
# handled by the scheduler, which moves its tasks to the others, up to allowed-failures times).
_DASK_RETRIES = 2


@contextlib.contextmanager
def open_backend(backend: Backend) -> Iterator[Executor | None]:
    """An executor for `backend` (None for serial), shut down on the way out: queued runs are
    cancelled, a local Dask cluster is stopped."""
    if backend.kind == "serial":
        yield None
        return
    backend = backend.capped(backend.workers or 1)
    if backend.kind == "processes":
        with _local_pool(backend.workers or 1) as pool:
            yield pool
        return
    with _dask_client(backend) as client:
        executor = client.get_executor(pure=False, retries=_DASK_RETRIES)
        # `execute` asks this while it waits: is the scheduler still there? (The client's own
        # status can stay "running" long after its scheduler was killed.)
        executor.alive = functools.partial(_answers, backend.address, client)
        try:
            yield executor
        finally:
            executor.shutdown(wait=False)


def _worker_start(pids: Any) -> None:
    """In a local worker process: Ctrl-C is the driver's to handle (it ends the pool), and the
    driver's SIGTERM ends the worker at once, quietly. Tells the driver its pid, and watches
    it: a driver killed outright (SIGKILL) cannot end its workers, so they end themselves."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    pids.put(os.getpid())
    threading.Thread(target=_orphaned, args=(os.getppid(),), daemon=True).start()


def _orphaned(parent: int) -> None:
    """End this worker once its driver is gone (the worker is then adopted: a new parent)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


@contextlib.contextmanager
def _local_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A process pool that, when left by an exception (Ctrl-C), drops the queued runs and ends
    the running ones at once instead of waiting for them."""
    context = multiprocessing.get_context()
    pids = context.SimpleQueue()
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_worker_start, initargs=(pids,)
    )
    try:
        yield pool
    except BaseException:
        # Ending the workers fails every queued and running future with BrokenProcessPool.
        # (Cancelling them first would trip Python 3.11's pool, which then sets an exception
        # on a cancelled future in its own thread: `run_jobs` leaves them alone.)
        while not pids.empty():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pids.get(), signal.SIGTERM)
        pool.shutdown(wait=True)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        pids.close()


def dask_setup(worker: Any) -> None:
    """Dask's preload hook, run in each LocalCluster worker process as it starts: Ctrl-C in a
    terminal reaches every process of the group, and is the driver's to handle (it cancels the
    runs and closes the cluster), not each worker's to print a traceback for."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def require_dask(purpose: str) -> ModuleType:
    """Dask's `distributed` package, imported here rather than with this module (it is the
    `sweep` extra, and slow to import); without it a `MissingDependencyError` names the pip
    command that installs it, with `purpose` saying what needed it."""
    require("dask", "dask[distributed]", "sweep", purpose)
    return require("distributed", "dask[distributed]", "sweep", purpose)


@contextlib.contextmanager
def _dask_client(backend: Backend) -> Iterator[Any]:
    distributed = require_dask(backend.describe())
    Client, LocalCluster = distributed.Client, distributed.LocalCluster
    if backend.kind == "local":
        # One thread per worker: runs are pure Python. Dask's own logs stay quiet but errors.
        cluster = LocalCluster(
            n_workers=backend.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # a free port: 8787 may be taken
            silence_logs=logging.ERROR,
            preload=[__name__],  # dask_setup below: workers leave Ctrl-C to the driver
        )
        try:
            with Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = Client(backend.address, timeout="10s")
    except OSError as e:
        raise BackendError(
            f"cannot reach the Dask scheduler at {backend.address}: {one_line(e)}"
        ) from None
    # A scheduler that dies mid-sweep makes Dask log tracebacks as it gives up reconnecting;
    # the command says what happened in one line instead (the runs it lost).
    loggers = [logging.getLogger(name) for name in _dask_loggers()]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        with client:
            _await_workers(client, str(backend.address))
            yield client
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _dask_loggers() -> list[str]:
    """Dask's loggers (its configuration gives some of them levels of their own)."""
    names = set(logging.root.manager.loggerDict)
    return sorted(n for n in names | {"distributed"} if n.split(".")[0] == "distributed")


def _answers(address: str | None, client: Any) -> bool:
    """Does the scheduler still take connections (a LocalCluster's: is its client running)?"""
    if address is None:
        return bool(client.status == "running")
    host, _, port = address.removeprefix("tcp://").rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=2).close()
    except (OSError, ValueError):
        return False
    return True


SCHEDULER_GRACE = 15.0  # seconds unreachable (reconnecting) before a cluster's runs are lost
WORKERS_WAIT = 30.0  # seconds for a scheduler with no workers to get one, before saying so


def _await_workers(client: Any, address: str, seconds: float | None = None) -> None:
    """A scheduler with no workers would take the runs and never start them: wait a while for
    a worker, then say what to do instead of hanging silently."""
    try:
        client.wait_for_workers(1, timeout=WORKERS_WAIT if seconds is None else seconds)
    except TimeoutError:
        raise BackendError(
            f"the Dask scheduler at {address} has had no workers for {WORKERS_WAIT:g} s: start "
            f"them on each machine with 'dask worker {address} --nworkers auto --nthreads 1'"
        ) from None


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


def run_seeds(
    config: TrainConfig,
    seeds: Sequence[int],
    *,
    workers: int | None = None,
    executor: Executor | None = None,
) -> list[RunRecord]:
    """One run of `config` per seed, records in the seeds' order: on `executor`, or on
    `workers` local processes (default one per core; 1 runs here)."""
    jobs = jobs_for(config, seeds)
    count = min(workers or cores(), cores(), len(jobs))
    backend = Backend("serial", 1) if count <= 1 else Backend("processes", count)
    records: list[RunRecord | None] = [None] * len(jobs)

    def keep(i: int, record: RunRecord) -> None:
        records[i] = record

    run_jobs(jobs, backend, keep, executor=executor)
    return [r for r in records if r is not None]


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
