"""`micrograd train`: train one network, show its progress, save it with its curves and pictures."""

from __future__ import annotations

import argparse
import copy
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .. import __version__
from ..batched import Model, flat_parameters
from ..data import Dataset, dataset_metadata, label_text
from ..loop import DEFAULT_LOSS
from ..metrics import classification_report
from ..run import dataset_defaults
from ..serialization import save
from ..train import (
    Callback,
    History,
    TrainConfig,
    TrainingDiverged,
    TrainResult,
    predict,
    split,
    train,
)
from .arguments import PROG, add_command, add_output_options, count
from .limits import add_allow_large, check_memory, check_samples
from .options import (
    OPTIONS,
    add_config_options,
    make_config,
    model_shape,
    own_defaults_help,
    prepare,
    typed,
)
from .output import (
    ProgressCallback,
    console,
    fail,
    jsonable,
    maybe_progress,
    names,
    num,
    per_class_table,
    write_json,
)
from .pictures import draw, held_out, interrupted, pictures
from .runs import Held, check_target, save_run

__all__ = ["register", "run"]

NAME = "train"
HELP = "train one network and save it with its curves and pictures"
DESCRIPTION = (
    "Train one network: a progress bar while it trains, a summary table at "
    "the end, and the model, its history and pictures in --out."
)
EXAMPLES = f"""\
examples:
  {PROG} train
      two moons, 100 samples, a 2-16-16-1 ReLU network, hinge loss, SGD lr 1 decaying
      linearly, 100 epochs; writes runs/moons-relu-seed0/
  {PROG} train --dataset yinyang --layers 16,16,3 --optimizer adam --lr 0.01 --epochs 200
  {PROG} train --dataset circles --activation tanh --val 0.2 --patience 20 --epochs 500
  {PROG} train --data points.csv --test 0.25 --out runs/mine
  {PROG} train --dataset regression_1d --optimizer adam --lr 0.01 --epochs 300
  {PROG} train --dataset digits
      real handwritten digits (scikit-learn's) with their own defaults: a stratified test
      split of 0.2 and a 64-32-10 tanh network, adam, 30 epochs; about 96% test accuracy in
      a second or two. Any option given replaces the dataset's default (--test 0: no test)

writes into --out: model.json (weights and what predict needs), run.json (config, final
metrics, every epoch), curves.png (loss and accuracy or rmse per epoch), and for 2-D
classification decision_boundary.png, for 1-D regression fit.png, for more than two classes
confusion_matrix.png (on the test split, else validation, else training) and for the digits
misclassified.png. Ctrl-C, or training that diverges, still saves the run as of its last
finished epoch; run.json's "status" says completed, stopped early, interrupted or diverged.
run.json's "per_class" holds a classifier's precision, recall and F1 per class on that same
split (as scikit-learn's classification_report); the summary shows them too when that split is
held out or there are more than two classes. A loss that is NaN or infinite, or over a million
times the first batch's (or over a million, when that was below 1), is divergence: run.json's
"diverged_at_epoch" says which epoch broke, and the model saved is the one the last good
epoch's loss was measured on. model.json and run.json are written before the pictures are
drawn: Ctrl-C while drawing keeps the run, names the pictures not drawn and exits with status
130, as any interrupted command.
"""


def register(commands: Any) -> None:
    """Add `train` to the subcommands."""
    p = add_command(commands, NAME, HELP, DESCRIPTION, f"{EXAMPLES}\n{own_defaults_help()}")
    add_config_options(p, several=False)
    add_output_options(p, "runs/DATASET-ACTIVATION-seedSEED, e.g. runs/moons-relu-seed0")
    add_allow_large(p)
    p.set_defaults(run=run)


