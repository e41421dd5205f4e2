"""What `micrograd sweep` shows and writes from a sweep's database: the ranked table of settings
(mean ± std over seeds, convergence counts), CSV/JSON exports and the pictures (`sweep_plots`).
"""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from .. import sweep_plots
from ..sweep import SettingResult, Store, StoreError, runs_csv, summarise, summary_json
from ..sweep.results import METRICS, higher_is_better, show_value
from ..sweep.spec import SweepError
from ..sweep.store import Plan
from .arguments import UsageError, positive_int
from .output import console, make_folder, mean_std, names, plus_minus, write_json, write_text

__all__ = ["add_report_options", "heatmap_axes", "report", "table"]


def add_report_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output")
    group.add_argument(
        "--top",
        type=positive_int,
        default=15,
        metavar="N",
        help="settings shown in the table, best first (default: 15)",
    )
    group.add_argument(
        "--metric",
        choices=METRICS,
        default=None,
        help="the score that ranks the settings (default: val_accuracy or val_rmse when the runs "
        "kept validation data, else test_, else the training score)",
    )
    group.add_argument(
        "--csv",
        metavar="FILE.csv",
        default=None,
        help="write every run (swept values, seed, status, metrics) as CSV",
    )
    group.add_argument(
        "--json",
        metavar="FILE.json",
        default=None,
        help="write the ranked settings and every run as JSON",
    )
    group.add_argument(
        "--plots",
        metavar="DIR",
        default=None,
        help="folder for the pictures (default: beside the database, SWEEP-plots/)",
    )
    group.add_argument(
        "--heatmap",
        metavar="X,Y",
        default=None,
        help="the two swept parameters of the heatmap (default: the two with the most values)",
    )
    group.add_argument("--no-plots", action="store_true", help="skip the PNG pictures")
    group.add_argument(
        "--quiet",
        action="store_true",
        help="print nothing but errors (default: progress bar and table)",
    )


def table(plan: Plan, results: list[SettingResult], top: int) -> Table:
    """The best `top` settings: swept values, score and loss over seeds, run counts."""
    metric = results[0].metric if results else "accuracy"
    errors = any(r.errors for r in results)
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("#", justify="right")
    for name in plan.varied or ["setting"]:
        t.add_column(name, overflow="fold")  # a value is folded onto lines, never cut
    headers = [
        f"{metric}\nmean {plus_minus()} std",
        f"loss\nmean {plus_minus()} std",
        "seeds",
        "converged",
        "diverged",
    ]
    headers += ["errors"] if errors else []
    headers += ["epochs\nmean", "seconds\nper run"]
    for header in headers:
        t.add_column(header, justify="right", no_wrap=True)
    for rank, r in enumerate(results[:top], 1):
        s = r.summary
        counted = len(s.runs)
        epochs = [rec.epochs for rec in r.records if rec.status == "finished"]
        seconds = [rec.seconds for rec in r.records]
        cells = [str(rank), *(escape(show_value(r.values[k])) for k in plan.varied)]
        if not plan.varied:
            cells.append("(one setting)")
        cells += [
            mean_std(s.score, 3 if higher_is_better(metric) else 4),
            mean_std(s.loss, 4),
            f"{len(r.records)}/{r.planned}",
            f"{s.converged}/{counted}",
            f"{s.diverged}/{counted}",
        ]
        if errors:
            cells.append(str(len(r.errors)))
        cells += [
            f"{statistics.fmean(epochs):.0f}" if epochs else "-",
            f"{statistics.fmean(seconds):.2f}" if seconds else "-",
        ]
        t.add_row(*cells)
    return t


def heatmap_axes(plan: Plan, text: str | None) -> tuple[str, str] | None:
    """The parameters `--heatmap X,Y` names, checked against the plan (None when not given):
    called before a sweep runs, so a typo costs nothing."""
    if text is not None:
        x, comma, y = text.partition(",")
        wanted = [n.strip().replace("-", "_") for n in (x, y)]
        if not comma or not all(wanted):
            raise UsageError(f"--heatmap {text}: expected two swept parameters, e.g. lr,activation")
        for name in wanted:
            if name not in plan.varied:
                raise UsageError(
                    f"--heatmap {text}: {name} is not swept (swept: "
                    f"{', '.join(plan.varied) or 'nothing'})"
                )
        if wanted[0] == wanted[1]:
            raise UsageError(f"--heatmap {text}: give two different parameters")
        return wanted[0], wanted[1]
    return None


