"""The options that make a `TrainConfig`, and the checks of a config against its data.

`OPTIONS` lists every `train.TrainConfig` field the command sets: its flag, how it is parsed and
how its default reads in `--help`. `train` takes one value per option, `compare` one or more.
`make_config` builds the config from the options the user gave: an option not given takes the
dataset's own default (the real datasets carry theirs: `data.training_defaults`), else
TrainConfig's. `prepare` loads the data and rejects, in terms of options, what training would
reject later.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from inspect import signature
from pathlib import Path
from typing import Any

import numpy as np

from ..data import DATASETS, DataError, Dataset, training_defaults
from ..loop import DEFAULT_LOSS, MODES, TASK_LOSSES
from ..losses import LOSSES
from ..nn import ACTIVATIONS
from ..optim import OPTIMIZERS, SCHEDULES
from ..run import (
    TrainConfig,
    config_for,
    dataset_defaults,
    layer_widths,
    load_data,
    output_width,
)
from .arguments import (
    UsageError,
    fraction,
    layers,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    standardize,
)
from .limits import check_csv, check_network, check_samples

__all__ = [
    "BY_FIELD",
    "DEFAULTS",
    "OPTIONS",
    "Option",
    "add_config_options",
    "make_config",
    "model_shape",
    "own_defaults_help",
    "prepare",
    "show",
    "typed",
]


@dataclass(frozen=True)
class Option:
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


DEFAULTS = TrainConfig()
# Data beyond this is refused: a network's products and squares of it overflow a float.
MAX_DATA_SCALE = 1e100
_LOSS_BY_TASK = ", ".join(f"{loss} for {task}" for task, loss in DEFAULT_LOSS.items())

OPTIONS = (
    Option(
        "--dataset",
        "dataset",
        None,
        "a generated dataset, or a real one that scikit-learn ships (digits, iris, wine, "
        'breast-cancer, diabetes; pip install "micrograd[datasets]")',
        DEFAULTS.dataset,
        choices=tuple(DATASETS),
    ),
    Option(
        "--data",
        "data_path",
        None,
        "a CSV file instead: the features, then the target in the last column; a header "
        "line is optional; integer targets are class labels",
        "none, use --dataset",
        metavar="FILE.csv",
    ),
    Option(
        "--task",
        "task",
        None,
        "what the targets of --data are: class labels 0..C-1 (classification, or binary or "
        "multiclass to insist on one), or numbers to predict (regression)",
        "inferred: integer targets with few values are class labels",
        choices=("classification", "binary", "multiclass", "regression"),
    ),
    Option(
        "--samples",
        "samples",
        positive_int,
        "how many samples to generate",
        f"the dataset's own: {_dataset_defaults('n_samples')}",
        metavar="N",
    ),
    Option(
        "--noise",
        "noise",
        non_negative_float,
        "standard deviation of the gaussian noise added to the generated data",
        f"the dataset's own: {_dataset_defaults('noise')}",
        metavar="SIGMA",
    ),
    Option(
        "--data-seed",
        "data_seed",
        non_negative_int,
        "seed of the generated data and of the validation/test split",
        str(DEFAULTS.data_seed),
        metavar="N",
    ),
    Option(
        "--val",
        "val",
        fraction,
        "fraction of the data held out for validation (reported every epoch)",
        f"{DEFAULTS.val:g}, no validation set",
        metavar="FRACTION",
    ),
    Option(
        "--test",
        "test",
        fraction,
        "fraction of the data held out for a final test (stratified by class for "
        "classification), reported by train; 0 holds out none",
        f"{DEFAULTS.test:g}, no test set",
        metavar="FRACTION",
    ),
    Option(
        "--standardize",
        "standardize",
        standardize,
        "rescale every feature to mean 0 and standard deviation 1 with the training split's "
        "statistics, kept in model.json for predict: yes, no, or auto (as the dataset asks: "
        "yes for the real datasets)",
        "auto",
        metavar="yes|no|auto",
    ),
    Option(
        "--layers",
        "layers",
        layers,
        "width of every layer, the output layer last; the output must fit the task: 1 for "
        "two classes or regression, C for C classes",
        "16,16,1, or 16,16,C for C classes",
        metavar="W,W,...",
    ),
    Option(
        "--activation",
        "activation",
        None,
        "activation of the hidden layers",
        DEFAULTS.activation,
        choices=tuple(ACTIVATIONS),
    ),
    Option(
        "--loss",
        "loss",
        None,
        "loss to minimise: hinge, bce or mse for two classes, cross_entropy for more, "
        "mse for regression",
        f"by task: {_LOSS_BY_TASK}",
        choices=tuple(LOSSES),
    ),
    Option(
        "--optimizer",
        "optimizer",
        None,
        "the optimizer",
        DEFAULTS.optimizer,
        choices=tuple(OPTIMIZERS),
    ),
    Option(
        "--lr",
        "lr",
        positive_float,
        "learning rate at the start",
        f"{DEFAULTS.lr:g}",
        metavar="RATE",
    ),
    Option(
        "--momentum",
        "momentum",
        non_negative_float,
        "momentum (sgd only)",
        f"{DEFAULTS.momentum:g}",
        metavar="M",
    ),
    Option(
        "--schedule",
        "schedule",
        None,
        "how the learning rate changes over the epochs: constant; linear to lr/10; step "
        "(divide by 10 every third of the epochs); exponential to lr/100; cosine to 0",
        DEFAULTS.schedule,
        choices=tuple(SCHEDULES),
    ),
    Option(
        "--epochs",
        "epochs",
        positive_int,
        "the most epochs to train",
        str(DEFAULTS.epochs),
        metavar="N",
    ),
    Option(
        "--batch-size",
        "batch_size",
        positive_int,
        "samples per step, shuffled every epoch",
        "the whole training set in one step",
        metavar="N",
    ),
    Option(
        "--l1",
        "l1",
        non_negative_float,
        "weight of the L1 penalty on the parameters",
        f"{DEFAULTS.l1:g}",
        metavar="WEIGHT",
    ),
    Option(
        "--l2",
        "l2",
        non_negative_float,
        "weight of the L2 penalty on the parameters",
        f"{DEFAULTS.l2:g}",
        metavar="WEIGHT",
    ),
    Option(
        "--tolerance",
        "tolerance",
        non_negative_float,
        "stop once the training loss is at or below this",
        "none, train every epoch",
        metavar="LOSS",
    ),
    Option(
        "--patience",
        "patience",
        positive_int,
        "stop once the validation loss has not improved for N epochs, and keep the best "
        "epoch's weights (needs --val)",
        "none, no early stopping",
        metavar="N",
    ),
    Option(
        "--seed",
        "seed",
        non_negative_int,
        "seed of the initial weights and of the batch shuffling",
        str(DEFAULTS.seed),
        metavar="N",
    ),
    Option(
        "--mode",
        "mode",
        None,
        "batched: a BatchedMLP, whole arrays through a few nodes per layer (fast); "
        "per-sample: an MLP, one scalar graph per sample, as in the original micrograd (slow; "
        "same weights, same results to rounding)",
        DEFAULTS.mode,
        choices=MODES,
    ),
)
BY_FIELD = {o.field: o for o in OPTIONS}


def own_defaults_help() -> str:
    """Each dataset's own defaults as an epilog of --help lists them, from the one registry
    (`data.training_defaults`), in lines as wide as the examples'."""
    lines = ["a dataset's own defaults, used where the option is not given:"]
    for name in DATASETS:
        own = training_defaults(name)
        if own:
            pairs = typed(own)
            line = f"  {name:<15}{pairs[0]}"
            for pair in pairs[1:]:  # a flag and its value stay on one line
                if len(line) + 1 + len(pair) > 94:
                    lines.append(line)
                    line = " " * 17
                line += pair if line.isspace() else f" {pair}"
            lines.append(line)
    return "\n".join(lines) + "\n"


