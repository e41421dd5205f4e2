"""`micrograd sweep`: many settings over many seeds, here or on a Dask cluster, resumable.

    micrograd sweep --grid activation=tanh,relu lr=0.01,0.1,1 layers=8,8,1/16,16,1 --seeds 10
    micrograd sweep --file sweep.toml --cluster local:2
    micrograd sweep --resume runs/sweep.db
    micrograd sweep show runs/sweep.db

Grid values and sweep files are read by the same option parsers as `micrograd train`
(`options.OPTIONS`), so every training option can be swept. The runs go through the library's
one runner (`sweep.runner`) and land in a SQLite database, written by this process only. What
runs, and how a stored sweep grows, is planned in `sweep_plan`; the table, exports and pictures
are drawn from the database (`sweep_report`). Sweeping needs the `sweep` extra (Dask),
whichever backend runs it: without it the command says, in one line, `pip install
"micrograd[sweep]"`; `sweep show` reads a database without it.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.markup import escape

from ..sweep import (
    Backend,
    BackendError,
    Plan,
    RunRecord,
    Store,
    StoreError,
    SweepError,
    estimate,
    run_sweep,
)
from ..sweep.backends import cores, require_dask
from ..sweep.prune import successive_halving
from ..sweep.runner import LOST
from .arguments import (
    PROG,
    UsageError,
    add_command,
    add_workers_option,
    non_negative_int,
    positive_int,
)
from .options import OPTIONS
from .output import console, make_folder, maybe_progress
from .sweep_plan import DEFAULT_DB, check_settings, open_sweep
from .sweep_report import add_report_options, heatmap_axes, report

__all__ = ["register", "run", "run_show"]

EXAMPLES = f"""\
examples:
  {PROG} sweep --grid activation=tanh,relu lr=0.01,0.1,1 --seeds 10
  {PROG} sweep --grid activation=tanh,relu lr=0.01,0.1,1 layers=8,8,1/16,16,1 epochs=50 \\
      --cluster local:2 --db grid.db
  {PROG} sweep --random 20 --grid lr=0.001..1 l2=0..0.001 optimizer=sgd,adam --seeds 5
  {PROG} sweep --file sweep.toml --scheduler tcp://10.0.0.5:8786
  {PROG} sweep --resume runs/sweep.db     finish a sweep that was stopped
  {PROG} sweep show runs/sweep.db --csv runs.csv --heatmap lr,activation

--grid KEY=V1,V2,... takes any training option of '{PROG} train' by name (lr, activation,
layers, optimizer, batch-size, epochs, dataset, ...); a key with one value is fixed. Layer lists
are separated by '/': layers=8,8,1/16,16,1. 'none' unsets an optional value (batch-size=none).
With --random N, KEY=LOW..HIGH is a range drawn N times: log-uniform for lr, uniform otherwise
(add :log or :linear to choose). Runs are stored in --db as they finish; a sweep stopped at any
moment is finished by --resume. See docs/sweeps.md for sweep files and multi-machine clusters.
"""


NAME = "sweep"
HELP = "train a grid or random search of settings over many seeds, resumable"
DESCRIPTION = (
    "Train every setting of a grid (or a random search) over many seeds, on local processes "
    "or a Dask cluster; store every run in a SQLite database; rank the settings and draw them."
)
SHOW_EXAMPLES = f"""\
examples:
  {PROG} sweep show runs/sweep.db
  {PROG} sweep show runs/sweep.db --top 5 --csv runs.csv --json sweep.json --heatmap lr,layers
