"""The `micrograd` command: train, compare, predict and graph from the terminal.

    micrograd train                              # two moons, the original demo's network
    micrograd compare --activation tanh relu     # which is better, over 10 seeds?
    micrograd predict --model runs/moons-relu-seed0/model.json --input 0.5,0.2
    micrograd graph "(a*b + c).tanh()" a=2 b=-3 c=10

A thin layer over the library: `train.train` and `train.evaluate` do the work, `plots` draws,
`serialization` saves, `viz` draws graphs. This module parses arguments, checks what the user
typed against the data before anything runs, shows progress through a `train.Callback`, and
turns the library's precise exceptions into one line on stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import shutil
import sys
import textwrap
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from inspect import signature
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import numpy as np
from numpy.typing import NDArray
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from . import __version__, plots
from .data import DATASETS, TASKS, DataError, Dataset, read_csv_table
from .engine import Value
from .expression import ExpressionError, parse_assignments, parse_expression
from .losses import LOSSES
from .metrics import accuracy, r2_score, rmse
from .nn import ACTIVATIONS, MLP
from .optim import OPTIMIZERS, SCHEDULES
from .serialization import ModelFileError, load, load_metadata, save, write_atomic
from .train import (
    DEFAULT_LOSS,
    MODES,
    TASK_LOSSES,
    Callback,
    History,
    RunsSummary,
    TrainConfig,
    TrainingDiverged,
    TrainResult,
    evaluate,
    gc_paused,
    load_data,
    output_width,
    predict,
    train,
)
from .viz import (
    ENGINES,
    MAX_NODES,
    RANKDIRS,
    GraphTooLargeError,
    GraphvizError,
    draw_dot,
    trace_model,
)

__all__ = ["ProgressCallback", "UsageError", "build_parser", "main"]

PROG = "micrograd"
_T = TypeVar("_T")


class UsageError(ValueError):
    """Something the user typed does not fit: the message says what and what is expected."""


# -- argument types ---------------------------------------------------------------------------


def _number(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return x


def _positive_float(text: str) -> float:
    x = _number(text)
    if x <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return x


def _non_negative_float(text: str) -> float:
    x = _number(text)
    if x < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return x


def _fraction(text: str) -> float:
    x = _number(text)
    if not 0 <= x < 1:
        raise argparse.ArgumentTypeError(
            f"expected a fraction of the data in [0, 1), e.g. 0.2, got {text}"
        )
    return x


def _integer(text: str, minimum: int) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < minimum:
        raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {text}")
    return n


def _positive_int(text: str) -> int:
    return _integer(text, 1)


def _non_negative_int(text: str) -> int:
    return _integer(text, 0)


def _layers(text: str) -> tuple[int, ...]:
    """'16,16,1' -> (16, 16, 1)."""
    expected = "expected positive layer widths separated by commas, e.g. 16,16,1"
    items = [item.strip() for item in text.split(",")]
    widths = []
    for item in items:
        if not item:
            raise argparse.ArgumentTypeError(f"{text!r} has an empty width: {expected}")
        try:
            width = int(item)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{item!r} in {text!r} is not a whole number: {expected}"
            ) from None
        if width < 1:
            raise argparse.ArgumentTypeError(
                f"a layer needs at least one neuron, got {width} in {text!r}: {expected}"
            )
        widths.append(width)
    return tuple(widths)


def _sample(text: str) -> list[float]:
    """'0.5,1.2' -> [0.5, 1.2]: one input sample."""
    expected = "expected numbers separated by commas, e.g. 0.5,1.2"
    values = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise argparse.ArgumentTypeError(f"{text!r} has an empty value: {expected}")
        try:
            x = float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{item!r} in {text!r} is not a number: {expected}"
            ) from None
        if not math.isfinite(x):
            raise argparse.ArgumentTypeError(f"{item!r} in {text!r} is not a finite number")
        values.append(x)
    return values


# -- the options that make a TrainConfig ------------------------------------------------------


@dataclass(frozen=True)
class _Option:
    """One command-line option that sets a `TrainConfig` field."""

    flag: str
    field: str
    convert: Callable[[str], Any] | None
    help: str
    default: str  # how the default is shown in --help
    metavar: str | None = None
    choices: tuple[str, ...] | None = None


def _dataset_defaults(parameter: str) -> str:
    parts = []
    for name, make in DATASETS.items():
        default = signature(make).parameters[parameter].default
        if default is not None:
            parts.append(f"{name} {default}")
    return ", ".join(parts)


_DEFAULTS = TrainConfig()
_LOSS_BY_TASK = ", ".join(f"{loss} for {task}" for task, loss in DEFAULT_LOSS.items())

_OPTIONS = (
    _Option("--dataset", "dataset", None, "a generated dataset", _DEFAULTS.dataset,
            choices=tuple(DATASETS)),
    _Option("--data", "data_path", None,
            "a CSV file instead: the features, then the target in the last column; a header "
            "line is optional; integer targets are class labels",
            "none, use --dataset", metavar="FILE.csv"),
    _Option("--samples", "samples", _positive_int, "how many samples to generate",
            f"the dataset's own: {_dataset_defaults('n_samples')}", metavar="N"),
    _Option("--noise", "noise", _non_negative_float,
            "standard deviation of the gaussian noise added to the generated data",
            f"the dataset's own: {_dataset_defaults('noise')}", metavar="SIGMA"),
    _Option("--data-seed", "data_seed", _non_negative_int,
            "seed of the generated data and of the validation/test split",
            str(_DEFAULTS.data_seed), metavar="N"),
    _Option("--val", "val", _fraction,
            "fraction of the data held out for validation (reported every epoch)",
            f"{_DEFAULTS.val:g}, no validation set", metavar="FRACTION"),
    _Option("--test", "test", _fraction, "fraction of the data held out for a final test",
            f"{_DEFAULTS.test:g}, no test set", metavar="FRACTION"),
    _Option("--layers", "layers", _layers,
            "width of every layer, the output layer last; the output must fit the task: 1 for "
            "two classes or regression, C for C classes",
            "16,16,1, or 16,16,C for C classes", metavar="W,W,..."),
    _Option("--activation", "activation", None, "activation of the hidden layers",
            _DEFAULTS.activation, choices=tuple(ACTIVATIONS)),
    _Option("--loss", "loss", None,
            "loss to minimise: hinge, bce or mse for two classes, cross_entropy for more, "
            "mse for regression", f"by task: {_LOSS_BY_TASK}", choices=tuple(LOSSES)),
    _Option("--optimizer", "optimizer", None, "the optimizer", _DEFAULTS.optimizer,
            choices=tuple(OPTIMIZERS)),
    _Option("--lr", "lr", _positive_float, "learning rate at the start", f"{_DEFAULTS.lr:g}",
            metavar="RATE"),
    _Option("--momentum", "momentum", _non_negative_float, "momentum (sgd only)",
            f"{_DEFAULTS.momentum:g}", metavar="M"),
    _Option("--schedule", "schedule", None,
            "how the learning rate changes over the epochs: constant; linear to lr/10; step "
            "(divide by 10 every third of the epochs); exponential to lr/100; cosine to 0",
            _DEFAULTS.schedule, choices=tuple(SCHEDULES)),
    _Option("--epochs", "epochs", _positive_int, "the most epochs to train",
            str(_DEFAULTS.epochs), metavar="N"),
    _Option("--batch-size", "batch_size", _positive_int,
            "samples per step, shuffled every epoch", "the whole training set in one step",
            metavar="N"),
    _Option("--l1", "l1", _non_negative_float, "weight of the L1 penalty on the parameters",
            f"{_DEFAULTS.l1:g}", metavar="WEIGHT"),
    _Option("--l2", "l2", _non_negative_float, "weight of the L2 penalty on the parameters",
            f"{_DEFAULTS.l2:g}", metavar="WEIGHT"),
    _Option("--tolerance", "tolerance", _non_negative_float,
            "stop once the training loss is at or below this", "none, train every epoch",
            metavar="LOSS"),
    _Option("--patience", "patience", _positive_int,
            "stop once the validation loss has not improved for N epochs, and keep the best "
            "epoch's weights (needs --val)", "none, no early stopping", metavar="N"),
    _Option("--seed", "seed", _non_negative_int,
            "seed of the initial weights and of the batch shuffling", str(_DEFAULTS.seed),
            metavar="N"),
    _Option("--mode", "mode", None,
            "batched: whole arrays through fused nodes (fast); per-sample: one scalar graph "
            "per sample, as in the original micrograd (slow, same maths)", _DEFAULTS.mode,
            choices=MODES),
)
_BY_FIELD = {o.field: o for o in _OPTIONS}


def _add_config_options(parser: argparse.ArgumentParser, *, several: bool) -> None:
    """The TrainConfig options; with `several`, each takes one or more values (compare)."""
    group = parser.add_argument_group(
        "what to train (give ONE of these two or more values to compare them)" if several
        else "what to train"
    )
    source = group.add_mutually_exclusive_group()
    for o in _OPTIONS:
        if several and o.field == "seed":
            continue
        target = source if o.field in ("dataset", "data_path") else group
        kwargs: dict[str, Any] = {"dest": o.field, "help": f"{o.help} (default: {o.default})"}
        if o.convert is not None:
            kwargs["type"] = o.convert
        if o.metavar is not None:
            kwargs["metavar"] = o.metavar
        if o.choices is not None:
            kwargs["choices"] = o.choices
            if several:  # keep the usage line short: the choices go in the help
                kwargs["metavar"] = o.flag.lstrip("-").upper()
                kwargs["help"] = (f"{o.help}: any of {', '.join(o.choices)} "
                                  f"(default: {o.default})")
        if several:
            kwargs["nargs"] = "+"
            kwargs["default"] = None
        elif o.field == "dataset":
            # None, not "moons": argparse would not see `--dataset moons --data x.csv` clash.
            kwargs["default"] = None
        else:
            kwargs["default"] = getattr(_DEFAULTS, o.field)
        target.add_argument(o.flag, **kwargs)


def _make_config(values: dict[str, Any]) -> TrainConfig:
    try:
        return TrainConfig(**values)
    except ValueError as e:  # TrainConfig checks only what the user chose
        raise UsageError(str(e)) from None


def _show(field: str, value: Any) -> str:
    """A config value as it would be typed on the command line."""
    if value is None:
        return "none"
    if field == "layers":
        return ",".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# -- checking a config against its data before training ---------------------------------------


def _load(config: TrainConfig) -> Dataset:
    if config.data_path is not None:
        path = Path(config.data_path)
        if config.samples is not None or config.noise is not None:
            raise UsageError(
                "--samples and --noise shape a generated dataset; they do not apply to --data "
                f"{path}: leave them out, or use --dataset"
            )
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "does not exist"
            raise UsageError(
                f"--data {path} {what}: expected a CSV file of numbers, the target in the "
                "last column"
            )
    return load_data(config)


def _check(config: TrainConfig, ds: Dataset) -> None:
    """Everything the library would reject once training starts, said in terms of options."""
    need = output_width(ds)
    kind = f"{ds.n_classes} classes" if ds.task == "multiclass" else f"a {ds.task} task"
    if config.layers is not None and config.layers[-1] != need:
        fixed = ",".join(map(str, [*config.layers[:-1], need]))
        raise UsageError(
            f"--layers {_show('layers', config.layers)} ends with {config.layers[-1]} "
            f"output{'s' if config.layers[-1] > 1 else ''}, but {ds.name} is {kind}: end it "
            f"with {need}, e.g. --layers {fixed}"
        )
    if config.loss is not None and config.loss not in TASK_LOSSES[ds.task]:
        raise UsageError(
            f"--loss {config.loss} does not fit {ds.name}, which is {kind}: use one of "
            f"{', '.join(TASK_LOSSES[ds.task])}"
        )
    if config.patience is not None and config.val == 0:
        raise UsageError(
            "--patience watches the validation loss: add a validation set, e.g. --val 0.2"
        )


def _prepare(config: TrainConfig) -> Dataset:
    ds = _load(config)
    _check(config, ds)
    return ds


def _model_shape(config: TrainConfig, ds: Dataset) -> list[int]:
    layers = list(config.layers) if config.layers is not None else [16, 16, output_width(ds)]
    return [ds.n_features, *layers]


# -- consoles and progress --------------------------------------------------------------------


def _console(stderr: bool = False) -> Console:
    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal:
        # Logs and pipes get plain text, wide enough that tables do not wrap.
        console = Console(stderr=stderr, highlight=False, width=max(console.width, 120))
    return console


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=30),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeRemainingColumn(),
        console=console,
    )


class ProgressCallback(Callback):
    """Shows training as a rich progress bar: epoch, loss, accuracy or RMSE, learning rate,
    time left. `fit` never prints; this listens to it. Use it inside `with progress:`."""

    def __init__(self, progress: Progress, description: str = "epoch") -> None:
        self.progress = progress
        self.description = description
        self.task: TaskID | None = None

    def on_train_begin(self, info: dict[str, Any]) -> None:
        self.task = self.progress.add_task(self.description, total=info["epochs"], status="")

    def on_epoch_end(self, log: dict[str, float]) -> None:
        if self.task is None:
            return
        parts = [f"loss {log['loss']:.4f}"]
        for name in ("accuracy", "rmse"):
            if name in log:
                parts.append(f"{'acc' if name == 'accuracy' else name} {log[name]:.3f}")
                if f"val_{name}" in log:
                    parts.append(f"val {log[f'val_{name}']:.3f}")
        parts.append(f"lr {log['lr']:.3g}")
        self.progress.update(self.task, completed=int(log["epoch"]), status="  ".join(parts))

    def on_train_end(self, history: History) -> None:
        if self.task is not None and history.stop_reason in ("tolerance", "patience"):
            self.progress.update(self.task, total=history.epochs,
                                 description=f"{self.description} (stopped early)")


@contextlib.contextmanager
def _maybe_progress(show: bool) -> Iterator[Progress | None]:
    """A live progress display on stderr when it is a terminal and output is wanted."""
    console = _console(stderr=True)
    if not show or not console.is_terminal:
        yield None
        return
    progress = _progress(console)
    with progress:
        yield progress


def _fail(message: str) -> int:
    text = " ".join(message.split())
    print(f"{PROG}: error: {text}", file=sys.stderr)
    return 2


# -- writing files ----------------------------------------------------------------------------


def _write_text(path: Path, text: str) -> None:
    write_atomic(path, text.encode("utf-8"))


def _jsonable(x: Any) -> Any:
    """Plain JSON: tuples as lists, numpy scalars as numbers, NaN and infinity as null."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _write_json(path: Path, data: Any) -> None:
    _write_text(path, json.dumps(_jsonable(data), indent=2, allow_nan=False) + "\n")


