"""scikit-learn estimators: `MLPClassifier` and `MLPRegressor`, micrograd networks in batched mode.

They take scikit-learn's names (`hidden_layer_sizes`, `activation`, `solver`, `alpha`,
`batch_size`, `learning_rate_init`, `max_iter`, `momentum`, `early_stopping`,
`validation_fraction`, `n_iter_no_change`, `random_state`) and methods (`fit`, `predict`,
`predict_proba`, `score`, `get_params`/`set_params`), so they work in a `Pipeline`, in
`GridSearchCV` and under `clone`. `fit` builds a `BatchedMLP` and trains it with `loop.fit`, the
one training loop; the trained network is `model_`. Where they differ from scikit-learn's MLP:
the defaults are smaller and faster (`hidden_layer_sizes=(16,)`, `learning_rate_init=0.01`); the
weights start uniform in (-1, 1), as micrograd's `MLP` draws them; `alpha` weights micrograd's
L2 penalty, sum(p * p) over every parameter (biases too); `solver` and `schedule` name
micrograd's `OPTIMIZERS` and `SCHEDULES` (`momentum` is for "sgd" only); `tolerance` is
micrograd's rule (stop once an epoch's training loss is at or below it), not scikit-learn's
`tol`; `hidden_layer_sizes=()` is a linear (logistic) model. `random_state` works as in
scikit-learn: an int repeats a fit exactly, None draws from NumPy's global generator.

The classifier takes labels of any type (`classes_`, sorted as `np.unique` sorts them). Two
classes train one output with the logistic loss ("bce"), more classes one output each with the
cross-entropy, so `predict_proba` gives probabilities (columns in `classes_` order) and
`predict` the most probable class. The regressor trains one output with the mean squared error;
it is single-output, as `loop.fit`'s metrics are: a column vector `y` is flattened with
scikit-learn's `DataConversionWarning`, a `y` of several columns is refused.

Both pass `sklearn.utils.estimator_checks.check_estimator` whole: no check is skipped or
expected to fail (tests/test_estimators.py runs them all; scikit-learn itself skips its
array-API check unless SCIPY_ARRAY_API=1, and its DataFrame checks without pandas). The module
imports scikit-learn (1.6 or later, for `validate_data` and `__sklearn_tags__`) on import, since
its classes derive from scikit-learn's; `import micrograd` does not import it, so the core
install never needs it.
"""

from __future__ import annotations

import math
import random
from numbers import Real
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

from .batched import BatchedMLP
from .loop import ConfigError, History, fit, probabilities, raw_outputs
from .nn import ACTIVATIONS
from .optim import OPTIMIZERS, SCHEDULES, make_scheduler
from .optional import MissingDependencyError, require

# The classes below derive from scikit-learn's, so it is needed now, not on first use.
_sklearn = require("sklearn", "scikit-learn", "sklearn", "micrograd.estimators")
if tuple(int(part) for part in _sklearn.__version__.split(".")[:2]) < (1, 6):
    raise MissingDependencyError(
        f"micrograd.estimators needs scikit-learn 1.6 or later, found {_sklearn.__version__}: "
        'pip install "micrograd[sklearn]" (or pip install -U scikit-learn)',
        name="sklearn",
    )

from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.utils.multiclass import check_classification_targets  # noqa: E402
from sklearn.utils.validation import (  # noqa: E402
    check_is_fitted,
    check_random_state,
    validate_data,
)

__all__ = ["MLPClassifier", "MLPRegressor"]

# Log-losses, so that the outputs are log-odds and `predict_proba` means what it says.
_LOSSES = {"binary": "bce", "multiclass": "cross_entropy"}
# "auto" batches as scikit-learn's MLP does: min(200, samples).
_AUTO_BATCH = 200


def _check_number(
    name: str,
    value: object,
    what: str,
    low: float | None,
    high: float | None,
    *,
    low_open: bool = True,
) -> None:
    """Raise `ConfigError` unless `value` is a finite real number in the range (high open)."""
    number = float(value) if isinstance(value, Real) and not isinstance(value, bool) else math.nan
    if not (
        math.isfinite(number)
        and (low is None or (number > low if low_open else number >= low))
        and (high is None or number < high)
    ):
        raise ConfigError(f"{name} must be {what}, got {value!r}")