class _Keeper(Callback):
    """Keeps what a run stopped by Ctrl-C or by divergence can still save: the model, its
    weights as of the last finished epoch, and the history up to there."""

    def __init__(self) -> None:
        self.model: Model | None = None
        self.weights: list[Any] = []  # floats per sample, arrays batched
        self.history = History()

    def on_train_begin(self, info: dict[str, Any]) -> None:
        self.model = info["model"]
        self.on_epoch_end({})

    def on_epoch_end(self, log: dict[str, float]) -> None:
        if self.model is not None:
            self.weights = [copy.copy(p.data) for p in self.model.parameters()]

    def on_train_end(self, history: History) -> None:
        self.history = history
        if history.stop_reason == "diverged":
            # `fit` put back the parameters the last good epoch's row measured: keep those.
            self.on_epoch_end({})

    def result(self, config: TrainConfig, ds: Dataset) -> TrainResult | None:
        """The run as of the last finished epoch, or None when training had not begun."""
        if self.model is None:
            return None
        for p, w in zip(self.model.parameters(), self.weights, strict=True):
            p.data = w
        tr, va, te, scaler = split(config, ds)
        loss = config.loss or DEFAULT_LOSS[ds.task]
        return TrainResult(self.model, self.history, config, tr, va, te, loss, scaler)


_STATUS = {
    "max_epochs": "completed",
    "tolerance": "stopped early",
    "patience": "stopped early",
    "diverged": "diverged",
    "interrupted": "interrupted",
}


def run(args: argparse.Namespace) -> int:
    # Only the options given: the dataset's own defaults fill in the rest (make_config).
    given = {o.field: getattr(args, o.field) for o in OPTIONS if hasattr(args, o.field)}
    config = make_config(given)
    own = dataset_defaults(given)
    if config.data_path is None and config.samples is not None:
        # Before generating them (the limit first): the generated sets have 2 features.
        check_samples(config.samples, args.allow_large)
        _check_memory(config, [2, *(config.layers or (16, 16, 1))], config.samples)
    ds = prepare(config, args.allow_large)
    _check_memory(config, model_shape(config, ds), len(ds))
    name = _run_name(config, ds)
    explicit = args.out is not None
    target = Path(args.out) if explicit else Path("runs") / name
    check_target(target, "--out", numbered=not explicit, force=args.force)
    shown = console()
    if not args.quiet:
        shape = "-".join(map(str, model_shape(config, ds)))
        shown.print(
            f"training {escape(ds.name)} ({count(len(ds), 'sample')}, {ds.task}) with a {shape} "
            f"{config.activation} network: {config.optimizer} lr {config.lr:g} "
            f"({config.schedule}), {count(config.epochs, 'epoch')}"
        )
        if own:
            flags = " ".join(typed(own))
            # one line however long: a terminal wraps it; a pipe or a grep keeps it whole
            shown.print(
                f"the dataset's own defaults: {escape(flags)} (an option given wins)",
                soft_wrap=True,
            )
    keeper = _Keeper()
    stopped: TrainingDiverged | KeyboardInterrupt | None = None
    start = time.perf_counter()
    try:
        with maybe_progress(not args.quiet) as progress:
            callbacks: list[Callback] = [keeper]
            if progress is not None:
                callbacks.append(ProgressCallback(progress))
            result = train(config, callbacks, ds)
    except (TrainingDiverged, KeyboardInterrupt) as e:
        kept = keeper.result(config, ds)
        if kept is None:
            raise
        stopped, result = e, kept
    seconds = time.perf_counter() - start
    status = _STATUS.get(result.history.stop_reason, result.history.stop_reason)
    diverged_at = stopped.epoch if isinstance(stopped, TrainingDiverged) else None
    epochs = result.history.epochs
    report = _per_class(result)
    metrics = _final_metrics(result)
    talk = not args.quiet and stopped is None  # a stopped run tells its outcome on stderr
    summary_due = talk

    # Ctrl-C is held back from here until the run is placed (noted in `placing`), except while
    # the pictures are drawn; the folder is placed whole at the end, so a concurrent run
    # (--force) never finds, nor replaces, a run still being drawn.
    placing = Held()

    def write(folder: Path, name: str) -> tuple[bool, list[Path], list[str]]:
        """Save the run into `folder` as the run `name` (its folder's name), model.json and
        run.json first, then draw: Ctrl-C while drawing stops only that. The summary shows
        once, though `save_run` may write the run again under another name."""
        nonlocal summary_due
        record = _save_run(
            result, ds, folder, seconds, name, status, diverged_at, own, metrics, report
        )
        if summary_due:
            summary_due = False
            _show_summary(shown, result, name, metrics, report, seconds)
        planned = [] if args.no_plots else pictures(result, ds, name, status, metrics)
        announce = None
        if planned and talk:
            announce = "drawing the pictures (Ctrl-C skips them and keeps the run)"
        before = placing.pressed
        drawn, not_drawn = draw(planned, folder, before, announce, shown)
        if drawn:  # run.json lists the pictures drawn
            record["files"] = ["model.json", *(p.name for p in drawn), "run.json"]
            write_json(folder / "run.json", record)
        return before, drawn, not_drawn

    placed, (held_pressed, drawn, not_drawn) = save_run(
        target, write, numbered=not explicit, force=args.force, placing=placing
    )
    name = placed.name
    folder = f"{placed}{os.sep}"  # plain on stderr; `where` for the rich console
    where = escape(folder)
    files = [placed / "model.json", *(placed / p.name for p in drawn), placed / "run.json"]
    if isinstance(stopped, TrainingDiverged):
        outcome = (
            f"{stopped.reason}; saved the run as of epoch {epochs} (status diverged) in {folder}"
        )
    elif isinstance(stopped, KeyboardInterrupt):
        outcome = (
            f"interrupted in epoch {epochs + 1} of {config.epochs}; saved the run as of "
            f"epoch {epochs} (status interrupted) in {folder}"
        )
    else:
        outcome = f"saved the run (status {status}) in {folder}"
    if not_drawn or placing.pressed:
        when = interrupted(held_pressed, bool(drawn or not_drawn), not_drawn, "the pictures")
        skipped = f"; not drawn: {', '.join(not_drawn)}" if not_drawn else ""
        print(f"{PROG}: {when}; {outcome}{skipped}", file=sys.stderr)
        return 130
    if isinstance(stopped, TrainingDiverged):
        return fail(outcome)
    if isinstance(stopped, KeyboardInterrupt):
        print(f"{PROG}: {outcome}", file=sys.stderr)
        return 130
    if not args.quiet:
        if placed != target:
            shown.print(f"{escape(str(target))} already holds a run: this one went to {where}")
        shown.print(f"wrote {where}: {names(files)}")
    return 0