def _make_folder(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UsageError(f"{path} is a file: expected a folder to write into") from None


def _names(files: Sequence[Path]) -> str:
    return ", ".join(f.name for f in files)


# -- micrograd train --------------------------------------------------------------------------

_PLOT_FILES = ("curves.png", "decision_boundary.png", "fit.png")


def _run_name(config: TrainConfig, ds: Dataset) -> str:
    return f"{ds.name}-{config.activation}-seed{config.seed}"


def _stop_text(history: History, config: TrainConfig) -> str:
    if history.stop_reason == "tolerance":
        return (f"the loss reached the tolerance {config.tolerance:g} at epoch "
                f"{history.epochs}")
    if history.stop_reason == "patience":
        return (f"no better validation loss for {config.patience} epochs; kept epoch "
                f"{history.best_epoch}")
    return "ran every epoch"


def _final_metrics(result: TrainResult) -> dict[str, float]:
    return {k: v for k, v in result.scores().items() if k != "lr"}


def _metadata(result: TrainResult, ds: Dataset) -> dict[str, Any]:
    """What `predict` needs to turn outputs into labels, and where the model came from."""
    return {
        "task": ds.task,
        "n_classes": ds.n_classes,
        "classes": ds.classes,
        "dataset": ds.name,
        "n_features": ds.n_features,
        "feature_names": ds.columns[:-1] if ds.columns else None,
        "target_name": ds.columns[-1] if ds.columns else None,
        "loss": result.loss,
        "mode": result.config.mode,
        "config": _jsonable(result.config.as_dict()),
        "micrograd_version": __version__,
    }


def _write_run(
    result: TrainResult, ds: Dataset, out: Path, seconds: float, name: str, draw: bool
) -> list[Path]:
    files = []
    model_path = out / "model.json"
    save(result.model, model_path, metadata=_metadata(result, ds))
    files.append(model_path)
    metrics = _final_metrics(result)
    if draw:
        files.append(plots.plot_curves(result.history, out / "curves.png",
                                       title=f"{name}: training curves",
                                       loss_name=result.loss))
        if ds.task != "regression" and ds.n_features == 2:
            acc = metrics.get("accuracy", math.nan)
            files.append(plots.plot_decision_boundary(
                result.model, result.train, out / "decision_boundary.png", ds.task,
                val=result.val, test=result.test,
                title=f"{name}: decision boundary (train accuracy {acc:.3f})"))
        elif ds.task == "regression" and ds.n_features == 1:
            files.append(plots.plot_regression_fit(
                result.model, result.train, out / "fit.png", val=result.val, test=result.test,
                title=f"{name}: fit (train rmse {metrics.get('rmse', math.nan):.4f})"))
    # A run written over an older one must not leave that run's pictures behind.
    for stale in _PLOT_FILES:
        if out / stale not in files:
            with contextlib.suppress(FileNotFoundError):
                (out / stale).unlink()
    run_path = out / "run.json"
    files.append(run_path)
    h = result.history
    _write_json(run_path, {
        "name": name,
        "micrograd_version": __version__,
        "config": result.config.as_dict(),
        "data": {
            "name": ds.name,
            "task": ds.task,
            "n_classes": ds.n_classes,
            "classes": ds.classes,
            "n_features": ds.n_features,
            "samples": {"train": len(result.train),
                        "val": len(result.val) if result.val else 0,
                        "test": len(result.test) if result.test else 0},
        },
        "model": {"layers": [ds.n_features, *result.model.nouts],
                  "parameters": len(result.model.parameters())},
        "loss": result.loss,
        "metrics": metrics,
        "epochs": h.epochs,
        "stop_reason": h.stop_reason,
        "best_epoch": h.best_epoch,
        "epochs_to_tolerance": h.epochs_to_tolerance,
        "seconds": seconds,
        "files": [f.name for f in files],
        "history": h.rows,
    })
    return files


def _summary_table(result: TrainResult, name: str) -> Table:
    metrics = _final_metrics(result)
    splits = [("train", "")]
    if result.val is not None:
        splits.append(("validation", "val_"))
    if result.test is not None:
        splits.append(("test", "test_"))
    names = ["loss", "rmse", "r2"] if result.task == "regression" else ["loss", "accuracy"]
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column(escape(name))
    for split, _ in splits:
        table.add_column(split, justify="right")
    for metric in names:
        shown = f"{metric} ({result.loss})" if metric == "loss" else metric
        table.add_row(shown, *(f"{metrics.get(p + metric, math.nan):.4f}" for _, p in splits))
    return table


def _summary_lines(result: TrainResult, seconds: float) -> str:
    h = result.history
    return (f"epochs: {h.epochs} of {result.config.epochs}, {_stop_text(h, result.config)}\n"
            f"time: {seconds:.1f} s")


def _cmd_train(args: argparse.Namespace) -> int:
    values = {o.field: getattr(args, o.field) for o in _OPTIONS}
    values["dataset"] = values["dataset"] or _DEFAULTS.dataset
    config = _make_config(values)
    ds = _prepare(config)
    name = _run_name(config, ds)
    out = Path(args.out) if args.out is not None else Path("runs") / name
    _make_folder(out)
    console = _console()
    if not args.quiet:
        shape = "-".join(map(str, _model_shape(config, ds)))
        console.print(
            f"training {escape(ds.name)} ({len(ds)} samples, {ds.task}) with a {shape} "
            f"{config.activation} network: {config.optimizer} lr {config.lr:g} "
            f"({config.schedule}), {config.epochs} epochs"
        )
    start = time.perf_counter()
    with _maybe_progress(not args.quiet) as progress:
        callbacks = [ProgressCallback(progress)] if progress is not None else []
        result = train(config, callbacks, ds)
    seconds = time.perf_counter() - start
    files = _write_run(result, ds, out, seconds, name, draw=not args.no_plots)
    if not args.quiet:
        console.print(_summary_table(result, name))
        console.print(_summary_lines(result, seconds))
        console.print(f"wrote {escape(str(out))}{os.sep}: {_names(files)}")
    return 0


# -- micrograd compare ------------------------------------------------------------------------


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
        results = (self.pool.map(fn, *iterables, timeout=timeout) if self.pool is not None
                   else map(fn, *iterables))
        for result in results:
            self.done()
            yield result


def _varied(args: argparse.Namespace) -> tuple[_Option, list[Any], dict[str, Any]]:
    """(the option varied, its values, the fixed values) from compare's arguments."""
    given = {o.field: getattr(args, o.field) for o in _OPTIONS if o.field != "seed"}
    given = {field: values for field, values in given.items() if values is not None}
    varied = [field for field, values in given.items() if len(values) > 1]
    if not varied:
        raise UsageError(
            "compare needs one option with two or more values to compare, e.g. "
            "--activation tanh relu, --optimizer sgd adam or --lr 0.1 0.5 1"
        )
    if len(varied) > 1:
        flags = " and ".join(_BY_FIELD[f].flag for f in varied)
        raise UsageError(
            f"compare varies one option at a time, but {flags} each got several values: "
            "give the others one value each"
        )
    field = varied[0]
    values = given.pop(field)
    shown = [_show(field, v) for v in values]
    for text in shown:
        if shown.count(text) > 1:
            raise UsageError(f"{_BY_FIELD[field].flag} lists {text} twice: give distinct values")
    if field in ("dataset", "data_path") and ("dataset" in given or "data_path" in given):
        raise UsageError("vary --dataset or --data, not one while fixing the other")
    fixed = {f: v[0] for f, v in given.items()}
    return _BY_FIELD[field], list(values), fixed


def _num(x: float, digits: int = 4) -> str:
    """A number in at most about 10 characters: fixed point when that reads well."""
    if x == 0 or 10.0**-digits <= abs(x) < 1e5:
        return f"{x:.{digits}f}"
    return f"{x:.2e}"


def _stats_text(stats: dict[str, float], digits: int = 4) -> tuple[str, str]:
    if math.isnan(stats["mean"]):
        return "-", "-"
    return (f"{_num(stats['mean'], digits)} ± {_num(stats['std'], digits)}",
            f"{_num(stats['min'], digits)} / {_num(stats['max'], digits)}")


def _compare_table(option: _Option, summaries: dict[str, RunsSummary]) -> Table:
    metrics = {s.metric for s in summaries.values()}
    metric = metrics.pop() if len(metrics) == 1 else "accuracy or rmse"
    tolerance = any(s.config.tolerance is not None for s in summaries.values())
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column(option.flag.lstrip("-"), no_wrap=True)
    headers = ["loss\nmean ± std", "loss\nmin / max", f"{metric}\nmean ± std",
               f"{metric}\nmin / max", "converged\nruns"]
    if tolerance:
        headers.append("epochs to\ntolerance")
    for header in [*headers, "diverged\nruns"]:
        table.add_column(header, justify="right", no_wrap=True)
    for name, s in summaries.items():
        cells = [escape(name), *_stats_text(s.loss),
                 *_stats_text(s.score, 3 if s.metric == "accuracy" else 4),
                 f"{s.converged}/{len(s.runs)}"]
        if tolerance:
            to_tol = s.epochs_to_tolerance["mean"]
            cells.append("-" if math.isnan(to_tol) else f"{to_tol:.1f}")
        cells.append(f"{s.diverged}/{len(s.runs)}")
        table.add_row(*cells)
    return table


def _compare_note(summaries: dict[str, RunsSummary]) -> str:
    if any(s.config.tolerance is not None for s in summaries.values()):
        return ("converged: runs whose training loss reached --tolerance; epochs to tolerance: "
                "their mean")
    return ("converged: runs that finished without diverging (give --tolerance LOSS to count "
            "the runs that reach that loss, and how many epochs they take)")


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


def _cmd_compare(args: argparse.Namespace) -> int:
    option, values, fixed = _varied(args)
    base = _make_config(fixed)
    settings: dict[str, TrainConfig] = {}
    for value in values:
        config = _make_config({**base.as_dict(), option.field: value})
        _prepare(config)  # every setting is checked before any run starts
        settings[_show(option.field, value)] = config
    runs = args.runs
    seeds = range(runs)
    name = f"compare-{option.flag.lstrip('-')}"
    out = Path(args.out) if args.out is not None else Path("runs") / name
    _make_folder(out)
    console = _console()
    workers = min(args.workers or os.cpu_count() or 1, runs)
    if not args.quiet:
        console.print(
            f"comparing {option.flag} {' vs '.join(escape(k) for k in settings)}: {runs} runs "
            f"each (seeds 0..{runs - 1}), {workers} worker{'s' if workers > 1 else ''}"
        )
    summaries: dict[str, RunsSummary] = {}
    with contextlib.ExitStack() as stack:
        pool = stack.enter_context(ProcessPoolExecutor(workers)) if workers > 1 else None
        progress = stack.enter_context(_maybe_progress(not args.quiet))
        try:
            for label, config in settings.items():
                task = (progress.add_task(f"{option.flag} {label}", total=runs, status="")
                        if progress is not None else None)

                def done(task: TaskID | None = task, progress: Progress | None = progress) -> None:
                    if progress is not None and task is not None:
                        progress.advance(task)

                summaries[label] = evaluate(config, seeds,
                                            executor=_CountingExecutor(pool, done))
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
    _write_json(json_path, {
        "option": option.field,
        "flag": option.flag,
        "values": [_show(option.field, v) for v in values],
        "runs": runs,
        "seeds": list(seeds),
        "fixed": base.as_dict(),
        "settings": {label: _summary_json(s) for label, s in summaries.items()},
        "micrograd_version": __version__,
    })
    if not args.quiet:
        console.print(_compare_table(option, summaries))
        console.print(_compare_note(summaries))
        console.print(f"wrote {escape(str(out))}{os.sep}: {_names(files)}")
    return 0


# -- micrograd predict ------------------------------------------------------------------------


@dataclass(frozen=True)
class _ModelInfo:
    task: str
    classes: list[float] | None
    n_classes: int
    feature_names: list[str]
    target_name: str


def _model_info(model: MLP, meta: dict[str, Any], path: str) -> _ModelInfo:
    where = f"model file {path!r}: metadata"
    nout = model.nouts[-1]
    task = meta.get("task")
    if task is None:  # a model saved without metadata: show raw outputs, classes by argmax
        task = "multiclass" if nout > 1 else "regression"
    elif task not in TASKS:
        raise UsageError(f"{where}.task is {task!r}: expected one of {', '.join(TASKS)}")
    n_classes = meta.get("n_classes", nout if task == "multiclass" else 0)
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 0:
        raise UsageError(f"{where}.n_classes must be a whole number, got {n_classes!r}")
    if task == "binary":
        n_classes = 2
    want = n_classes if task == "multiclass" else 1
    if nout != want:
        raise UsageError(
            f"{where} says {task} with {n_classes} classes, but the model has {nout} outputs"
        )
    classes = meta.get("classes")
    if classes is not None and (
        not isinstance(classes, list) or len(classes) != n_classes
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in classes)
    ):
        raise UsageError(f"{where}.classes must list {n_classes} numbers, got {classes!r}")
    names = meta.get("feature_names")
    if not (isinstance(names, list) and len(names) == model.nin
            and all(isinstance(n, str) for n in names)):
        names = [f"x{i + 1}" for i in range(model.nin)]
    target = meta.get("target_name")
    return _ModelInfo(task, classes, n_classes, names,
                      target if isinstance(target, str) else "target")