"""


def register(commands: Any) -> None:
    """Add `sweep` (and `sweep show`) to the subcommands."""
    p = add_command(commands, NAME, HELP, DESCRIPTION, EXAMPLES)
    what = p.add_argument_group("what to sweep (one of --grid, --file, --resume)")
    what.add_argument(
        "--grid",
        nargs="+",
        action="extend",  # --grid a=1,2 --grid b=3 is one grid: a repeated flag drops nothing
        metavar="KEY=VALUES",
        default=None,
        help="values of training options, e.g. lr=0.01,0.1,1 activation=tanh,relu",
    )
    what.add_argument(
        "--file", metavar="SWEEP.toml", default=None, help="a TOML sweep file (see docs/sweeps.md)"
    )
    what.add_argument(
        "--resume",
        metavar="SWEEP.db",
        default=None,
        help="finish the sweep stored in this database: runs stored are skipped; runs the "
        "backend lost (a worker or the scheduler died) were never stored and run again",
    )
    what.add_argument(
        "--retry-errors",
        action="store_true",
        help="with --resume: run again the runs that raised an error (they are kept otherwise)",
    )
    fixed = p.add_argument_group(
        "fixed training options (the same in every run; as KEY=VALUE in --grid too)"
    )
    for option in OPTIONS:
        if option.field != "seed":  # the seeds are --seeds
            fixed.add_argument(
                option.flag,
                dest=f"fixed_{option.field}",
                metavar=option.metavar or "VALUE",
                default=None,
                help=f"{option.help} (default: the train command's)",
            )
    what.add_argument(
        "--seeds",
        type=positive_int,
        default=None,
        metavar="N",
        help="runs per setting, with seeds 0..N-1 (default: 10, or the file's)",
    )
    what.add_argument(
        "--random",
        type=positive_int,
        default=None,
        metavar="N",
        help="random search: N settings drawn from the ranges and value lists",
    )
    what.add_argument(
        "--random-seed",
        type=non_negative_int,
        default=None,
        metavar="N",
        help="seed of the random search's draws (default: 0)",
    )
    where = p.add_argument_group("where to run (default: local worker processes)")
    backends = where.add_mutually_exclusive_group()
    add_workers_option(backends)
    backends.add_argument(
        "--cluster",
        metavar="local:N",
        default=None,
        help="start a Dask LocalCluster of N worker processes on 127.0.0.1",
    )
    backends.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        default=None,
        help="use the running Dask cluster of this scheduler",
    )
    where.add_argument(
        "--db",
        metavar="SWEEP.db",
        default=None,
        help=f"the database to create (default: {DEFAULT_DB}, its pictures in "
        f"{DEFAULT_DB.with_name(DEFAULT_DB.stem + '-plots')}/); never overwritten",
    )
    where.add_argument(
        "--prune",
        action="store_true",
        help="screen the settings first (successive halving: a ninth of the epochs, then a "
        "third, the best third going on each time) and run only the survivors in full",
    )
    where.add_argument(
        "--dry-run",
        action="store_true",
        help="print the number of runs and an estimate of the time; run nothing",
    )
    add_report_options(p)
    sub = p.add_subparsers(dest="sweep_command", title="a stored sweep", metavar="show SWEEP.db")
    show = add_command(
        sub,
        "show",
        "re-render a sweep's table, files and pictures from its database",
        "Rank a sweep's settings and draw them from its database, running nothing.",
        SHOW_EXAMPLES,
    )
    show.add_argument("db", metavar="SWEEP.db", help="the sweep's database")
    add_report_options(show)
    show.set_defaults(run=run_show)
    p.set_defaults(run=run)


def _backend(args: argparse.Namespace) -> Backend:
    if args.cluster is not None:
        if not args.cluster.startswith("local:"):
            raise UsageError(
                f"--cluster {args.cluster}: expected local:N, e.g. local:2 "
                "(for a running cluster, give --scheduler tcp://HOST:PORT)"
            )
        return Backend.parse(args.cluster)
    if args.scheduler is not None:
        return Backend.parse(args.scheduler)
    return Backend.local(args.workers or os.cpu_count() or 1)


def _capped(backend: Backend, runs: int, args: argparse.Namespace) -> Backend:
    """`backend` with no more local workers than cores nor than runs; a cap on a number the
    user gave is said in a note on stderr."""
    capped = backend.capped(runs)
    asked = args.workers if args.cluster is None else backend.workers
    if capped.workers != backend.workers and asked is not None and asked > (capped.workers or 1):
        flag = f"--workers {args.workers}" if args.cluster is None else f"--cluster {args.cluster}"
        why = (
            f"one per run ({runs} to run)"
            if runs < cores()
            else f"one per CPU core ({cores()} here; more would only slow each other down)"
        )
        print(f"{PROG}: note: {flag}: using {capped.workers}, {why}", file=sys.stderr)
    return capped


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _dry_run(plan: Plan, remaining: list[Any], backend: Backend, db: Path) -> int:
    shown = console()
    total = plan.runs
    shown.print(
        f"{len(plan.settings)} settings x {len(plan.seeds)} seeds = {total} runs"
        + (f", {len(remaining)} not in {escape(str(db))} yet" if total != len(remaining) else "")
    )
    if plan.varied:
        shown.print(f"swept: {', '.join(plan.varied)}")
    guess = estimate(remaining, backend.workers)
    shown.print(
        f"estimate: about {_duration(guess.seconds)} on {backend.describe()} "
        f"({guess.seconds_per_run:.2f} s per run, from {guess.epochs_timed} epochs of "
        f"{guess.timed} setting{'s' if guess.timed != 1 else ''}; runs that stop early at "
        "--tolerance or --patience take less, and a Dask cluster needs a few seconds to start)"
    )
    stored = "the runs would go to" if total == len(remaining) else "the new runs would join"
    shown.print(f"{stored} {escape(str(db))} (a dry run writes nothing)")
    return 0


def run(args: argparse.Namespace) -> int:
    # Sweeps are the `sweep` extra's audience: without Dask the command says how to install it
    # before anything else, whichever backend was asked for (`sweep show` needs no Dask).
    require_dask(f"{PROG} sweep")
    try:
        return _run(args)
    except (SweepError, StoreError, BackendError) as e:
        raise UsageError(str(e)) from None


def _run(args: argparse.Namespace) -> int:
    backend = _backend(args)
    store, plan, db = open_sweep(args)
    try:
        check_settings(plan)
        heatmap_axes(plan, args.heatmap)
        remaining = store.remaining() if store is not None else plan.jobs()
        backend = _capped(backend, len(remaining), args)
        if args.dry_run:
            return _dry_run(plan, remaining, backend, db)
        if store is None:
            if args.prune:
                pruning = successive_halving(plan, backend, args.metric)
                plan = replace(pruning.plan, description=pruning.describe())
                if not args.quiet:
                    console().print(f"sweep: {pruning.describe()}")
            if args.db is None:
                make_folder(db.parent)  # runs/, as for `train`
            store = Store.create(db, plan)
        return _execute(args, store, plan, backend, db)
    finally:
        if store is not None:
            store.close()


def _execute(args: argparse.Namespace, store: Store, plan: Plan, backend: Backend, db: Path) -> int:
    shown = console()
    total = plan.runs
    left = len(store.remaining())
    if not args.quiet:
        again = f", {total - left} already stored" if left != total else ""
        shown.print(
            f"sweep: {len(plan.settings)} settings x {len(plan.seeds)} seeds = {total} "
            f"runs{again}, on {backend.describe()}; storing in {escape(str(db))}"
        )
    try:
        with maybe_progress(not args.quiet) as progress:
            task = (
                progress.add_task("runs", total=total, completed=total - left, status="")
                if progress is not None
                else None
            )

            def done(record: RunRecord, stored: int, planned: int) -> None:
                if record.status == LOST:
                    lost.append(record)
                if progress is not None and task is not None:
                    status = "" if record.status == "finished" else f"last: {record.status}"
                    progress.update(task, completed=stored, status=status)

            lost: list[RunRecord] = []
            run_sweep(store, backend, done)
    except KeyboardInterrupt:
        print(
            f"{PROG}: interrupted: {store.count()} of {total} runs are stored in {db}; "
            f"finish with '{PROG} sweep --resume {db}'",
            file=sys.stderr,
        )
        return 130
    status = report(args, store, db)
    if lost:
        print(
            f"{PROG}: the backend lost {len(lost)} run{'s' if len(lost) > 1 else ''} "
            f"({lost[0].error}); nothing was stored for them: run them with "
            f"'{PROG} sweep --resume {db}'",
            file=sys.stderr,
        )
        return 1
    return status


def run_show(args: argparse.Namespace) -> int:
    try:
        with Store.open(args.db) as store:
            return report(args, store, Path(args.db))
    except (SweepError, StoreError) as e:
        raise UsageError(str(e)) from None