def _check_memory(config: TrainConfig, shape: list[int], n: int) -> None:
    """Refuse a run of a network of layer widths `shape` on `n` samples that the machine
    cannot hold, before it starts: --allow-large lifts the limits, not the memory."""
    if config.mode == "per-sample":
        at_once = 1
    elif config.batch_size is None:
        at_once = n
    else:  # a batch, or the validation or test split, scored whole
        at_once = min(n, max(config.batch_size, math.ceil(n * max(config.val, config.test))))
    check_memory(
        shape,
        n,
        at_once,
        config.mode,
        f"training a {'-'.join(map(str, shape))} network on {n:,} samples",
        "use fewer --samples, smaller --layers or a --batch-size",
    )


def _run_name(config: TrainConfig, ds: Dataset) -> str:
    return f"{ds.name}-{config.activation}-seed{config.seed}"


def _stop_text(history: History, config: TrainConfig) -> str:
    if history.stop_reason == "tolerance":
        return f"the loss reached the tolerance {config.tolerance:g} at epoch {history.epochs}"
    if history.stop_reason == "patience" and config.patience is not None:
        return (
            f"no better validation loss for {count(config.patience, 'epoch')}; kept epoch "
            f"{history.best_epoch}"
        )
    return "ran every epoch"


def _final_metrics(result: TrainResult) -> dict[str, float]:
    return {k: v for k, v in result.scores().items() if k != "lr"}


def _metadata(result: TrainResult, ds: Dataset) -> dict[str, Any]:
    """What `predict` needs to turn outputs into labels, and where the model came from."""
    return {
        **dataset_metadata(ds),
        "standardize": result.scaler.to_dict() if result.scaler is not None else None,
        "loss": result.loss,
        "mode": result.config.mode,
        "config": jsonable(result.config.as_dict()),
        "micrograd_version": __version__,
    }