def _default_axes(plan: Plan, results: list[SettingResult]) -> tuple[str, str] | None:
    """The two swept parameters with the most values."""
    if len(plan.varied) < 2:
        return None
    sizes = {k: len({show_value(r.values[k]) for r in results}) for k in plan.varied}
    x, y = sorted(plan.varied, key=lambda k: -sizes[k])[:2]
    return x, y


def _pictures(
    args: argparse.Namespace, plan: Plan, results: list[SettingResult], db: Path
) -> list[Path]:
    axes = heatmap_axes(plan, args.heatmap) or _default_axes(plan, results)
    if args.no_plots or not any(r.records for r in results):
        return []
    out = Path(args.plots) if args.plots is not None else db.with_name(f"{db.stem}-plots")
    make_folder(out)
    files = []
    if plan.varied and plan.is_random():  # no grid to map: each setting drew its own values
        files.append(sweep_plots.plot_scatter(results, out / "scatter.png"))
    else:
        if axes is not None:
            files.append(sweep_plots.plot_heatmap(results, *axes, out / "heatmap.png"))
        if plan.varied:
            files.append(sweep_plots.plot_boxes(results, out / "boxes.png"))
    if len(plan.varied) >= 2:
        files.append(sweep_plots.plot_parallel(results, out / "parallel.png"))
    best = results[0]
    if any(rec.history for rec in best.records):
        files.append(sweep_plots.plot_best_curves(best, out / "best_curves.png"))
    return files


def report(args: argparse.Namespace, store: Store, db: Path) -> int:
    """Table, exports and pictures of the sweep in `store`."""
    plan = store.plan()
    try:
        # histories only for what is drawn: the best setting's curves
        results = summarise(plan, store.records(histories=False), args.metric)
        if results:
            results[0].records = sorted(store.records(key=results[0].key), key=lambda r: r.seed)
    except (SweepError, StoreError) as e:
        raise UsageError(str(e)) from None
    counts = store.counts_by_status()
    total = plan.runs
    written: list[Path] = []
    if args.csv is not None:
        path = Path(args.csv)
        write_text(path, runs_csv(plan, results))
        written.append(path)
    if args.json is not None:
        path = Path(args.json)
        write_json(path, summary_json(plan, results))
        written.append(path)
    pictures = _pictures(args, plan, results, db)
    if args.quiet:
        return 0
    shown = console()
    ranked = table(plan, results, args.top)
    if not shown.is_terminal:  # a file or a pipe: as wide as the table, so nothing is cut
        needed = Measurement.get(shown, shown.options.update_width(10_000), ranked).maximum
        shown = Console(highlight=False, width=max(shown.width, needed))
    shown.print(ranked)
    if len(results) > args.top:
        shown.print(
            f"... and {len(results) - args.top} more settings (--top N shows more, "
            "--csv FILE lists every run)"
        )
    stored = sum(counts.values())
    parts = [f"{counts.get(s, 0)} {s}" for s in ("finished", "diverged", "error") if counts.get(s)]
    shown.print(
        f"{stored} of {total} runs stored in {escape(str(db))}"
        + (f": {', '.join(parts)}" if parts else "")
    )
    if results:
        metric = results[0].metric
        held_out = "held-out data" if "_" in metric else "the training data (no --val or --test)"
        shown.print(f"ranked by {metric}, the mean over seeds, on {held_out}; --metric changes it")
    if results and not math.isnan(results[0].score):
        best = results[0]
        shown.print(
            f"best: {escape(best.label())}: {best.metric} "
            f"{mean_std(best.summary.score, 4)} over {len(best.summary.runs)} seeds"
        )
    tolerance = any(r.summary.config.tolerance is not None for r in results)
    shown.print(
        "converged: runs whose training loss reached the tolerance"
        if tolerance
        else "converged: runs that finished without diverging (sweep tolerance=LOSS to count "
        "the runs that reach that loss)"
    )
    if pictures:
        shown.print(f"wrote {escape(str(pictures[0].parent))}/: {names(pictures)}")
    for path in written:
        shown.print(f"wrote {escape(str(path))}")
    if stored < total:
        shown.print(
            f"{total - stored} runs left: finish with 'micrograd sweep --resume {escape(str(db))}'"
        )
    return 0