def add_config_options(parser: argparse.ArgumentParser, *, several: bool) -> None:
    """The TrainConfig options; with `several`, each takes one or more values (compare).

    An option not given is left out of the namespace (train) or None (compare), so that
    `make_config` can tell it from one given, whatever its value."""
    group = parser.add_argument_group(
        "what to train (give ONE of these two or more values to compare them)"
        if several
        else "what to train"
    )
    source = group.add_mutually_exclusive_group()
    for o in OPTIONS:
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
                kwargs["help"] = f"{o.help}: any of {', '.join(o.choices)} (default: {o.default})"
        if several:
            kwargs["nargs"] = "+"
            kwargs["default"] = None
        else:
            kwargs["default"] = argparse.SUPPRESS
        target.add_argument(o.flag, **kwargs)


def make_config(given: dict[str, Any]) -> TrainConfig:
    """The config from the options `given` (TrainConfig fields the user set): each one not given
    is the dataset's own default, else TrainConfig's (`run.config_for`)."""
    if given.get("task") is not None and given.get("data_path") is None:
        raise UsageError(
            f"--task {given['task']} says what the targets of --data FILE.csv are; "
            f"--dataset {given.get('dataset') or DEFAULTS.dataset} has its own task"
        )
    try:
        return config_for(**given)
    except ValueError as e:  # TrainConfig checks only what the user chose
        own = dataset_defaults(given)
        if not own:
            raise UsageError(str(e)) from None
        name = given.get("dataset") or DEFAULTS.dataset
        raise UsageError(
            f"{e} ({name} trains with {' '.join(typed(own))} unless told otherwise: give the "
            "option to change it)"
        ) from None