def _label(info: _ModelInfo, k: int) -> str:
    value: float = info.classes[k] if info.classes is not None else k
    return plots._label_text(value)


def _sample_text(sample: list[float]) -> str:
    return ",".join(f"{x:g}" for x in sample)


def _check_width(sample: list[float], model: MLP, path: str) -> None:
    if len(sample) != model.nin:
        values = "value" if len(sample) == 1 else "values"
        inputs = "input" if model.nin == 1 else "inputs"
        raise UsageError(
            f"--input {_sample_text(sample)} has {len(sample)} {values}, but the model in "
            f"{path} takes {model.nin} {inputs}: give {model.nin} numbers separated by commas"
        )


def _read_inputs(path: Path, nin: int) -> tuple[NDArray[np.float64], NDArray[np.float64] | None,
                                                list[str] | None]:
    """(X, targets or None, header or None) from a CSV with `nin` or `nin` + 1 columns."""
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise UsageError(f"--csv {path} {what}: expected a CSV file of input rows")
    values, header, _ = read_csv_table(path)
    ncols = values.shape[1]
    if ncols not in (nin, nin + 1):
        raise UsageError(
            f"{path} has {ncols} columns, but the model takes {nin} inputs: expected {nin} "
            f"columns (the inputs) or {nin + 1} (the inputs, then the target)"
        )
    if ncols == nin:
        return values, None, header
    return np.ascontiguousarray(values[:, :-1]), values[:, -1], header


