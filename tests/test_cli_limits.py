"""Sizes the machine cannot take are refused in one line, before anything is built (issue 26,
defects 6-8), through the installed command: local workers are capped at the cores and the runs,
a sweep at 100,000 runs, a run at the memory the machine has.

The commands that once grew until the system killed them run here under an address-space
limit (ulimit -v), so that without the checks they would fail fast instead of taking the
machine's memory.
"""

from __future__ import annotations

import itertools
import os
import random
import resource
import subprocess
from pathlib import Path

import pytest
from cli_helpers import installed, one_error

from micrograd.cli.limits import available_memory, memory_needed
from micrograd.cli.sweep_plan import parameters
from micrograd.sweep import Sweep, parse_grid

ADDRESS_SPACE = 3 * 2**30


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def micrograd(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return installed(args, cwd, preexec_fn=limit_memory)


def cores() -> int:
    return len(os.sched_getaffinity(0))


# -- 6: workers ---------------------------------------------------------------------------------


def test_sweep_workers_are_capped_at_the_cores_and_the_runs_with_a_note(tmp_path: Path) -> None:
    args = ["--grid", "lr=0.1,1", "--seeds", "1", "--epochs", "2", "--workers", "50"]
    done = micrograd(["sweep", *args, "--db", "s.db", "--dry-run"], tmp_path)
    assert done.returncode == 0, done.stderr
    used = min(cores(), 2)
    assert f"on {used} local worker process" in done.stdout, done.stdout
    assert done.stderr.startswith(f"micrograd: note: --workers 50: using {used}, one per")
    done = micrograd(["sweep", *args, "--db", "s.db", "--quiet"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"--workers 50: using {used}" in done.stderr


def test_compare_workers_are_capped_with_a_note(tmp_path: Path) -> None:
    args = ["compare", "--lr", "0.1", "0.3", "--runs", "1", "--epochs", "2", "--samples", "30"]
    done = micrograd([*args, "--workers", "10000", "--no-plots", "--out", "c"], tmp_path)
    assert done.returncode == 0, done.stderr
    used = min(cores(), 2)
    assert f"--workers 10000: using {used}, no more than the CPU cores" in done.stderr
    assert f"{used} worker" in done.stdout, done.stdout


def test_compare_over_the_run_limit_is_refused_before_listing_its_runs(tmp_path: Path) -> None:
    """Regression: --runs 100000000 listed every run first, until memory ran out."""
    done = micrograd(["compare", "--lr", "0.1", "0.3", "--runs", "100000000"], tmp_path)
    one_error(done, "--runs 100,000,000 x 2 settings = 200,000,000 runs", "limit of 100,000")
    assert not (tmp_path / "runs").exists()


# -- 7: sweep sizes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--grid", "lr=0.1,1", "--seeds", "100000000"],
        ["--random", "1000000000", "--grid", "lr=0.001..1"],
        ["--random", "100000", "--grid", "lr=0.001..1", "--seeds", "2"],
    ],
    ids=["seeds", "random", "random-times-seeds"],
)
def test_a_sweep_over_the_run_limit_is_refused_in_one_line(tmp_path: Path, args: list[str]) -> None:
    done = micrograd(["sweep", *args, "--dry-run", "--db", "s.db"], tmp_path)
    one_error(done, "over the limit of 100,000 runs per sweep")
    assert list(tmp_path.iterdir()) == []


def test_a_sweep_file_over_the_run_limit_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.toml").write_text("seeds = 1000000000\n[grid]\nlr = [0.1, 1]\n")
    done = micrograd(["sweep", "--file", "big.toml", "--dry-run", "--db", "s.db"], tmp_path)
    one_error(done, "big.toml", "2,000,000,000 runs", "over the limit of 100,000 runs")


def test_growing_a_stored_sweep_past_the_run_limit_is_refused(tmp_path: Path) -> None:
    small = ["--grid", "lr=0.1", "--seeds", "1", "--epochs", "1", "--workers", "1", "--quiet"]
    assert micrograd(["sweep", *small, "--db", "s.db"], tmp_path).returncode == 0
    done = micrograd(["sweep", "--resume", "s.db", "--seeds", "100000000", "--quiet"], tmp_path)
    one_error(done, "100,000,000 seeds", "over the limit of 100,000 runs")


def test_a_random_sample_of_a_grid_draws_what_sampling_its_listed_product_did() -> None:
    """The grid is never listed for `--random N`: the draws are those of `random.sample` over
    the listed product, so stored random searches keep their settings."""
    grid, _ = parse_grid(
        ["lr=0.01,0.1,1", "activation=tanh,relu", "epochs=5,10,20,40", "l2=0,0.001"], parameters()
    )
    sweep = Sweep(grid=grid, draws=7, seeds=range(2), random_seed=3)
    names = list(grid)
    product = [
        dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())
    ]
    expected = random.Random(3).sample(product, 7)
    drawn = [{k: getattr(c, k) for k in names} for c in sweep.settings()]
    assert drawn == expected


def test_a_random_sample_of_a_huge_grid_is_drawn_without_listing_the_grid(
    tmp_path: Path,
) -> None:
    """4 fields of 100 values: 100,000,000 combinations, of which --random draws 3."""
    grid = [
        "epochs=" + ",".join(str(e) for e in range(1, 101)),
        "samples=" + ",".join(str(n) for n in range(20, 120)),
        "lr=" + ",".join(f"{0.01 * k:g}" for k in range(1, 101)),
        "l2=" + ",".join(f"{0.0001 * k:g}" for k in range(100)),
    ]
    args = ["--random", "3", "--seeds", "1", "--grid", *grid, "--dry-run", "--db", "s.db"]
    done = micrograd(["sweep", *args], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("3 settings x 1 seeds = 3 runs")


# -- 8: memory ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["--samples", "1000000000000"], "1,000,000,000,000"),
        (["--layers", "100000,100000,1"], "a 2-100000-100000-1 network"),
    ],
    ids=["samples", "layers"],
)
def test_a_run_larger_than_the_memory_is_refused_with_the_estimate(
    tmp_path: Path, args: list[str], what: str
) -> None:
    done = micrograd(["train", *args, "--allow-large", "--out", "r"], tmp_path)
    line = one_error(done, what, "GB of memory, and this machine has", "GB available")
    assert list(tmp_path.iterdir()) == []
    assert "needs about" in line


def test_the_memory_check_heeds_an_address_space_limit(tmp_path: Path) -> None:
    """3,000,000 samples need about 3.5 GB, more than the 3 GB this test allows the command."""
    assert memory_needed([2, 16, 16, 1], 3_000_000, 3_000_000) > ADDRESS_SPACE
    done = micrograd(["train", "--samples", "3000000", "--allow-large", "--out", "r"], tmp_path)
    one_error(done, "3,000,000 samples", "needs about 3.5 GB")
    assert list(tmp_path.iterdir()) == []


def test_available_memory_is_known_here() -> None:
    have = available_memory()
    assert have is not None and have > 0