def typed(values: dict[str, Any]) -> list[str]:
    """Config `values` by field as options typed on the command line: ["--lr 0.01", ...]."""
    return [f"{BY_FIELD[k].flag} {show(k, v)}" for k, v in values.items()]


def show(field: str, value: Any) -> str:
    """A config value as it would be typed on the command line."""
    if field == "standardize":
        return {None: "auto", True: "yes", False: "no"}[value]
    if value is None:
        return "none"
    if field == "layers":
        return ",".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _load(config: TrainConfig, allow_large: bool) -> Dataset:
    if config.data_path is not None:
        path = Path(config.data_path)
        if config.samples is not None or config.noise is not None:
            raise UsageError(
                "--samples and --noise shape a generated dataset; they do not apply to --data "
                f"{path}: leave them out, or use --dataset"
            )
        check_csv(path, "--data", allow_large)
    check_samples(config.samples, allow_large)
    try:
        ds = load_data(config)
    except DataError as e:
        if config.noise is not None and "non-finite" in str(e):
            raise UsageError(_too_noisy(config.noise)) from None
        raise
    scale = float(np.abs(ds.X).max(initial=0.0))
    if ds.task == "regression":
        scale = max(scale, float(np.abs(ds.y).max(initial=0.0)))
    if scale > MAX_DATA_SCALE:
        if config.data_path is None and config.noise is not None:
            raise UsageError(_too_noisy(config.noise))
        raise UsageError(
            f"{ds.name}'s values reach {scale:.3g}: a network cannot train on numbers that "
            f"large (their products overflow); scale the data to within ±{MAX_DATA_SCALE:g}, "
            "ideally to about ±1"
        )
    return ds


def _too_noisy(noise: float) -> str:
    return (
        f"--noise {noise:g} makes the generated data too large to train on (its values "
        f"overflow or pass {MAX_DATA_SCALE:g}): use a noise well below 1, e.g. --noise 0.1"
    )


def _check(config: TrainConfig, ds: Dataset) -> None:
    """Everything the library would reject once training starts, said in terms of options."""
    need = output_width(ds)
    kind = f"{ds.n_classes} classes" if ds.task == "multiclass" else f"a {ds.task} task"
    if config.layers is not None and config.layers[-1] != need:
        fixed = ",".join(map(str, [*config.layers[:-1], need]))
        raise UsageError(
            f"--layers {show('layers', config.layers)} ends with {config.layers[-1]} "
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


def prepare(config: TrainConfig, allow_large: bool = False) -> Dataset:
    """The config's data, after checking that the config fits it and the size limits."""
    ds = _load(config, allow_large)
    _check(config, ds)
    check_network(model_shape(config, ds), allow_large)
    return ds


def model_shape(config: TrainConfig, ds: Dataset) -> list[int]:
    return [ds.n_features, *layer_widths(config, ds)]
