"""The training loop: `fit` trains a model, tells its callbacks each epoch, returns a `History`.

`fit(model, X, y, ...)` trains for a number of epochs over (mini-)batches, per sample (an `MLP`)
or batched (a `BatchedMLP`), and stops at the first of: the maximum number of epochs, the loss
falling to `tolerance` (the code tour's stopping rule), or `patience` epochs without a better
validation loss. It never prints or plots: it reports each epoch to callbacks (`Callback`) and
returns a `History`. A loss that becomes NaN or infinite, or explodes (`EXPLOSION_FACTOR`),
raises `TrainingDiverged` with the parameters the last good epoch's row was measured on, so the
model and its history agree. `predict` and `raw_outputs` run a trained model, either form, on a
batch.
"""

from __future__ import annotations

import gc
import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import losses as L
from .batched import BatchedMLP, Model, batched
from .engine import Value
from .metrics import accuracy, r2_score, rmse
from .numeric import sigmoid
from .optim import SGD, LRScheduler, Optimizer

__all__ = [
    "DEFAULT_LOSS",
    "EXPLOSION_FACTOR",
    "MODES",
    "PROBABILISTIC_LOSSES",
    "TASK_LOSSES",
    "Callback",
    "ConfigError",
    "History",
    "TrainingDiverged",
    "check_task_loss",
    "decide",
    "fit",
    "gc_paused",
    "model_mode",
    "predict",
    "predict_proba",
    "probabilities",
    "raw_outputs",
    "targets_for",
    "validation_scores",
]

MODES = ("batched", "per-sample")
# The loss each task trains with unless told otherwise, and which losses suit which task.
DEFAULT_LOSS = {"binary": "hinge", "multiclass": "cross_entropy", "regression": "mse"}
TASK_LOSSES = {
    "binary": ("hinge", "bce", "mse"),
    "multiclass": ("cross_entropy",),
    "regression": ("mse",),
}
# A loss above this many times the first batch's loss (or 1, if that is smaller) has exploded:
# the run diverges even while the loss is still finite. Training never raises a loss a
# millionfold by itself; a learning rate or momentum that makes the steps grow does, and the
# loss then reaches infinity a few epochs later with parameters that are useless long before.
EXPLOSION_FACTOR = 1e6


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a step runs: graphs hold no reference cycles, so
    reference counting frees them, and the collector would only walk the live graph again and
    again (about 10% of a per-sample epoch, nothing in batched mode; docs/architecture.md)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class TrainingDiverged(ArithmeticError):
    """The loss became NaN or infinite, or exploded; the model keeps its last good parameters:
    those the last good epoch's history row was measured on (the initial ones in epoch 1).

    `reason` says what broke and where (without the advice), `epoch` in which epoch."""

    def __init__(self, message: str, reason: str = "", epoch: int = 0) -> None:
        super().__init__(message)
        self.reason = reason or message
        self.epoch = epoch


class ConfigError(ValueError):
    """A training setting is invalid, or does not fit the data (a bad layer list, a loss for
    another task, ...): the user's input is wrong, not the library."""


class Callback:
    """Listens to `fit`. Override what you need; a plain function is treated as `on_epoch_end`."""

    def on_train_begin(self, info: dict[str, Any]) -> None:
        """`info` holds `epochs` (the maximum), `batches` per epoch, `samples`, `mode` and
        `model` (the network being trained, e.g. to keep a copy of its weights)."""

    def on_epoch_end(self, log: dict[str, float]) -> None:
        """`log` holds `epoch` (from 1), `loss`, the task's metrics, `lr`, `seconds`, and
        `val_loss` and friends when there is a validation set."""

    def on_train_end(self, history: History) -> None:
        """Called once, also when training stops early, diverges or is interrupted
        (`history.stop_reason` says which)."""


