"""From a page's `Setup` to what a playground session trains: the data and its splits, the
input features the network reads, the loss, the model and the optimizer with its schedule.

A session rebuilds only what a new setup changes: a field in `DATA_FIELDS` reloads the data
(and makes a new model), one in `MODEL_FIELDS` makes a new model, one in `TRAIN_FIELDS` a new
optimizer. A setup that validates field by field but cannot be built (a loss for another task,
a CSV file the server no longer has) raises `SetupError`, a `MessageError`, so the page gets
it as a message.

The network reads the setup's input features (`Setup.features`, e.g. x1^2 or sin(x2)) computed
from the data's raw inputs, or the raw inputs themselves when no features are set.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import numpy as np

from ..batched import BatchedMLP, Model, batched, per_sample
from ..data import DataError, Dataset, load_dataset, train_val_test_split
from ..features import check, transform
from ..loop import DEFAULT_LOSS, TASK_LOSSES
from ..nn import MLP
from ..optim import OPTIMIZERS, LRScheduler, Optimizer, make_scheduler
from .messages import MessageError, Setup

__all__ = [
    "DATA_FIELDS",
    "MODEL_FIELDS",
    "SCHEDULE_EPOCHS",
    "TRAIN_FIELDS",
    "SetupError",
    "Splits",
    "build_model",
    "build_optimizer",
    "check_features",
    "feature_names",
    "in_mode",
    "load_data",
    "loss_for",
    "network_inputs",
    "raw_names",
]

# A learning-rate schedule needs a length: with epochs 0 (train until paused) it spans this many
# epochs (then goes on as the schedule does past its end: cosine rises again, as torch's).
SCHEDULE_EPOCHS = 1000
DATA_FIELDS = ("dataset", "csv", "noise", "samples", "test", "seed")
MODEL_FIELDS = ("layers", "activation", "features")
TRAIN_FIELDS = (
    "loss",
    "optimizer",
    "lr",
    "schedule",
    "epochs",
    "regularization",
    "reg_rate",
    "batch_size",
    "mode",
)

# (whole set, train split, test split)
Splits = tuple[Dataset, Dataset, Dataset]


class SetupError(MessageError):
    """A setup that validates field by field but cannot be built (a loss for another task)."""


def load_data(setup: Setup, csv_lookup: Callable[[str], Dataset | None]) -> Splits:
    """(whole set, train split, test split) for a setup, or `SetupError`. `csv_lookup` finds an
    uploaded CSV data set by its name (None if the server does not have it)."""
    if setup.dataset == "csv":
        if setup.csv is None:
            raise SetupError("dataset: csv needs an uploaded file: choose one to upload")
        found = csv_lookup(setup.csv)
        if found is None:
            raise SetupError(
                f"csv: the uploaded file {setup.csv} is not on this server (it may have "
                "restarted): upload the file again"
            )
        ds = found
    else:
        try:
            ds = load_dataset(setup.dataset, setup.samples, setup.noise, setup.seed)
        except DataError as e:
            raise SetupError(f"dataset: {e}") from None
    try:
        train, _, test = train_val_test_split(ds, val=0.0, test=setup.test, seed=setup.seed)
    except DataError as e:
        raise SetupError(f"test: {e}") from None
    return ds, train, test


def check_features(setup: Setup, ds: Dataset) -> None:
    """Raise `SetupError` if the setup's input features do not fit the data set `ds`."""
    if setup.features is None:
        return
    if setup.dataset == "csv":
        raise SetupError(
            "features: a CSV data set trains on its own columns; leave features unset "
            "(input features are for the built-in sets)"
        )
    problem = check(setup.features, ds.n_features)
    if problem is not None:
        raise SetupError(problem)


def loss_for(setup: Setup, ds: Dataset) -> str:
    """The loss the setup trains `ds` with ("auto": the task's default), or `SetupError` if it
    does not fit the task."""
    task = ds.task
    loss = setup.loss if setup.loss != "auto" else DEFAULT_LOSS[task]
    if loss not in TASK_LOSSES[task]:
        raise SetupError(
            f"loss: {loss} does not fit {ds.name}, a {task} task; choose "
            f"{' or '.join(TASK_LOSSES[task])}, or auto"
        )
    return loss


def network_inputs(X: np.ndarray, setup: Setup) -> np.ndarray:
    """What the network reads for raw inputs X: the setup's features of them, or X."""
    return X if setup.features is None else transform(setup.features, X)


def raw_names(inputs: int) -> list[str]:
    """The names of a data set's raw inputs, as the page labels them (x1, x2, ...)."""
    return [f"x{j + 1}" for j in range(inputs)]


def feature_names(setup: Setup, inputs: int) -> list[str]:
    """The inputs the network reads, in order: the setup's features or the data's `inputs` raw
    inputs."""
    return list(setup.features) if setup.features is not None else raw_names(inputs)


def build_model(setup: Setup, ds: Dataset) -> Model:
    """A new model for `ds` with fresh weights from the setup's seed, in the form its `mode`
    trains: a `BatchedMLP` for "batched", an `MLP` (scalar Values) for "per-sample"."""
    nout = ds.n_classes if ds.task == "multiclass" else 1
    form = BatchedMLP if setup.mode == "batched" else MLP
    return form(
        len(feature_names(setup, ds.n_features)),
        [*setup.layers, nout],
        activation=setup.activation,
        rng=random.Random(setup.seed),
    )


def in_mode(model: Model, mode: str) -> Model:
    """The model in the form `mode` trains: itself, or a converted copy (the same weights)."""
    return batched(model) if mode == "batched" else per_sample(model)


def build_optimizer(setup: Setup, model: Model, epoch: int) -> tuple[Optimizer, LRScheduler]:
    """The setup's optimizer over the model's parameters and its learning-rate schedule,
    advanced to `epoch` (the epoch the run is at)."""
    name = "sgd" if setup.optimizer == "momentum" else setup.optimizer
    kwargs: dict[str, Any] = {"lr": setup.lr}
    if setup.optimizer == "momentum":
        kwargs["momentum"] = 0.9
    optimizer = OPTIMIZERS[name](model.parameters(), **kwargs)
    horizon = setup.epochs or SCHEDULE_EPOCHS
    scheduler = make_scheduler(setup.schedule, optimizer, horizon)
    # A new optimizer mid-run picks the schedule up where the run is.
    for _ in range(epoch if setup.epochs == 0 else min(epoch, setup.epochs)):
        scheduler.step()
    return optimizer, scheduler
