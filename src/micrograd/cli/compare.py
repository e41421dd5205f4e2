"""`micrograd compare`: train each setting of one option over many seeds, then compare them."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from rich import box
from rich.markup import escape
from rich.progress import Progress, TaskID
from rich.table import Table

from .. import __version__, plots
from ..train import RunsSummary, TrainConfig, evaluate
from .arguments import PROG, UsageError, add_command, add_output_options, positive_int
from .options import BY_FIELD, OPTIONS, Option, add_config_options, make_config, prepare, show
from .output import console, make_folder, maybe_progress, names, num, write_json

__all__ = ["register", "run"]

_T = TypeVar("_T")

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

Every other option is fixed at the value given (or its default); each setting is trained
with seeds 0..RUNS-1. Writes compare.png (every run's final loss and accuracy, per setting)
and compare.json into --out.
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
    runs.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="N",
        help="processes to train in; 1 trains here, serially (default: one per "
        f"CPU core, {os.cpu_count() or 1} on this machine)",
    )
    add_config_options(p, several=True)
    add_output_options(p, "runs/compare-OPTION, e.g. runs/compare-activation")
    p.set_defaults(run=run)


class _CountingExecutor(Executor):
    """Hands `evaluate`'s runs to a pool (or runs them here) and reports each one finished."""

    def __init__(self, pool: Executor | None, done: Callable[[], None]) -> None:
        self.pool = pool
        self.done = done

    def map(
        self,
        fn: Callable[..., _T],
        *iterables: Iterable[Any],
        timeout: float | None = None,
        chunksize: int = 1,
    ) -> Iterator[_T]:
        results = (
            self.pool.map(fn, *iterables, timeout=timeout)
            if self.pool is not None
            else map(fn, *iterables)
        )
        for result in results:
            self.done()
            yield result


def run(args: argparse.Namespace) -> int:
    option, values, fixed = _varied(args)
    base = make_config(fixed)
    settings: dict[str, TrainConfig] = {}
    for value in values:
        config = make_config({**base.as_dict(), option.field: value})
        prepare(config)  # every setting is checked before any run starts
        settings[show(option.field, value)] = config
    runs = args.runs
    seeds = range(runs)
    name = f"compare-{option.flag.lstrip('-')}"
    out = Path(args.out) if args.out is not None else Path("runs") / name
    make_folder(out)
    shown = console()
    workers = min(args.workers or os.cpu_count() or 1, runs)
    if not args.quiet:
        shown.print(
            f"comparing {option.flag} {' vs '.join(escape(k) for k in settings)}: {runs} runs "
            f"each (seeds 0..{runs - 1}), {workers} worker{'s' if workers > 1 else ''}"
        )
    summaries: dict[str, RunsSummary] = {}
    with contextlib.ExitStack() as stack:
        pool = stack.enter_context(ProcessPoolExecutor(workers)) if workers > 1 else None
        progress = stack.enter_context(maybe_progress(not args.quiet))
        try:
            for label, config in settings.items():
                task = (
                    progress.add_task(f"{option.flag} {label}", total=runs, status="")
                    if progress is not None
                    else None
                )

                def done(task: TaskID | None = task, progress: Progress | None = progress) -> None:
                    if progress is not None and task is not None:
                        progress.advance(task)

                summaries[label] = evaluate(config, seeds, executor=_CountingExecutor(pool, done))
        except BaseException:
            if pool is not None:  # on Ctrl-C, drop the queued runs instead of waiting for them
                pool.shutdown(wait=False, cancel_futures=True)
            raise
    files = []
    if not args.no_plots:
        files.append(plots.plot_comparison(summaries, out / "compare.png", option=option.flag))
    else:
        with contextlib.suppress(FileNotFoundError):
            (out / "compare.png").unlink()
    json_path = out / "compare.json"
    files.append(json_path)
    write_json(
        json_path,
        {
            "option": option.field,
            "flag": option.flag,
            "values": [show(option.field, v) for v in values],
            "runs": runs,
            "seeds": list(seeds),
            "fixed": base.as_dict(),
            "settings": {label: _summary_json(s) for label, s in summaries.items()},
            "micrograd_version": __version__,
        },
    )
    if not args.quiet:
        shown.print(_compare_table(option, summaries))
        shown.print(_compare_note(summaries))
        shown.print(f"wrote {escape(str(out))}{os.sep}: {names(files)}")
    return 0


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
    return (
        f"{num(stats['mean'], digits)} ± {num(stats['std'], digits)}",
        f"{num(stats['min'], digits)} / {num(stats['max'], digits)}",
    )


def _compare_table(option: Option, summaries: dict[str, RunsSummary]) -> Table:
    metrics = {s.metric for s in summaries.values()}
    metric = metrics.pop() if len(metrics) == 1 else "accuracy or rmse"
    tolerance = any(s.config.tolerance is not None for s in summaries.values())
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column(option.flag.lstrip("-"), no_wrap=True)
    headers = [
        "loss\nmean ± std",
        "loss\nmin / max",
        f"{metric}\nmean ± std",
        f"{metric}\nmin / max",
        "converged\nruns",
    ]
    if tolerance:
        headers.append("epochs to\ntolerance")
    for header in [*headers, "diverged\nruns"]:
        table.add_column(header, justify="right", no_wrap=True)
    for name, s in summaries.items():
        cells = [
            escape(name),
            *_stats_text(s.loss),
            *_stats_text(s.score, 3 if s.metric == "accuracy" else 4),
            f"{s.converged}/{len(s.runs)}",
        ]
        if tolerance:
            to_tol = s.epochs_to_tolerance["mean"]
            cells.append("-" if math.isnan(to_tol) else f"{to_tol:.1f}")
        cells.append(f"{s.diverged}/{len(s.runs)}")
        table.add_row(*cells)
    return table


def _compare_note(summaries: dict[str, RunsSummary]) -> str:
    if any(s.config.tolerance is not None for s in summaries.values()):
        return (
            "converged: runs whose training loss reached --tolerance; epochs to tolerance: "
            "their mean"
        )
    return (
        "converged: runs that finished without diverging (give --tolerance LOSS to count "
        "the runs that reach that loss, and how many epochs they take)"
    )


def _summary_json(s: RunsSummary) -> dict[str, Any]:
    return {
        "config": s.config.as_dict(),
        "metric": s.metric,
        "loss": s.loss,
        s.metric: s.score,
        "converged": s.converged,
        "diverged": s.diverged,
        "epochs_to_tolerance": s.epochs_to_tolerance,
        "runs": [vars(r) | {s.metric: r.metric} for r in s.runs],
    }