@dataclass
class History:
    """What `fit` measured, one row per epoch, and why it stopped."""

    rows: list[dict[str, float]] = field(default_factory=list)
    stop_reason: str = "max_epochs"
    tolerance: float | None = None
    best_epoch: int | None = None

    def __getitem__(self, key: str) -> list[float]:
        """One column, e.g. `history["loss"]`."""
        if not self.rows or key not in self.rows[0]:
            known = ", ".join(self.rows[0]) if self.rows else "none yet"
            raise KeyError(f"no column {key!r} in the history (columns: {known})")
        return [row[key] for row in self.rows]

    @property
    def final(self) -> dict[str, float]:
        """The row that describes the model as `fit` left it: the last epoch's, or the best
        epoch's when patience stopped training and restored that epoch's parameters."""
        if self.stop_reason == "patience" and self.best_epoch is not None:
            return self.rows[self.best_epoch - 1]
        return self.rows[-1] if self.rows else {}

    @property
    def epochs(self) -> int:
        return len(self.rows)

    @property
    def converged(self) -> bool:
        """True when the loss reached the tolerance."""
        return self.epochs_to_tolerance is not None

    @property
    def epochs_to_tolerance(self) -> int | None:
        if self.tolerance is None:
            return None
        for row in self.rows:
            if row["loss"] <= self.tolerance:
                return int(row["epoch"])
        return None


def targets_for(loss: str, task: str, y: np.ndarray) -> np.ndarray:
    """Targets in the form each loss expects: hinge and mse on a binary task use -1/+1."""
    if task == "binary" and loss in ("hinge", "mse"):
        return y.astype(np.float64) * 2.0 - 1.0
    if task == "regression":
        return y.astype(np.float64)
    return y


def check_task_loss(task: str, loss: str) -> None:
    """Raise `ConfigError` unless `task` is known and `loss` is one of the losses that fit it."""
    if task not in TASK_LOSSES:
        raise ConfigError(f"unknown task {task!r}: expected one of {', '.join(TASK_LOSSES)}")
    if loss not in TASK_LOSSES[task]:
        raise ConfigError(
            f"loss {loss!r} does not fit a {task} task: use one of {', '.join(TASK_LOSSES[task])}"
        )


def _all_finite(values: Any) -> bool:
    """Are these floats and arrays all finite? (`math.isfinite` for a float: numpy's isfinite
    costs a microsecond a call, and a per-sample model has a float per parameter.)"""
    return all(
        math.isfinite(v) if v.__class__ is float else bool(np.isfinite(v).all()) for v in values
    )


def model_mode(model: Model, mode: str | None = None) -> str:
    """The mode a model trains in: "batched" for a `BatchedMLP`, "per-sample" for an `MLP`; a
    `mode` given that does not fit the model is a `ConfigError` saying how to convert."""
    own = "batched" if isinstance(model, BatchedMLP) else "per-sample"
    if mode is not None and mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}: expected one of {', '.join(MODES)}")
    if mode is not None and mode != own:
        if own == "per-sample":
            need, convert = "a BatchedMLP", "BatchedMLP.from_mlp(model)"
        else:
            need, convert = "an MLP", "model.to_mlp()"
        raise ConfigError(
            f"mode {mode!r} needs {need}, got {type(model).__name__} {model.layer_sizes}: "
            f"convert it with {convert} (micrograd.batched)"
        )
    return own


def _forward(model: Model, X: np.ndarray) -> Any:
    if isinstance(model, BatchedMLP):
        return model(X)
    return [model(row) for row in X.tolist()]


def _outputs(pred: Any) -> np.ndarray:
    """Model outputs as an array: (N,) for one output, (N, C) for several."""
    if isinstance(pred, Value):
        return np.asarray(pred.data)
    if pred and isinstance(pred[0], list):
        return np.array([[v.data for v in row] for row in pred])
    return np.array([v.data for v in pred])