def _class_indices(info: _ModelInfo, targets: NDArray[np.float64], path: Path) -> NDArray[Any]:
    """Targets as written in a file -> class indices, through the model's `classes`."""
    labels = info.classes if info.classes is not None else list(range(info.n_classes))
    index = {float(c): k for k, c in enumerate(labels)}
    out = np.empty(len(targets), dtype=np.int64)
    for i, t in enumerate(targets.tolist()):
        if t not in index:
            shown = ", ".join(plots._label_text(c) for c in labels)
            raise UsageError(
                f"{path}: row {i + 1}: the target {plots._label_text(t)} is not one of the "
                f"model's classes ({shown})"
            )
        out[i] = index[t]
    return out


def _raw_outputs(model: MLP, X: NDArray[np.float64]) -> NDArray[np.float64]:
    with gc_paused():
        out = model(X)
    if not isinstance(out, Value):
        raise TypeError("a batched forward pass should return one Value")
    data = np.asarray(out.data, dtype=np.float64)
    return data[:, None] if data.ndim == 1 else data


def _cmd_predict(args: argparse.Namespace) -> int:
    path = args.model
    model = load(path)
    info = _model_info(model, load_metadata(path), path)
    targets: NDArray[np.float64] | None = None
    target_name = info.target_name
    if args.input:
        for sample in args.input:
            _check_width(sample, model, path)
        X = np.array(args.input, dtype=np.float64)
        names = info.feature_names
    else:
        X, targets, header = _read_inputs(Path(args.csv), model.nin)
        names = header[: model.nin] if header else info.feature_names
        if header and targets is not None:
            target_name = header[-1]
    outputs = _raw_outputs(model, X)

    # Each column: its name, how a table shows its numbers, and its values.
    columns: list[tuple[str, str, list[Any]]] = [
        (name, "input", X[:, j].tolist()) for j, name in enumerate(names)]
    if targets is not None:
        kind = "input" if info.task == "regression" else "label"
        columns.append((f"{target_name} (given)", kind, targets.tolist()))
    if outputs.shape[1] == 1:
        columns.append(("output", "output", outputs[:, 0].tolist()))
    else:
        columns += [(f"output {_label(info, k)}", "output", outputs[:, k].tolist())
                    for k in range(outputs.shape[1])]
    summary = ""
    if info.task != "regression":
        predicted = predict(model, X, info.task)
        columns.append(("class", "class", [_label(info, int(k)) for k in predicted.tolist()]))
        if targets is not None:
            truth = _class_indices(info, targets, Path(args.csv))
            summary = (f"accuracy {accuracy(truth, predicted):.4f} on {len(truth)} samples "
                       f"({int((truth == predicted).sum())} right)")
    elif targets is not None:
        pred = outputs[:, 0]
        summary = (f"rmse {rmse(targets, pred):.4f}, r2 {r2_score(targets, pred):.4f} on "
                   f"{len(targets)} samples")

    console = _console()
    if args.output is not None or args.format == "csv":
        text = _csv_text([c[0] for c in columns],
                         [list(row) for row in zip(*(_csv_cells(c) for c in columns))])
        if args.output is not None:
            out_path = Path(args.output)
            _make_folder(out_path.parent)
            _write_text(out_path, text)
            console.print(f"wrote {len(X)} prediction{'s' if len(X) != 1 else ''} to "
                          f"{escape(str(out_path))}")
            if summary:
                console.print(summary)
        else:
            sys.stdout.write(text)
            if summary:  # stdout holds only the CSV
                print(summary, file=sys.stderr)
        return 0
    console.print(f"predictions of {escape(path)} ({info.task})")
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name, _, _ in columns:
        table.add_column(escape(name), justify="right")
    for row in zip(*(_table_cells(c) for c in columns)):
        table.add_row(*row)
    console.print(table)
    if summary:
        console.print(summary)
    return 0


