"""Size limits, checked from the sizes the user asked for before anything is allocated.

A scalar autograd engine slows down long before memory runs out: a network of a million
weights, a million generated samples or a CSV file of 100 MB is already far beyond what it
trains in reasonable time. Past a limit the command stops with one line naming the limit and
the flag that lifts it, `--allow-large`, instead of running out of memory minutes later.

`--allow-large` lifts the limits, not the machine's memory: what needs more memory than the
machine has available (`available_memory`) is refused all the same, with the estimate
(`check_memory`), instead of a numpy traceback or growing until the system kills it.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import resource
from collections.abc import Sequence
from pathlib import Path

from .arguments import UsageError, file_problem

__all__ = [
    "MAX_CSV_BYTES",
    "MAX_PARAMETERS",
    "MAX_SAMPLES",
    "add_allow_large",
    "available_memory",
    "check_csv",
    "check_memory",
    "check_network",
    "check_samples",
    "memory_needed",
    "parameters",
]

MAX_PARAMETERS = 1_000_000
MAX_SAMPLES = 1_000_000
MAX_CSV_BYTES = 100 * 2**20

_LIFT = "add --allow-large to go beyond it"


def add_allow_large(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-large",
        action="store_true",
        help=f"lift the size limits: {MAX_PARAMETERS:,} network weights, {MAX_SAMPLES:,} "
        f"generated samples, {MAX_CSV_BYTES // 2**20} MB per CSV file (default: keep them)",
    )


def parameters(shape: Sequence[int]) -> int:
    """Weights and biases of an MLP whose layer widths, inputs first, are `shape`."""
    return sum((nin + 1) * nout for nin, nout in itertools.pairwise(shape))


def check_network(shape: Sequence[int], allow_large: bool) -> None:
    count = parameters(shape)
    widths = "-".join(map(str, shape))
    if count > MAX_PARAMETERS and not allow_large:
        raise UsageError(
            f"a {widths} network has {count:,} weights, over the limit of {MAX_PARAMETERS:,} "
            f"for this scalar engine: use smaller --layers, or {_LIFT}"
        )
    _fits(count * _BYTES_PER_WEIGHT["batched"], f"a {widths} network", "use smaller --layers")


def check_samples(samples: int | None, allow_large: bool) -> None:
    if samples is not None and samples > MAX_SAMPLES and not allow_large:
        raise UsageError(
            f"--samples {samples:,} is over the limit of {MAX_SAMPLES:,} generated samples: "
            f"use fewer, or {_LIFT}"
        )
    if samples is not None:
        # Before the data exists: the generated sets have at most 2 features and 1 target.
        _fits(samples * 3 * _BYTES_PER_VALUE, f"--samples {samples:,}", "use fewer samples")


# Measured peaks of `micrograd train` (Linux, CPython 3.11): a weight costs about 160 bytes in
# batched mode (its array entries: value, gradient, optimizer state, kept copies, and the float
# it becomes in model.json) and about 950 per sample (a Value object with its graph); a sample
# about 32 bytes per input and target value (the data, its split and standardised copies) and
# 32 bytes per unit of each layer it passes through at once (activations and their gradients).
_BYTES_PER_WEIGHT = {"batched": 160, "per-sample": 950}
_BYTES_PER_VALUE = 32
_BYTES_PER_UNIT = 32


def memory_needed(shape: Sequence[int], samples: int, at_once: int, mode: str = "batched") -> int:
    """About how many bytes training a network of layer widths `shape` (inputs first) on
    `samples` samples takes, when `at_once` of them go through the network together (the
    batch; 1 per sample)."""
    data = samples * (shape[0] + 1) * _BYTES_PER_VALUE
    activations = at_once * sum(shape[1:]) * _BYTES_PER_UNIT
    return parameters(shape) * _BYTES_PER_WEIGHT[mode] + data + activations


def check_memory(
    shape: Sequence[int], samples: int, at_once: int, mode: str, what: str, advice: str
) -> None:
    """Refuse, naming `what` and with `advice`, a run that needs more memory than available."""
    _fits(memory_needed(shape, samples, at_once, mode), what, advice)


def available_memory() -> int | None:
    """Bytes this process can still allocate: the system's available memory, lowered by a
    cgroup (container) limit or an address-space limit (ulimit -v); None when unknown."""
    found: list[int] = []
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    if not found:
        with contextlib.suppress(AttributeError, ValueError, OSError):
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        with contextlib.suppress(OSError, ValueError):
            limit = int(Path(limit_file).read_text().strip())  # "max": no limit, ValueError
            if limit < 2**60:  # cgroup v1 says "no limit" with a huge number
                found.append(max(0, limit - int(Path(usage_file).read_text().strip())))
    with contextlib.suppress(OSError, ValueError):
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            pages = int(Path("/proc/self/statm").read_text().split()[0])
            found.append(max(0, soft - pages * os.sysconf("SC_PAGE_SIZE")))
    return min(found) if found else None


def _gb(n: float) -> str:
    gb = n / 1e9
    return f"{gb:,.0f} GB" if gb >= 10 else f"{gb:.1f} GB" if gb >= 0.1 else f"{gb:.2f} GB"


def _fits(need: float, what: str, advice: str) -> None:
    have = available_memory()
    if have is not None and need > have:
        raise UsageError(
            f"{what} needs about {_gb(need)} of memory, and this machine has {_gb(have)} "
            f"available: {advice}"
        )


def check_csv(path: Path, flag: str, allow_large: bool) -> None:
    """`path` is a regular file within the size limit."""
    problem = file_problem(path)
    if problem is not None:
        raise UsageError(f"{flag} {path} {problem}: expected a CSV file of numbers")
    size = path.stat().st_size
    if size > MAX_CSV_BYTES and not allow_large:
        raise UsageError(
            f"{flag} {path} is {size / 2**20:.0f} MB, over the limit of "
            f"{MAX_CSV_BYTES // 2**20} MB per CSV file: {_LIFT}"
        )