def decide(out: np.ndarray, task: str) -> np.ndarray:
    """The decisions from outputs `out` ((N,) for one output, or (N, outputs) as `raw_outputs`
    gives them): class indices, shape (N,) (binary: output > 0; multiclass: argmax) or, for
    regression, the outputs."""
    if task == "binary":
        return (np.ravel(out) > 0).astype(np.int64)
    if task == "multiclass":
        return np.asarray(out.argmax(axis=1))
    return out


def _metrics(task: str, y: np.ndarray, out: np.ndarray, prefix: str = "") -> dict[str, float]:
    if task == "regression":
        return {f"{prefix}rmse": rmse(y, out), f"{prefix}r2": r2_score(y, out)}
    return {f"{prefix}accuracy": accuracy(y, decide(out, task))}


def raw_outputs(model: Model, X: Any) -> NDArray[np.float64]:
    """The model's outputs on a 2-D batch of samples, one row per sample: (N, outputs).
    An output that overflows is infinite or NaN, without numpy's warnings: check for it."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(
            f"raw_outputs expects a 2-D array of samples x features, got shape {X.shape}"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        out = _outputs(batched(model)(X))
    return out[:, None] if out.ndim == 1 else out


def predict(model: Model, X: Any, task: str) -> np.ndarray:
    """Class indices (binary: output > 0; multiclass: argmax) or values (regression)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"predict expects a 2-D array of samples x features, got shape {X.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        return decide(_outputs(batched(model)(X)), task)


# The losses whose outputs are log-odds, so softmax or the logistic function of them estimates
# class probabilities; a hinge or mse score has no such reading.
PROBABILISTIC_LOSSES = {"multiclass": ("cross_entropy",), "binary": ("bce",)}


def probabilities(out: Any, task: str, loss: str) -> NDArray[np.float64] | None:
    """Class probabilities from raw outputs `out` ((N,) or (N, 1) binary, (N, C) multiclass),
    shape (N, C), columns in class order (binary: [P(class 0), P(class 1)], as scikit-learn
    gives them); None when `loss` is not a log-loss (hinge, mse, regression)."""
    if loss not in PROBABILISTIC_LOSSES.get(task, ()):
        return None
    z = np.asarray(out, dtype=np.float64)
    if task == "binary":
        p1 = sigmoid(z.reshape(-1))  # the engine's stable logistic: never overflows
        return np.stack([1.0 - p1, p1], axis=1)
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)


def predict_proba(model: Model, X: Any, task: str, loss: str) -> NDArray[np.float64] | None:
    """`probabilities` of the model's outputs for the samples `X` (2-D)."""
    return probabilities(raw_outputs(model, X), task, loss)


def _objective(
    model: Model, pred: Any, target: np.ndarray, loss: str, l1: float, l2: float
) -> tuple[Value, Value]:
    """(data loss, loss + penalties): the first is reported, the second is minimised."""
    data_loss = L.LOSSES[loss](pred, target)
    total = data_loss
    if l1:
        total = total + l1 * L.l1_penalty(model.parameters())
    if l2:
        total = total + l2 * L.l2_penalty(model.parameters())
    return data_loss, total


def validation_scores(
    model: Model, X: np.ndarray, y: np.ndarray, task: str, loss: str
) -> dict[str, float]:
    """The model's loss and metrics on held-out samples, named `val_loss`, `val_accuracy`, ..."""
    return _score_split(_forward(model, X), y, task, loss)


def _score_split(pred: Any, y: np.ndarray, task: str, loss: str) -> dict[str, float]:
    value = L.LOSSES[loss](pred, targets_for(loss, task, y)).data
    return {"val_loss": float(value), **_metrics(task, y, _outputs(pred), "val_")}