def _csv_cells(column: tuple[str, str, list[Any]]) -> list[str]:
    """Exact text: floats as the shortest repr that reads back the same."""
    _, kind, values = column
    if kind == "class":
        return [str(v) for v in values]
    if kind == "label":
        return [plots._label_text(v) for v in values]
    return [repr(float(v)) for v in values]


def _table_cells(column: tuple[str, str, list[Any]]) -> list[str]:
    _, kind, values = column
    if kind == "class":
        return [escape(str(v)) for v in values]
    if kind == "label":
        return [plots._label_text(v) for v in values]
    if kind == "input":
        return [f"{v:.6g}" for v in values]
    return [_num(v) for v in values]


def _csv_text(columns: list[str], rows: list[list[str]]) -> str:
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


# -- micrograd graph --------------------------------------------------------------------------

_GRAPH_SUFFIXES = (".dot", ".gv", ".svg", ".html", ".png")
_GET_GRAPHVIZ = ("install Graphviz: sudo apt-get install graphviz (Debian, Ubuntu), brew install "
                 "graphviz (macOS), or see https://graphviz.org/download")


def _evaluate_expression(expression: str, assignments: list[str]) -> Value:
    variables = parse_assignments(assignments)
    try:
        root = parse_expression(expression, variables)
    except (ArithmeticError, ValueError) as e:
        if isinstance(e, ExpressionError):
            raise
        # The engine's math errors (log of a negative number, division by zero, overflow).
        raise UsageError(f"cannot evaluate {expression!r} with these values: {e}") from None
    used = {v.label for v in root.topo_sort() if not v._op}
    unused = [name for name in variables if name not in used]
    if unused:
        print(f"{PROG}: note: {', '.join(unused)} not used by the expression", file=sys.stderr)
    root.backward()
    return root