def _save_run(
    result: TrainResult,
    ds: Dataset,
    out: Path,
    seconds: float,
    name: str,
    status: str,
    diverged_at: int | None,
    own: dict[str, Any],
    metrics: dict[str, float],
    report: tuple[str, dict[str, Any]] | None,
) -> dict[str, Any]:
    """Write the run's model.json and run.json into the empty folder `out`; return run.json's
    content (its "files" lists the pictures once they are drawn)."""
    save(result.model, out / "model.json", metadata=_metadata(result, ds))
    h = result.history
    record = {
        "name": name,
        "micrograd_version": __version__,
        "config": result.config.as_dict(),
        "dataset_defaults": jsonable(own),
        "data": {
            "name": ds.name,
            "task": ds.task,
            "n_classes": ds.n_classes,
            "classes": ds.classes,
            "n_features": ds.n_features,
            "samples": {
                "train": len(result.train),
                "val": len(result.val) if result.val else 0,
                "test": len(result.test) if result.test else 0,
            },
        },
        "model": {
            "layers": [ds.n_features, *result.model.nouts],
            "parameters": len(flat_parameters(result.model)),
        },
        "loss": result.loss,
        "metrics": metrics,
        "per_class": None if report is None else {"split": report[0], **report[1]},
        "status": status,
        "epochs": h.epochs,
        # The model is the one epoch `epochs`'s loss was measured on; epoch `epochs + 1` broke.
        "diverged_at_epoch": diverged_at,
        "stop_reason": h.stop_reason,
        "best_epoch": h.best_epoch,
        "epochs_to_tolerance": h.epochs_to_tolerance,
        "seconds": seconds,
        "files": ["model.json", "run.json"],
        "history": h.rows,
    }
    write_json(out / "run.json", record)
    return record


def _per_class(result: TrainResult) -> tuple[str, dict[str, Any]] | None:
    """(split, sklearn-style classification report on it) for a classifier, else None."""
    if result.task == "regression":
        return None
    split, ds = held_out(result)
    names = ds.class_names or (
        [label_text(c) for c in ds.classes] if ds.classes is not None else None
    )
    if names is not None and len(set(names)) != len(names):
        names = None  # two classes with one name: tell them apart by index
    predicted = predict(result.model, ds.X, ds.task)
    return split, classification_report(ds.y, predicted, ds.n_classes, names)


def _show_summary(
    shown: Console,
    result: TrainResult,
    name: str,
    metrics: dict[str, float],
    report: tuple[str, dict[str, Any]] | None,
    seconds: float,
) -> None:
    """The summary table of the finished run `name`, its per-class table and how it stopped."""
    shown.print(_summary_table(result, name, metrics))
    # Two classes scored on the data they trained on add little to the table above:
    # the default run's summary stays short (run.json has the report all the same).
    if report is not None and (report[0] != "training" or result.train.n_classes > 2):
        after = " after training" if report[0] == "training" else ""  # see _summary_table
        shown.print(per_class_table(report[1], f"on the {report[0]} split{after}"))
    shown.print(_summary_lines(result, seconds))


def _summary_table(result: TrainResult, name: str, metrics: dict[str, float]) -> Table:
    # The training metrics are measured as the last epoch ran, as its batches were learnt
    # (as Keras and PyTorch loops report them); the other splits, and the per-class table,
    # score the weights after it, so the header says which is which.
    splits = [("train (last epoch)", "")]
    if result.val is not None:
        splits.append(("validation", "val_"))
    if result.test is not None:
        splits.append(("test", "test_"))
    metric_names = ["loss", "rmse", "r2"] if result.task == "regression" else ["loss", "accuracy"]
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column(escape(name))
    for part, _ in splits:
        table.add_column(part, justify="right")
    for metric in metric_names:
        label = f"{metric} ({result.loss})" if metric == "loss" else metric
        table.add_row(label, *(num(metrics.get(p + metric, math.nan)) for _, p in splits))
    return table


def _summary_lines(result: TrainResult, seconds: float) -> str:
    h = result.history
    took = f"{seconds:.1f} s" if seconds >= 1.0 else f"{seconds * 1000:.0f} ms"
    return (
        f"epochs: {h.epochs} of {result.config.epochs}, {_stop_text(h, result.config)}\n"
        f"time: {took}"
    )