def fit(
    model: Model,
    X: Any,
    y: Any,
    *,
    task: str = "binary",
    loss: str | None = None,
    optimizer: Optimizer | None = None,
    scheduler: LRScheduler | None = None,
    epochs: int = 100,
    batch_size: int | None = None,
    mode: str | None = None,
    l1: float = 0.0,
    l2: float = 0.0,
    validation: tuple[Any, Any] | None = None,
    tolerance: float | None = None,
    patience: int | None = None,
    seed: int = 0,
    callbacks: Sequence[Callback | Callable[[dict[str, float]], None]] = (),
) -> History:
    """Train `model` on samples `X` (N x features) and targets `y`; return the `History`.

    `model` is an `MLP` (trained one sample at a time) or a `BatchedMLP` (trained on whole
    batches as arrays); `mode`, if given, must be the model's (`model_mode`). `task` is
    'binary' (y in {0, 1}), 'multiclass' (y class indices) or 'regression'. `loss` defaults to
    hinge, cross-entropy or mse by task. `optimizer` defaults to SGD with lr 0.1;
    `scheduler` (if given) steps once per epoch. `batch_size=None` trains on the full batch each
    step; otherwise samples are shuffled each epoch with `seed`. `l1`/`l2` add weighted
    penalties on the parameters. A `tolerance` stops training once the epoch's loss is at or
    below it; `patience` stops once the validation loss has not improved for that many epochs,
    and restores the best parameters. A NaN or infinite loss, or one above `EXPLOSION_FACTOR`
    times the first batch's (or 1), raises `TrainingDiverged` at epoch N and puts back the
    parameters epoch N-1 started from: those its history row (the last one) measured, in
    full-batch training exactly (the initial parameters when N is 1). Callbacks hear
    `on_train_end` in every case; `history.stop_reason` is then "max_epochs", "tolerance",
    "patience", "diverged" or "interrupted" (Ctrl-C, re-raised after the callbacks).
    """
    loss = loss or DEFAULT_LOSS.get(task, "")
    check_task_loss(task, loss)
    mode = model_mode(model, mode)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"X must be a non-empty 2-D array (samples x features), got {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)} targets")
    if not isinstance(epochs, int) or epochs < 1:
        raise ConfigError(f"epochs must be a positive integer, got {epochs!r}")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ConfigError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    if patience is not None and (validation is None or patience < 1):
        raise ConfigError("patience needs a validation set and a positive number of epochs")
    params = model.parameters()
    optimizer = optimizer or SGD(params, lr=0.1)
    target = targets_for(loss, task, y)
    n = len(X)
    size = n if batch_size is None else min(batch_size, n)
    rng = random.Random(seed)
    history = History(tolerance=tolerance)
    listeners = [cb if isinstance(cb, Callback) else _FunctionCallback(cb) for cb in callbacks]
    info = {
        "epochs": epochs,
        "batches": math.ceil(n / size),
        "samples": n,
        "mode": mode,
        "model": model,
    }
    if validation is not None:
        val_X, val_y = _as_xy(validation)  # once: every epoch scores the same arrays
    for cb in listeners:
        cb.on_train_begin(info)
    best_val, best_params, waited = math.inf, [p.data for p in params], 0
    order = list(range(n))
    # The parameters the previous and this epoch began with: references, not copies, as every
    # optimizer step binds new data (floats, or new arrays) to the parameters.
    measured = began = best_params
    first = limit = math.inf
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            measured, began = began, [p.data for p in params]
            lr = optimizer.lr
            if batch_size is not None:
                rng.shuffle(order)
            total_loss, outs, seen = 0.0, [], []
            for lo in range(0, n, size):
                idx = order[lo : lo + size]
                # Overflow shows up below as a non-finite loss, gradient or parameter, and is
                # reported then; numpy's own warnings would only repeat it, less clearly.
                with gc_paused(), np.errstate(over="ignore", invalid="ignore"):
                    try:
                        pred = _forward(model, X[idx])
                        data_loss, objective = _objective(model, pred, target[idx], loss, l1, l2)
                        value = objective.data
                    except (OverflowError, ZeroDivisionError) as err:
                        raise _diverged(epoch, optimizer, str(err)) from err
                    if not math.isfinite(value):
                        raise _diverged(epoch, optimizer, f"the loss became {value}")
                    reported = float(data_loss.data)
                    if first == math.inf:
                        first, limit = reported, EXPLOSION_FACTOR * max(reported, 1.0)
                    elif reported > limit:
                        raise _diverged(
                            epoch,
                            optimizer,
                            f"the loss exploded from {first:.3g} to {reported:.3g}, past the "
                            f"limit of {limit:.3g}",
                        )
                    optimizer.zero_grad()
                    objective.backward()
                    if not _all_finite(p.grad for p in params):
                        raise _diverged(epoch, optimizer, "a gradient became infinite")
                    optimizer.step()
                if not _all_finite(p.data for p in params):
                    raise _diverged(epoch, optimizer, "a parameter became infinite")
                total_loss += reported * len(idx)
                outs.append(_outputs(pred))
                seen.extend(idx)
            out = np.concatenate(outs) if len(outs) > 1 else outs[0]
            row: dict[str, float] = {"epoch": epoch, "loss": total_loss / n}
            row.update(_metrics(task, y[seen], out))
            if validation is not None:
                with gc_paused(), np.errstate(over="ignore", invalid="ignore"):
                    val_pred = _forward(model, val_X)
                if not np.all(np.isfinite(_outputs(val_pred))):
                    # Finite parameters can still be large enough to overflow on other inputs.
                    raise _diverged(
                        epoch, optimizer, "the outputs on the validation set became infinite"
                    )
                with gc_paused(), np.errstate(over="ignore", invalid="ignore"):
                    row.update(_score_split(val_pred, val_y, task, loss))
            row["lr"] = lr
            row["seconds"] = time.perf_counter() - start
            history.rows.append(row)
            if scheduler is not None:
                scheduler.step()
            for cb in listeners:
                cb.on_epoch_end(row)
            if tolerance is not None and row["loss"] <= tolerance:
                history.stop_reason = "tolerance"
                break
            if validation is not None:
                if row["val_loss"] < best_val:
                    best_val, best_params, waited = row["val_loss"], [p.data for p in params], 0
                    history.best_epoch = epoch
                else:
                    waited += 1
                    if patience is not None and waited >= patience:
                        for p, d in zip(params, best_params, strict=True):
                            p.data = d
                        history.stop_reason = "patience"
                        break
    except (TrainingDiverged, KeyboardInterrupt) as stop:
        history.stop_reason = "diverged" if isinstance(stop, TrainingDiverged) else "interrupted"
        if isinstance(stop, TrainingDiverged):
            # The parameters this epoch began with already gave the bad loss in full-batch
            # training: the last good row measured those the previous epoch began with.
            for p, d in zip(params, measured, strict=True):
                p.data = d
        for cb in listeners:
            cb.on_train_end(history)
        raise
    for cb in listeners:
        cb.on_train_end(history)
    return history


def _diverged(epoch: int, optimizer: Optimizer, what: str) -> TrainingDiverged:
    momentum = getattr(optimizer, "momentum", 0.0)
    if momentum >= 1:
        advice = f"use a momentum below 1 (it was {momentum:g}; 0.9 is usual)"
    else:
        advice = f"try a smaller learning rate (it was {optimizer.lr:g})"
    reason = f"training diverged at epoch {epoch}: {what}; {advice}"
    kept = (
        "the parameters it started from"
        if epoch == 1
        else f"the parameters epoch {epoch - 1} began with, which its loss was measured on"
    )
    return TrainingDiverged(f"{reason}. The model keeps {kept}.", reason, epoch)


def _as_xy(pair: tuple[Any, Any]) -> tuple[np.ndarray, np.ndarray]:
    X, y = pair
    return np.asarray(X, dtype=np.float64), np.asarray(y)


class _FunctionCallback(Callback):
    def __init__(self, fn: Callable[[dict[str, float]], None]) -> None:
        self.fn = fn

    def on_epoch_end(self, log: dict[str, float]) -> None:
        self.fn(log)