def _cmd_graph(args: argparse.Namespace) -> int:
    console = _console()
    if args.model is not None:
        if args.expression is not None:
            raise UsageError("draw an expression or a --model, not both")
        if args.input is None:
            raise UsageError(
                f"--model {args.model} needs one --input sample to trace, e.g. --input 0.5,1.0"
            )
        model = load(args.model)
        _check_width(args.input, model, args.model)
        root = trace_model(model, args.input)
        what = f"{args.model} on input {_sample_text(args.input)}"
        verdict = _verdict(model, load_metadata(args.model), args.model, args.input)
    else:
        if args.expression is None:
            raise UsageError(
                "give an expression and its values, e.g. micrograd graph \"(a*b + c).tanh()\" "
                "a=2 b=-3 c=10, or a model: --model model.json --input 0.5,1.0"
            )
        if args.input is not None:
            raise UsageError("--input goes with --model; an expression takes name=value pairs")
        root = _evaluate_expression(args.expression, args.assignments)
        what = args.expression
        verdict = ""
    graph = draw_dot(root, rankdir=args.rankdir, max_nodes=args.max_nodes)

    stem = Path(args.out)
    if stem.suffix.lower() in _GRAPH_SUFFIXES:
        stem = stem.with_suffix("")
    if stem.parent != Path():
        _make_folder(stem.parent)
    has_dot = shutil.which("dot") is not None
    if args.engine == "graphviz" and not has_dot:
        raise UsageError(f"--engine graphviz needs Graphviz's dot program on PATH: "
                         f"{_GET_GRAPHVIZ}; or use --engine builtin")
    engine = "graphviz" if has_dot and args.engine != "builtin" else "builtin"
    notes = []

    def target(suffix: str) -> Path:
        return stem.parent / f"{stem.name}{suffix}"

    written = [graph.save(target(".dot"))]
    try:
        written.append(graph.save(target(".svg"), engine=engine))
        written.append(graph.save(target(".html"), engine=engine, title=f"micrograd: {what}"))
    except GraphvizError as e:
        notes.append(f"Graphviz failed ({e}); drew the SVG and HTML with the builtin layout")
        engine = "builtin"
        written.append(graph.save(target(".svg"), engine="builtin"))
        written.append(graph.save(target(".html"), engine="builtin", title=f"micrograd: {what}"))
    png = target(".png")
    if has_dot and args.engine != "builtin":
        try:
            written.append(graph.save(png, engine="graphviz"))
        except GraphvizError as e:
            notes.append(f"PNG skipped: {e}")
    elif has_dot:
        notes.append("PNG skipped: --engine builtin draws only SVG and HTML")
    else:
        notes.append(f"PNG skipped: Graphviz's dot program is not installed, so the SVG and "
                     f"HTML use the builtin layout; for a PNG, {_GET_GRAPHVIZ}")
    if not any(p == png for p in written):
        with contextlib.suppress(FileNotFoundError):
            png.unlink()  # an older picture of another graph would mislead

    if not args.quiet:
        _print_graph_values(console, root, args.model is not None)
        if verdict:
            console.print(verdict)
        layout = "Graphviz" if engine == "graphviz" else "builtin layout"
        folder = "" if stem.parent == Path() else f"{stem.parent}{os.sep}"
        console.print(f"graph of {len(graph)} values ({layout}); wrote {escape(folder)}: "
                      f"{_names(written)}" if folder else
                      f"graph of {len(graph)} values ({layout}); wrote {_names(written)}")
        for note in notes:
            console.print(escape(note))
    return 0


