"""Training: one `fit` loop, a `TrainConfig` that describes a whole run, and repeated runs.

This module is where users import training from; it gathers three modules, read in this order:

- `loop`: `fit(model, X, y, ...)` trains for a number of epochs over (mini-)batches, per sample
  (an `MLP`) or batched (a `BatchedMLP`, `micrograd.batched`), and stops at the first of: the
  maximum number of epochs, the loss falling to `tolerance` (the code tour's stopping rule), or
  `patience` epochs without a better validation loss. It never prints or plots: it reports each
  epoch to callbacks and returns a `History`.
- `run`: `train(config)` builds the data, the model (of the form `config.mode` names) and the
  optimizer from a `TrainConfig` and runs `fit`, after a split that is stratified for
  classification and, when asked (or when the dataset asks, as real data does), standardising
  the features with the training split's statistics.
- `evaluation`: `evaluate(config, seeds)` repeats that over seeds (in parallel processes, same
  results as a serial run) and summarises the distribution, like the code tour's evaluation
  loops. It runs through `micrograd.sweep.runner`, so modules below the sweep package import
  from `loop` and `run`, not from here.
"""

from __future__ import annotations

# The names imported `as` themselves were public here before the split and stay importable, but
# are not the user's API (`__all__`): the command and the page take them from `loop` and `run`.
from .evaluation import EvaluationInterrupted, evaluate
from .loop import DEFAULT_LOSS as DEFAULT_LOSS
from .loop import MODES as MODES
from .loop import TASK_LOSSES as TASK_LOSSES
from .loop import (
    Callback,
    ConfigError,
    History,
    TrainingDiverged,
    fit,
    gc_paused,
    predict,
    raw_outputs,
    targets_for,
)
from .run import RunOutcome, RunsSummary, TrainConfig, TrainResult, split, train
from .run import build_model as build_model
from .run import load_data as load_data
from .run import output_width as output_width

__all__ = [
    "Callback",
    "ConfigError",
    "EvaluationInterrupted",
    "History",
    "RunOutcome",
    "RunsSummary",
    "TrainConfig",
    "TrainResult",
    "TrainingDiverged",
    "evaluate",
    "fit",
    "gc_paused",
    "predict",
    "raw_outputs",
    "split",
    "targets_for",
    "train",
]
