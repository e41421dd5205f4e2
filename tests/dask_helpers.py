"""Real Dask processes on loopback for the sweep tests: a scheduler, and workers for it."""

from __future__ import annotations

import socket
import subprocess
import sys

QUIET = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}


def free_port() -> int:
    """A loopback port free at the moment of asking."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dask_scheduler(port: int) -> subprocess.Popen[bytes]:
    """A `dask scheduler` process on 127.0.0.1:`port`, without a dashboard; the caller kills it."""
    program = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    return subprocess.Popen(
        [*program, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **QUIET
    )


def dask_workers(address: str, count: int) -> subprocess.Popen[bytes]:
    """`count` single-threaded `dask worker` processes for the scheduler at `address`."""
    program = [sys.executable, "-m", "distributed.cli.dask_worker", address]
    return subprocess.Popen(
        [*program, "--nthreads", "1", "--nworkers", str(count), "--no-dashboard"], **QUIET
    )