def _verdict(model: MLP, meta: dict[str, Any], path: str, sample: list[float]) -> str:
    """What the model makes of the sample: its outputs and, for classification, the class."""
    info = _model_info(model, meta, path)
    X = np.array([sample], dtype=np.float64)
    outputs = ", ".join(f"{o:.6g}" for o in _raw_outputs(model, X)[0].tolist())
    if info.task == "regression":
        return f"model output: {outputs}"
    k = int(predict(model, X, info.task)[0])
    return f"model output: {outputs} -> class {_label(info, k)}"


def _print_graph_values(console: Console, root: Value, is_model: bool) -> None:
    """The result and the gradient of every named input: what the picture shows, in brief."""
    leaves = [v for v in root.topo_sort() if not v._op and v.label]
    if is_model:
        leaves = [v for v in leaves if v.label.startswith("x")]
    table = Table(box=box.SIMPLE_HEAD, title=f"{escape(root.label or 'result')} = "
                  f"{float(root.data):.6g}", title_justify="left")
    table.add_column("input" if is_model else "variable")
    table.add_column("value", justify="right")
    table.add_column(f"d {root.label or 'result'} / d input", justify="right")
    for v in sorted(leaves, key=lambda v: v.label):
        table.add_row(escape(v.label), f"{float(v.data):.6g}", f"{float(v.grad):.6g}")
    console.print(table)


# -- the parser -------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line: what is wrong and where to read more."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        width = min(shutil.get_terminal_size().columns, 110)
        super().__init__(prog, max_help_position=30, width=width)


_TOP_EXAMPLES = f"""\
examples:
  {PROG} train                                  two moons, the original demo's network
  {PROG} train --dataset yinyang --layers 16,16,3 --optimizer adam --lr 0.01 --epochs 200
  {PROG} compare --activation tanh relu         tanh or ReLU? 10 seeds each
  {PROG} predict --model runs/moons-relu-seed0/model.json --input 0.5,0.2
  {PROG} graph "(a*b + c).tanh()" a=2 b=-3 c=10

Run '{PROG} COMMAND --help' for each command's options and their defaults.
"""

_TRAIN_EXAMPLES = f"""\
examples:
  {PROG} train
      two moons, 100 samples, a 2-16-16-1 ReLU network, hinge loss, SGD lr 1 decaying
      linearly, 100 epochs; writes runs/moons-relu-seed0/
  {PROG} train --dataset yinyang --layers 16,16,3 --optimizer adam --lr 0.01 --epochs 200
  {PROG} train --dataset circles --activation tanh --val 0.2 --patience 20 --epochs 500
  {PROG} train --data points.csv --test 0.25 --out runs/mine
  {PROG} train --dataset regression_1d --optimizer adam --lr 0.01 --epochs 300

writes into --out: model.json (weights and what predict needs), run.json (config, final
metrics, every epoch), curves.png (loss and accuracy or rmse per epoch), and for 2-D
classification decision_boundary.png, for 1-D regression fit.png.
"""

_COMPARE_EXAMPLES = f"""\
examples:
  {PROG} compare --activation tanh relu
  {PROG} compare --optimizer sgd adam --lr 0.05 --epochs 200
  {PROG} compare --lr 0.1 0.5 1.0 --dataset circles --runs 20 --tolerance 0.05
  {PROG} compare --layers 8,1 16,16,1 --mode per-sample --runs 5

Every other option is fixed at the value given (or its default); each setting is trained
with seeds 0..RUNS-1. Writes compare.png (every run's final loss and accuracy, per setting)
and compare.json into --out.
"""

_PREDICT_EXAMPLES = f"""\
examples:
  {PROG} predict --model runs/moons-relu-seed0/model.json --input 0.5,0.2 --input 1,-0.3
  {PROG} predict --model runs/moons-relu-seed0/model.json --input=-0.5,0.2
      (a value starting with '-' needs the '=' form)
  {PROG} predict --model model.json --csv points.csv
      with one more column than the model's inputs, the last is taken as the target and
      the accuracy (or rmse) is reported too
  {PROG} predict --model model.json --csv points.csv --format csv --output predictions.csv
"""

