"""One training run, whole: a `TrainConfig` describes it, `train(config)` makes it, and
`TrainResult` holds what it made; `RunOutcome` and `RunsSummary` describe many runs.

`train(config)` builds the data, the model and the optimizer from a `TrainConfig` and runs `fit`,
after a split that is stratified for classification and, when asked (or when the dataset asks,
as real data does), standardising the features with the training split's statistics. Every run
is reproducible from its config alone. `config_for(**given)` is the config the command builds from
the options given: where one is not given, the dataset's own default (`data.training_defaults`)
comes before TrainConfig's, so `config_for(dataset="digits")` holds out a test split.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from .batched import BatchedMLP, Model
from .data import (
    TASKS,
    Dataset,
    load_csv,
    load_dataset,
    train_val_test_split,
    training_defaults,
)
from .loop import (
    DEFAULT_LOSS,
    MODES,
    Callback,
    ConfigError,
    History,
    check_task_loss,
    fit,
    validation_scores,
)
from .nn import MLP
from .optim import OPTIMIZERS, SCHEDULES, make_scheduler
from .preprocessing import Standardizer

__all__ = [
    "RunOutcome",
    "RunsSummary",
    "TrainConfig",
    "TrainResult",
    "build_model",
    "config_for",
    "dataset_defaults",
    "layer_widths",
    "load_data",
    "output_width",
    "split",
    "train",
]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; `train(config)` is reproducible from it alone.

    `layers` lists every layer's width including the output (None: two hidden layers of 16 and
    as many outputs as the task needs). `seed` drives the model's initial weights and the batch
    shuffling; `data_seed` the generated data set and the validation/test split (stratified for
    classification). `standardize` rescales every feature to mean 0 and standard deviation 1
    with the training split's statistics (None: as the dataset asks, `Dataset.standardize`).
    `task` says what a CSV file's (`data_path`) targets are, as `load_csv`'s `task` does (None:
    inferred from them); a named dataset has its own. `mode` picks the model's form: "batched"
    trains a `BatchedMLP` on whole arrays, "per-sample" an `MLP` one sample at a time; from the
    same seed both start from the same weights and train alike, to rounding.
    """

    dataset: str = "moons"
    data_path: str | None = None
    samples: int | None = None
    noise: float | None = None
    data_seed: int = 0
    val: float = 0.0
    test: float = 0.0
    layers: tuple[int, ...] | None = None
    activation: str = "relu"
    loss: str | None = None
    optimizer: str = "sgd"
    lr: float = 1.0
    momentum: float = 0.0
    schedule: str = "linear"
    epochs: int = 100
    batch_size: int | None = None
    l1: float = 0.0
    l2: float = 1e-4
    tolerance: float | None = None
    patience: int | None = None
    mode: str = "batched"
    seed: int = 0
    standardize: bool | None = None
    task: str | None = None

    def __post_init__(self) -> None:
        if self.task is not None and self.task not in (*TASKS, "classification"):
            raise ConfigError(
                f"unknown task {self.task!r}: expected classification, {', '.join(TASKS)}"
            )
        if self.task is not None and self.data_path is None:
            raise ConfigError(
                f"task={self.task!r} says what a CSV file's targets are (data_path); the "
                f"dataset {self.dataset!r} has its own task"
            )
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError(f"the learning rate must be a positive number, got {self.lr}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(
                f"unknown optimizer {self.optimizer!r}: expected one of {', '.join(OPTIMIZERS)}"
            )
        if self.schedule not in SCHEDULES:
            raise ConfigError(
                f"unknown schedule {self.schedule!r}: expected one of {', '.join(SCHEDULES)}"
            )
        if self.mode not in MODES:
            raise ConfigError(f"unknown mode {self.mode!r}: expected one of {', '.join(MODES)}")
        if self.layers is not None and (
            not self.layers or any(not isinstance(w, int) or w < 1 for w in self.layers)
        ):
            raise ConfigError(f"layers must be positive widths like (16, 16, 1), got {self.layers}")
        for name in ("l1", "l2", "momentum"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.momentum and self.optimizer != "sgd":
            raise ConfigError(
                f"momentum applies to the sgd optimizer only, not {self.optimizer} "
                "(Adam keeps its own moment estimates: set betas instead)"
            )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def dataset_defaults(given: Mapping[str, Any]) -> dict[str, Any]:
    """The dataset's own training options (`data.training_defaults`) that the options `given`
    (TrainConfig fields) leave to it: none for a CSV file (`data_path`)."""
    if given.get("data_path") is not None:
        return {}
    name = given.get("dataset") or TrainConfig.dataset
    return {k: v for k, v in training_defaults(name).items() if k not in given}


def config_for(**given: Any) -> TrainConfig:
    """The config of a run for which the TrainConfig fields `given` were chosen, as the command
    builds it: each field is the value given, else the dataset's own default (see
    `dataset_defaults`), else TrainConfig's. An explicit value always wins, so
    `config_for(dataset="digits", test=0.0)` holds out no test split."""
    return TrainConfig(**{**dataset_defaults(given), **given})


@dataclass
class TrainResult:
    """A trained model (a `BatchedMLP` in batched mode, an `MLP` per sample) with its history,
    data splits and the config that made them.

    When the features were standardised, `scaler` holds the transform and the splits hold the
    standardised features the model saw; `scaler.inverse_transform` gives the originals back.
    """

    model: Model
    history: History
    config: TrainConfig
    train: Dataset
    val: Dataset | None
    test: Dataset | None
    loss: str
    scaler: Standardizer | None = None

    @property
    def task(self) -> str:
        return self.train.task

    def scores(self) -> dict[str, float]:
        """Final metrics of the model as trained (`History.final`: the best epoch's after early
        stopping), plus test metrics when there is a test set."""
        out = {k: v for k, v in self.history.final.items() if k not in ("epoch", "seconds")}
        if self.test is not None and len(self.test):
            with np.errstate(over="ignore", invalid="ignore"):
                split = validation_scores(
                    self.model, self.test.X, self.test.y, self.task, self.loss
                )
            out.update({k.replace("val_", "test_"): v for k, v in split.items()})
        return out


def load_data(config: TrainConfig) -> Dataset:
    if config.data_path is not None:
        return load_csv(config.data_path, config.task)
    return load_dataset(config.dataset, config.samples, config.noise, config.data_seed)


def output_width(ds: Dataset) -> int:
    return ds.n_classes if ds.task == "multiclass" else 1


def layer_widths(config: TrainConfig, ds: Dataset) -> list[int]:
    """Every layer's width, the output's last: the config's, or two hidden layers of 16 and
    as many outputs as `ds`'s task needs."""
    return list(config.layers) if config.layers is not None else [16, 16, output_width(ds)]


def split(
    config: TrainConfig, ds: Dataset
) -> tuple[Dataset, Dataset | None, Dataset | None, Standardizer | None]:
    """(train, validation, test, scaler) as `train` prepares `ds`: split (stratified by class
    for classification), then standardised with the training split's statistics when the
    config or the data asks for it (else scaler is None). An empty split is None."""
    tr, va, te = train_val_test_split(
        ds, val=config.val, test=config.test, seed=config.data_seed,
        stratify=ds.task != "regression",
    )  # fmt: skip
    scaler = None
    if ds.standardize if config.standardize is None else config.standardize:
        scaler = Standardizer.from_data(tr.X)
        tr, va, te = (replace(part, X=scaler.transform(part.X)) for part in (tr, va, te))
    return tr, va if len(va) else None, te if len(te) else None, scaler


def build_model(config: TrainConfig, ds: Dataset) -> Model:
    """The config's network for this data set: a `BatchedMLP` in batched mode, an `MLP` per
    sample, with the same initial weights either way (both draw them from `config.seed`).
    Checks that the output layer fits the task."""
    need = output_width(ds)
    layers = layer_widths(config, ds)
    if layers[-1] != need:
        what = f"{ds.n_classes} classes" if ds.task == "multiclass" else f"a {ds.task} task"
        raise ConfigError(
            f"the last layer has {layers[-1]} outputs but {ds.name} is {what}: "
            f"end the layers with {need}, e.g. {','.join(map(str, [*layers[:-1], need]))}"
        )
    form = BatchedMLP if config.mode == "batched" else MLP
    return form(ds.X.shape[1], layers, activation=config.activation, rng=random.Random(config.seed))


def train(
    config: TrainConfig,
    callbacks: Sequence[Callback | Callable[[dict[str, float]], None]] = (),
    data: Dataset | None = None,
) -> TrainResult:
    """Build data, model, optimizer and schedule from `config` and train; see `fit`."""
    ds = data if data is not None else load_data(config)
    tr, va, te, scaler = split(config, ds)
    loss = config.loss or DEFAULT_LOSS[ds.task]
    check_task_loss(ds.task, loss)
    model = build_model(config, ds)
    kwargs: dict[str, Any] = {"lr": config.lr}
    if config.optimizer == "sgd":
        kwargs["momentum"] = config.momentum
    optimizer = OPTIMIZERS[config.optimizer](model.parameters(), **kwargs)
    scheduler = make_scheduler(config.schedule, optimizer, config.epochs)
    history = fit(
        model,
        tr.X,
        tr.y,
        task=ds.task,
        loss=loss,
        optimizer=optimizer,
        scheduler=scheduler,
        epochs=config.epochs,
        batch_size=config.batch_size,
        l1=config.l1,
        l2=config.l2,
        validation=(va.X, va.y) if va is not None else None,
        tolerance=config.tolerance,
        patience=config.patience,
        seed=config.seed,
        callbacks=callbacks,
    )
    return TrainResult(model, history, config, tr, va, te, loss, scaler)


@dataclass(frozen=True)
class RunOutcome:
    """One run of `evaluate`: its seed and final figures."""

    seed: int
    loss: float
    metric: float
    epochs: int
    epochs_to_tolerance: int | None
    diverged: bool


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"mean": math.nan, "std": math.nan, "min": math.nan, "max": math.nan}
    return {
        "mean": statistics.fmean(values),
        "std": statistics.pstdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
    }


@dataclass
class RunsSummary:
    """The distribution over repeated runs: loss, metric, epochs to tolerance, convergence."""

    config: TrainConfig
    metric: str
    runs: list[RunOutcome]

    @property
    def finished(self) -> list[RunOutcome]:
        return [r for r in self.runs if not r.diverged]

    @property
    def loss(self) -> dict[str, float]:
        return _stats([r.loss for r in self.finished])

    @property
    def score(self) -> dict[str, float]:
        return _stats([r.metric for r in self.finished])

    @property
    def epochs_to_tolerance(self) -> dict[str, float]:
        return _stats(
            [float(r.epochs_to_tolerance) for r in self.runs if r.epochs_to_tolerance is not None]
        )

    @property
    def converged(self) -> int:
        """Runs whose loss reached the tolerance (all finished runs when there is none)."""
        if self.config.tolerance is None:
            return len(self.finished)
        return sum(r.epochs_to_tolerance is not None for r in self.runs)

    @property
    def diverged(self) -> int:
        return sum(r.diverged for r in self.runs)