class _MLPEstimator(BaseEstimator):
    """What the classifier and the regressor share: the settings, and training through `fit`."""

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (16,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 1e-4,
        batch_size: int | str | None = "auto",
        learning_rate_init: float = 0.01,
        schedule: str = "constant",
        max_iter: int = 200,
        momentum: float = 0.9,
        tolerance: float | None = None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        # scikit-learn's rule: keep the settings as given, check them in `fit`.
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.schedule = schedule
        self.max_iter = max_iter
        self.momentum = momentum
        self.tolerance = tolerance
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state

    def _layers(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, (int, np.integer)):
            sizes = (sizes,)
        if not isinstance(sizes, (tuple, list, np.ndarray)) or any(
            isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w < 1 for w in sizes
        ):
            raise ConfigError(
                f"hidden_layer_sizes must be positive integers like (16,) or (32, 16), got "
                f"{self.hidden_layer_sizes!r}"
            )
        return [int(w) for w in sizes]

    def _check_settings(self) -> None:
        for name, registry in (
            ("activation", ACTIVATIONS),
            ("solver", OPTIMIZERS),
            ("schedule", SCHEDULES),
        ):
            if getattr(self, name) not in registry:
                raise ConfigError(
                    f"unknown {name} {getattr(self, name)!r}: expected one of {', '.join(registry)}"
                )
        for name in ("max_iter", "n_iter_no_change"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        _check_number("learning_rate_init", self.learning_rate_init, "a positive number", 0, None)
        _check_number("alpha", self.alpha, "a number >= 0", 0, None, low_open=False)
        _check_number("momentum", self.momentum, "in [0, 1)", 0, 1, low_open=False)
        if self.early_stopping:
            _check_number("validation_fraction", self.validation_fraction, "in (0, 1)", 0, 1)
        if self.tolerance is not None:
            _check_number("tolerance", self.tolerance, "a number or None", None, None)

    def _batch(self, n: int) -> int | None:
        size = self.batch_size
        if size == "auto":
            return min(_AUTO_BATCH, n)
        if size is None:
            return None
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ConfigError(
                f"batch_size must be a positive integer, 'auto' or None, got {size!r}"
            )
        return int(size)

    def _train(
        self, X: NDArray[np.float64], y: NDArray[Any], task: str, loss: str, outputs: int
    ) -> None:
        """Build the network and train it on (X, y), y as `loop.fit` takes it for `task`."""
        layers = self._layers()
        self._check_settings()
        # One seed from random_state (scikit-learn's rule: an int repeats, None draws afresh)
        # for the weights, the batches and the early-stopping split.
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        validation = None
        if self.early_stopping:
            X, X_val, y, y_val = train_test_split(
                X,
                y,
                test_size=self.validation_fraction,
                random_state=seed,
                stratify=None if task == "regression" else y,
            )
            validation = (X_val, y_val)
        model = BatchedMLP(
            X.shape[1], [*layers, outputs], activation=self.activation, rng=random.Random(seed)
        )
        epochs = int(self.max_iter)
        kwargs: dict[str, Any] = {"lr": float(self.learning_rate_init)}
        if self.solver == "sgd":
            kwargs["momentum"] = float(self.momentum)
        optimizer = OPTIMIZERS[self.solver](model.parameters(), **kwargs)
        history = fit(
            model,
            X,
            y,
            task=task,
            loss=loss,
            optimizer=optimizer,
            scheduler=make_scheduler(self.schedule, optimizer, epochs),
            epochs=epochs,
            batch_size=self._batch(len(X)),
            l2=float(self.alpha),
            validation=validation,
            tolerance=self.tolerance,
            patience=int(self.n_iter_no_change) if self.early_stopping else None,
            seed=seed,
        )
        self.model_ = model
        self.history_: History = history
        self.n_iter_ = history.epochs
        self.loss_ = history.final["loss"]
        self.loss_curve_ = history["loss"]

    def _outputs(self, X: Any) -> NDArray[np.float64]:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        out = raw_outputs(self.model_, X)
        overflowed = np.flatnonzero(~np.isfinite(out).all(axis=1))
        if len(overflowed):
            # NaN probabilities would make argmax answer class 0: no answer is better.
            raise ValueError(
                f"the network's outputs overflow to infinity or NaN on {len(overflowed)} of "
                f"{len(X)} samples (the first is row {overflowed[0]}): their features are far "
                "beyond the range the network was trained on"
            )
        return out


class MLPClassifier(ClassifierMixin, _MLPEstimator):
    """A multi-layer perceptron classifier trained by micrograd, with scikit-learn's API.

    Two classes train one output with the logistic loss, more classes one output per class
    with the cross-entropy. After `fit`: `classes_`, `model_` (the `BatchedMLP`), `history_`
    (`loop.History`), `n_iter_` (epochs run), `loss_` and `loss_curve_` (training loss per
    epoch), `n_features_in_` (and `feature_names_in_` for a DataFrame).
    """

    def fit(self, X: Any, y: Any) -> Self:
        """Train on samples `X` (n_samples x n_features) and their labels `y`; return self."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"MLPClassifier needs samples of at least 2 classes to learn from, got 1 class "
                f"({classes[0]!r})"
            )
        self.classes_ = classes
        task = self._task()
        self._train(X, codes, task, _LOSSES[task], 1 if task == "binary" else len(classes))
        return self

    def _task(self) -> str:
        """What `classes_` make of the problem: one logistic output for two, else one each."""
        return "binary" if len(self.classes_) == 2 else "multiclass"

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        """P(class | sample): one row per sample, one column per class in `classes_` order."""
        out = self._outputs(X)
        task = self._task()
        proba = probabilities(out, task, _LOSSES[task])
        assert proba is not None  # both losses are log-losses
        return proba

    def predict_log_proba(self, X: Any) -> NDArray[np.float64]:
        """The log of `predict_proba`."""
        with np.errstate(divide="ignore"):  # a probability of 0 is a log of -inf
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> NDArray[Any]:
        """The most probable class of each sample, as a label from `classes_`."""
        check_is_fitted(self)
        return np.asarray(self.classes_[self.predict_proba(X).argmax(axis=1)])


class MLPRegressor(RegressorMixin, _MLPEstimator):
    """A multi-layer perceptron regressor trained by micrograd, with scikit-learn's API.

    One linear output trained with the mean squared error; single-output (a `y` of several
    columns is refused). After `fit`: `model_`, `history_`, `n_iter_`, `loss_`, `loss_curve_`,
    `n_features_in_` (and `feature_names_in_` for a DataFrame).
    """

    def fit(self, X: Any, y: Any) -> Self:
        """Train on samples `X` (n_samples x n_features) and their targets `y`; return self."""
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        self._train(X, np.asarray(y, dtype=np.float64), "regression", "mse", 1)
        return self

    def predict(self, X: Any) -> NDArray[np.float64]:
        """The predicted target of each sample, shape (n_samples,)."""
        return np.asarray(self._outputs(X)[:, 0], dtype=np.float64)