_GRAPH_EXAMPLES = f"""\
examples:
  {PROG} graph "(a*b + c).tanh()" a=2 b=-3 c=10
  {PROG} graph "relu(x*w + b) ** 2 / 2" x=1.5 w=-0.5 b=1 --out pics/neuron
  {PROG} graph --model runs/moons-relu-seed0/model.json --input 0.5,1.0
  {PROG} graph -- "-a * b" a=1 b=2     (an expression starting with '-' goes after --)

Expressions may use numbers, the variables given, + - * / ** //, and tanh relu sigmoid exp
log sqrt abs as f(x) or x.f(); nothing else is evaluated. Writes NAME.dot, NAME.svg and
NAME.html (a self-contained page), and NAME.png when Graphviz is installed.
"""


def _add_output_options(parser: argparse.ArgumentParser, out_default: str) -> None:
    group = parser.add_argument_group("output")
    group.add_argument("--out", metavar="DIR", default=None,
                       help=f"folder for the files (default: {out_default})")
    group.add_argument("--no-plots", action="store_true",
                       help="skip the PNG pictures (default: draw them)")
    group.add_argument("--quiet", action="store_true",
                       help="print nothing but errors (default: progress bar and summary)")


def _para(text: str) -> str:
    return textwrap.fill(text, 88)


def build_parser() -> argparse.ArgumentParser:
    """The `micrograd` argument parser with its four subcommands."""
    parser = _Parser(
        prog=PROG,
        description="micrograd: train, compare, use and draw tiny neural networks built on a "
                    "scalar autograd engine.",
        epilog=_TOP_EXAMPLES,
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")

    p = commands.add_parser(
        "train", help="train one network and save it with its curves and pictures",
        description=_para("Train one network: a progress bar while it trains, a summary table at "
                    "the end, and the model, its history and pictures in --out."),
        epilog=_TRAIN_EXAMPLES, formatter_class=_Formatter)
    _add_config_options(p, several=False)
    _add_output_options(p, "runs/DATASET-ACTIVATION-seedSEED, e.g. runs/moons-relu-seed0")
    p.set_defaults(run=_cmd_train)

    p = commands.add_parser(
        "compare", help="train each setting of one option over many seeds and compare",
        description=_para("Answer 'which setting is better?' with repeated runs: vary ONE option "
                    "over two or more values; every other option keeps one value."),
        epilog=_COMPARE_EXAMPLES, formatter_class=_Formatter)
    runs = p.add_argument_group("repetition")
    runs.add_argument("--runs", type=_positive_int, default=10, metavar="N",
                      help="runs per setting, with seeds 0..N-1 (default: 10)")
    runs.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                      help="processes to train in; 1 trains here, serially (default: one per "
                           f"CPU core, {os.cpu_count() or 1} on this machine)")
    _add_config_options(p, several=True)
    _add_output_options(p, "runs/compare-OPTION, e.g. runs/compare-activation")
    p.set_defaults(run=_cmd_compare)

    p = commands.add_parser(
        "predict", help="run a saved model on inputs from the command line or a CSV file",
        description=_para("Predict with a model saved by 'micrograd train': prints the inputs, the "
                    "raw outputs and, for classification, the predicted class."),
        epilog=_PREDICT_EXAMPLES, formatter_class=_Formatter)
    p.add_argument("--model", required=True, metavar="MODEL.json",
                   help="a model file written by micrograd train (required)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", action="append", type=_sample, metavar="X1,X2,...",
                        help="one sample, its inputs separated by commas; repeat for more "
                             "(default: none; give --input or --csv)")
    source.add_argument("--csv", metavar="FILE.csv",
                        help="a CSV file of samples, with or without a header; one extra "
                             "column is read as the target (default: none)")
    p.add_argument("--format", choices=("table", "csv"), default="table",
                   help="how to print the predictions (default: table)")
    p.add_argument("--output", metavar="FILE.csv", default=None,
                   help="write the predictions to this CSV file instead of printing them "
                        "(default: print)")
    p.set_defaults(run=_cmd_predict)

    p = commands.add_parser(
        "graph", help="draw the computation graph of an expression or of a model",
        description=_para("Draw a computation graph after backward(): every node shows its op, "
                    "data and grad, and its label where it has one."),
        epilog=_GRAPH_EXAMPLES, formatter_class=_Formatter)
    p.add_argument("expression", nargs="?", default=None,
                   help="an expression such as \"(a*b + c).tanh()\" (default: none; or use "
                        "--model)")
    p.add_argument("assignments", nargs="*", metavar="NAME=VALUE",
                   help="a value for each variable, e.g. a=2 b=-3 (default: none)")
    p.add_argument("--model", default=None, metavar="MODEL.json",
                   help="draw this model's graph for one --input instead (default: none)")
    p.add_argument("--input", type=_sample, default=None, metavar="X1,X2,...",
                   help="the sample to run through --model (default: none)")
    p.add_argument("--out", default="graph", metavar="NAME",
                   help="where to write, without extension: NAME.dot, NAME.svg, NAME.html, "
                        "NAME.png (default: graph)")
    p.add_argument("--rankdir", choices=RANKDIRS, default="LR",
                   help="LR draws inputs on the left, TB at the top (default: LR)")
    p.add_argument("--engine", choices=ENGINES, default="auto",
                   help="who lays out the SVG and HTML: Graphviz, the builtin layout, or auto "
                        "(Graphviz when installed) (default: auto)")
    p.add_argument("--max-nodes", type=_positive_int, default=MAX_NODES, metavar="N",
                   help=f"refuse graphs with more values than this (default: {MAX_NODES})")
    p.add_argument("--quiet", action="store_true",
                   help="print nothing but errors (default: print the values and the files)")
    p.set_defaults(run=_cmd_graph)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (argparse's own errors exit with 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        result: int = args.run(args)
        return result
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except (UsageError, DataError, ModelFileError, ExpressionError, GraphTooLargeError) as e:
        return _fail(str(e))
    except TrainingDiverged as e:
        return _fail(str(e))
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        return _fail(f"{where}{e.strerror or e}")


if __name__ == "__main__":
    sys.exit(main())
