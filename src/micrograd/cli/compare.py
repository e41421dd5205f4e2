"""`micrograd compare`: train each setting of one option over many seeds, then compare them."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any

from rich import box
from rich.markup import escape
from rich.table import Table

from .. import __version__, plots
from ..data import Dataset
from ..loop import DEFAULT_LOSS
from ..run import RunOutcome, RunsSummary, TrainConfig
from ..sweep.backends import Backend, cores, local_workers
from ..sweep.runner import RunRecord, jobs_for, outcome, run_jobs
from ..sweep.spec import MAX_RUNS
from .arguments import (
    PROG,
    UsageError,
    add_command,
    add_output_options,
    add_workers_option,
    count,
    positive_int,
)
from .limits import add_allow_large
from .options import BY_FIELD, OPTIONS, Option, add_config_options, make_config, prepare, show
from .output import console, maybe_progress, mean_std, names, num, plus_minus, write_json
from .pictures import Picture, draw, interrupted
from .runs import Held, check_target, save_run

__all__ = ["register", "run"]

NAME = "compare"
HELP = "train each setting of one option over many seeds and compare"
DESCRIPTION = (
    "Answer 'which setting is better?' with repeated runs: vary ONE option "
    "over two or more values; every other option keeps one value."
)
EXAMPLES = f"""\
examples:
  {PROG} compare --activation tanh relu
  {PROG} compare --optimizer sgd adam --lr 0.05 --epochs 200
  {PROG} compare --lr 0.1 0.5 1.0 --dataset circles --runs 20 --tolerance 0.05
  {PROG} compare --layers 8,1 16,16,1 --mode per-sample --runs 5

