"""Size limits, checked from the sizes the user asked for before anything is allocated.

A scalar autograd engine slows down long before memory runs out: a network of a million
weights, a million generated samples or a CSV file of 100 MB is already far beyond what it
trains in reasonable time. Past a limit the command stops with one line naming the limit and
the flag that lifts it, `--allow-large`, instead of running out of memory minutes later.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Sequence
from pathlib import Path

from .arguments import UsageError, file_problem

__all__ = [
    "MAX_CSV_BYTES",
    "MAX_PARAMETERS",
    "MAX_SAMPLES",
    "add_allow_large",
    "check_csv",
    "check_network",
    "check_samples",
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
    if count > MAX_PARAMETERS and not allow_large:
        widths = "-".join(map(str, shape))
        raise UsageError(
            f"a {widths} network has {count:,} weights, over the limit of {MAX_PARAMETERS:,} "
            f"for this scalar engine: use smaller --layers, or {_LIFT}"
        )


def check_samples(samples: int | None, allow_large: bool) -> None:
    if samples is not None and samples > MAX_SAMPLES and not allow_large:
        raise UsageError(
            f"--samples {samples:,} is over the limit of {MAX_SAMPLES:,} generated samples: "
            f"use fewer, or {_LIFT}"
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
