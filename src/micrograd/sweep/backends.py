"""Where runs go: a `Backend` says where (`Backend.parse`), `open_backend` gives the
`concurrent.futures` executor that runs them there.

Backends: `serial` (here, one after another: no executor), `processes:N` (local worker
processes, `concurrent.futures`), `local:N` (a Dask `LocalCluster` of N worker processes on
127.0.0.1) and `tcp://HOST:PORT` (an existing Dask scheduler). Local workers leave Ctrl-C to the
driver and end themselves if it is killed outright; leaving the local pool by an exception ends
its running workers at once. A Dask scheduler that cannot be reached, or has no workers, is a
`BackendError` saying so. Dask is imported only when a Dask backend is opened (`require_dask`).
What runs on an executor, and how a lost run is recorded, is `runner`'s.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any

from ..optional import require

__all__ = [
    "Backend",
    "BackendError",
    "cores",
    "local_workers",
    "one_line",
    "open_backend",
    "require_dask",
]


class BackendError(ValueError):
    """A backend description is wrong, or its cluster cannot be reached."""


def one_line(error: BaseException) -> str:
    """`TypeName: first line of the message`."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


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

    @classmethod
    def local(cls, workers: int) -> Backend:
        """`workers` local processes; a single one runs here instead (serial)."""
        return cls("serial", 1) if workers <= 1 else cls("processes", workers)

    def capped(self, runs: int) -> Backend:
        """This backend with no more local workers than `local_workers` allows. A scheduler's
        workers are its own."""
        if self.kind not in ("processes", "local") or self.workers is None:
            return self
        return replace(self, workers=local_workers(self.workers, runs))

    def describe(self) -> str:
        if self.kind == "serial":
            return "this process"
        if self.kind == "processes":
            return f"{self.workers} local worker process{'es' if self.workers != 1 else ''}"
        if self.kind == "local":
            return f"a Dask LocalCluster of {self.workers} worker processes on 127.0.0.1"
        return f"the Dask scheduler at {self.address}"


def local_workers(workers: int, runs: int) -> int:
    """`workers`, but no more than the cores, nor than `runs` (at least 1): runs are CPU-bound,
    so more processes than cores only slow each other down while each holds its own Python and
    numpy (about 100 MB; --workers 10000 once started 3,500 of them for two runs)."""
    return max(1, min(workers, cores(), runs))


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


WORKERS_WAIT = 30.0  # seconds for a scheduler with no workers to get one, before saying so


def _await_workers(client: Any, address: str) -> None:
    """A scheduler with no workers would take the runs and never start them: wait a while for
    a worker, then say what to do instead of hanging silently."""
    try:
        client.wait_for_workers(1, timeout=WORKERS_WAIT)
    except TimeoutError:
        raise BackendError(
            f"the Dask scheduler at {address} has had no workers for {WORKERS_WAIT:g} s: start "
            f"them on each machine with 'dask worker {address} --nworkers auto --nthreads 1'"
        ) from None