Every other option is fixed at the value given (or its default: a real dataset's own, as
train --help lists them); each setting is trained with seeds 0..RUNS-1. Writes compare.png
(every run's final loss and accuracy, per setting) and compare.json into --out. Ctrl-C stops
the runs and saves those finished (status interrupted); while compare.png is drawn it stops
only the drawing, and the comparison is saved all the same (exit status 130).
"""


def register(commands: Any) -> None:
    """Add `compare` to the subcommands."""
    p = add_command(commands, NAME, HELP, DESCRIPTION, EXAMPLES)
    runs = p.add_argument_group("repetition")
    runs.add_argument(
        "--runs",
        type=positive_int,
        default=10,
        metavar="N",
        help="runs per setting, with seeds 0..N-1 (default: 10)",
    )
    add_workers_option(runs)
    add_config_options(p, several=True)
    add_output_options(p, "runs/compare-OPTION, e.g. runs/compare-activation")
    add_allow_large(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    option, values, fixed = _varied(args)
    total = args.runs * len(values)
    if total > MAX_RUNS:  # before any run is listed: --runs 100000000 once filled the memory
        raise UsageError(
            f"--runs {args.runs:,} x {count(len(values), 'setting')} = {total:,} runs, over the "
            f"limit of {MAX_RUNS:,}: give fewer --runs"
        )
    base = make_config(fixed)
    settings: dict[str, tuple[TrainConfig, Dataset]] = {}
    for value in values:
        # Only the options given: each setting takes its dataset's own defaults for the rest.
        config = make_config({**fixed, option.field: value})
        settings[show(option.field, value)] = (
            config,
            prepare(config, args.allow_large),
        )  # all checked first
    runs = args.runs
    seeds = range(runs)
    name = f"compare-{option.flag.lstrip('-')}"
    explicit = args.out is not None
    target = Path(args.out) if explicit else Path("runs") / name
    check_target(target, "--out", numbered=not explicit, force=args.force)
    shown = console()
    # No more processes than cores nor runs (each is a Python with numpy, ~100 MB): the runner
    # caps them so; the line below says the number it starts.
    workers = local_workers(args.workers or cores(), runs * len(settings))
    if args.workers is not None and args.workers > workers:
        print(
            f"{PROG}: note: --workers {args.workers}: using {workers}, no more than the CPU cores "
            f"({cores()}) and the runs ({runs * len(settings)})",
            file=sys.stderr,
        )
    if not args.quiet:
        shown.print(
            f"comparing {option.flag} {' vs '.join(escape(k) for k in settings)}: "
            f"{count(runs, 'run')} each (seeds 0..{runs - 1}), {count(workers, 'worker')}"
        )
    labels = list(settings)
    # Every run goes through the sweep runner, the one way to run many runs.
    jobs = [job for config, _ in settings.values() for job in jobs_for(config, seeds)]
    backend = Backend.local(workers)
    finished: dict[str, list[RunOutcome]] = {label: [] for label in labels}
    failures: list[str] = []
    with maybe_progress(not args.quiet) as progress:
        tasks = (
            [progress.add_task(f"{option.flag} {label}", total=runs, status="") for label in labels]
            if progress is not None
            else []
        )

        def done(i: int, record: RunRecord) -> None:
            index = i // runs
            label = labels[index]
            if record.status == "error":
                failures.append(f"{option.flag} {label}, seed {record.seed}: {record.error}")
            finished[label].append(outcome(record, _metric(settings[label][1])))
            if progress is not None:
                progress.advance(tasks[index])

        try:
            run_jobs(jobs, backend, done)
            completed = True
        except KeyboardInterrupt:  # the runner has dropped the queued runs: keep what finished
            completed = False
    if failures:
        raise UsageError(failures[0])
    summaries = {
        label: RunsSummary(config, _metric(data), sorted(finished[label], key=lambda r: r.seed))
        for label, (config, data) in settings.items()
    }
    done_runs = sum(len(f) for f in finished.values())
    if not completed and done_runs == 0:
        print(f"{PROG}: interrupted before any run finished; nothing to save", file=sys.stderr)
        return 130
    status = "completed" if completed else "interrupted"
    # Ctrl-C is held back from here until the comparison is placed, except while compare.png is
    # drawn: as for `train`, a Ctrl-C then stops the drawing, never the saving of the runs.
    placing = Held()
    picture: Picture = (
        "compare.png",
        lambda out: plots.plot_comparison(
            summaries, out / "compare.png", option=option.flag, loss_name=_loss_name(settings)
        ),
    )
    drawing = not args.no_plots and any(s.finished for s in summaries.values())

    def write(folder: Path, name: str) -> tuple[bool, list[Path], list[str]]:
        before = placing.pressed
        files, not_drawn = draw([picture] if drawing else [], folder, before, None, shown)
        files.append(folder / "compare.json")
        write_json(
            folder / "compare.json",
            {
                "option": option.field,
                "flag": option.flag,
                "values": [show(option.field, v) for v in values],
                "runs": runs,
                "seeds": list(seeds),
                "status": status,
                "finished": done_runs,
                "fixed": base.as_dict(),
                "settings": {label: _summary_json(s) for label, s in summaries.items()},
                "micrograd_version": __version__,
            },
        )
        return before, files, not_drawn

    placed, (held_pressed, written, not_drawn) = save_run(
        target, write, numbered=not explicit, force=args.force, placing=placing
    )
    files = [placed / f.name for f in written]
    where = f"{escape(str(placed))}{os.sep}"
    if not args.quiet or not completed:
        if placed != target:
            shown.print(
                f"{escape(str(target))} already holds files: this comparison went to {where}"
            )
        shown.print(_compare_table(option, summaries))
        if any(s.config.tolerance is not None for s in summaries.values()):
            shown.print(_TOLERANCE_NOTE)
        shown.print(f"wrote {where}: {names(files)}")
    skipped = f"; not drawn: {', '.join(not_drawn)}" if not_drawn else ""
    if not completed:
        print(
            f"{PROG}: interrupted: {done_runs} of {len(jobs)} runs finished; the table shows them "
            f"and {placed}{os.sep}compare.json holds them (status interrupted){skipped}",
            file=sys.stderr,
        )
        return 130
    if not_drawn or placing.pressed:
        when = interrupted(held_pressed, drawing, not_drawn, "compare.png")
        print(
            f"{PROG}: {when}; saved the comparison (status completed) in {placed}{os.sep}{skipped}",
            file=sys.stderr,
        )
        return 130
    return 0


def _metric(data: Dataset) -> str:
    return "rmse" if data.task == "regression" else "accuracy"


def _loss_name(settings: dict[str, tuple[TrainConfig, Dataset]]) -> str | None:
    """The loss every setting trains with, or None when they differ."""
    losses = {config.loss or DEFAULT_LOSS[data.task] for config, data in settings.values()}
    return losses.pop() if len(losses) == 1 else None


def _varied(args: argparse.Namespace) -> tuple[Option, list[Any], dict[str, Any]]:
    """(the option varied, its values, the fixed values) from compare's arguments."""
    given = {o.field: getattr(args, o.field) for o in OPTIONS if o.field != "seed"}
    given = {field: values for field, values in given.items() if values is not None}
    varied = [field for field, values in given.items() if len(values) > 1]
    if not varied:
        raise UsageError(
            "compare needs one option with two or more values to compare, e.g. "
            "--activation tanh relu, --optimizer sgd adam or --lr 0.1 0.5 1"
        )
    if len(varied) > 1:
        flags = " and ".join(BY_FIELD[f].flag for f in varied)
        raise UsageError(
            f"compare varies one option at a time, but {flags} each got several values: "
            "give the others one value each"
        )
    field = varied[0]
    values = given.pop(field)
    texts = [show(field, v) for v in values]
    for text in texts:
        if texts.count(text) > 1:
            raise UsageError(f"{BY_FIELD[field].flag} lists {text} twice: give distinct values")
    if field in ("dataset", "data_path") and ("dataset" in given or "data_path" in given):
        raise UsageError("vary --dataset or --data, not one while fixing the other")
    fixed = {f: v[0] for f, v in given.items()}
    return BY_FIELD[field], list(values), fixed


def _stats_text(stats: dict[str, float], digits: int = 4) -> tuple[str, str]:
    if math.isnan(stats["mean"]):
        return "-", "-"
    return mean_std(stats, digits), f"{num(stats['min'], digits)} / {num(stats['max'], digits)}"


def _compare_table(option: Option, summaries: dict[str, RunsSummary]) -> Table:
    metrics = {s.metric for s in summaries.values()}
    metric = metrics.pop() if len(metrics) == 1 else "accuracy or rmse"
    tolerance = any(s.config.tolerance is not None for s in summaries.values())
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column(option.flag.lstrip("-"), no_wrap=True)
    headers = [
        f"loss\nmean {plus_minus()} std",
        "loss\nmin / max",
        f"{metric}\nmean {plus_minus()} std",
        f"{metric}\nmin / max",
    ]
    if tolerance:  # "converged" means "reached the tolerance": without one it means nothing
        headers += ["converged\nruns", "epochs to\ntolerance"]
    for header in [*headers, "diverged\nruns"]:
        table.add_column(header, justify="right", no_wrap=True)
    for name, s in summaries.items():
        cells = [
            escape(name),
            *_stats_text(s.loss),
            *_stats_text(s.score, 3 if s.metric == "accuracy" else 4),
        ]
        if tolerance:
            to_tol = s.epochs_to_tolerance["mean"]
            cells += [
                f"{s.converged}/{len(s.runs)}",
                "-" if math.isnan(to_tol) else f"{to_tol:.1f}",
            ]
        cells.append(f"{s.diverged}/{len(s.runs)}")
        table.add_row(*cells)
    return table


_TOLERANCE_NOTE = (
    "converged: runs whose training loss reached --tolerance; epochs to tolerance: their mean"
)


def _summary_json(s: RunsSummary) -> dict[str, Any]:
    return {
        "config": s.config.as_dict(),
        "metric": s.metric,
        "loss": s.loss,
        s.metric: s.score,
        "converged": s.converged if s.config.tolerance is not None else None,
        "diverged": s.diverged,
        "epochs_to_tolerance": s.epochs_to_tolerance,
        "runs": [vars(r) | {s.metric: r.metric} for r in s.runs],
    }
