"""The command-line options every benchmark script shares: which contenders to leave out, and
where the JSON results go."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path


def add_contender_options(
    ap: argparse.ArgumentParser, contenders: Sequence[str], results: Path
) -> None:
    """`--skip NAME` (repeatable) and `--json PATH` (default `results`)."""
    ap.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=list(contenders),
        help="leave a contender out (repeatable)",
    )
    ap.add_argument(
        "--json",
        type=Path,
        default=results,
        help=f"where to write the results (default bench/results/{results.name})",
    )
