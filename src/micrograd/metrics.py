"""Evaluation metrics: accuracy, confusion matrix and per-class precision, recall and F1 for
classifiers, RMSE and R^2 for regression.

Each takes the true values first and the predictions second, as lists, numpy arrays or micrograd
Values (a list of scalar Values, or one Value holding an array of predictions). Both must be
1-D and of the same, non-zero length; anything else raises ValueError naming both lengths.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .engine import Value

__all__ = [
    "accuracy",
    "classification_report",
    "confusion_matrix",
    "precision_recall_fscore_support",
    "r2_score",
    "rmse",
]


def _as_1d(name: str, values: Any) -> NDArray[Any]:
    if isinstance(values, Value):
        values = values.data
    elif not isinstance(values, np.ndarray) and isinstance(values, Iterable):
        values = [v.data if isinstance(v, Value) else v for v in values]
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold numbers, got dtype {arr.dtype}")
    return arr


def _pair(y_true: Any, y_pred: Any) -> tuple[NDArray[Any], NDArray[Any]]:
    t, p = _as_1d("y_true", y_true), _as_1d("y_pred", y_pred)
    if len(t) != len(p) or len(t) == 0:
        problem = "are empty" if len(t) == len(p) else "differ in length"
        raise ValueError(
            f"y_true and y_pred {problem}: len(y_true) = {len(t)}, len(y_pred) = {len(p)}"
        )
    return t, p


def _finite_pair(y_true: Any, y_pred: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    t, p = _pair(y_true, y_pred)
    for name, arr in (("y_true", t), ("y_pred", p)):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise ValueError(f"{name}[{bad[0]}] is {arr[bad[0]].item()!r}: values must be finite")
    return t.astype(np.float64), p.astype(np.float64)


def _labels(name: str, arr: NDArray[Any]) -> NDArray[np.int64]:
    f = arr.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(f) | (f < 0) | (f != np.round(f)))
    if bad.size:
        raise ValueError(
            f"{name}[{bad[0]}] is {arr[bad[0]].item()!r}: class labels must be integers 0..C-1"
        )
    return arr.astype(np.int64)


def accuracy(y_true: Any, y_pred: Any) -> float:
    """The fraction of positions where the predicted label equals the true one.

    Labels are whole numbers (0/1, -1/+1, 0..C-1). Raw scores are refused, not compared: turn
    them into labels first, e.g. `scores > 0` or the argmax of each row.
    """
    t, p = _pair(y_true, y_pred)
    for name, arr in (("y_true", t), ("y_pred", p)):
        f = arr.astype(np.float64)
        bad = np.flatnonzero(f != np.round(f))  # NaN and fractions
        if bad.size:
            raise ValueError(
                f"{name}[{bad[0]}] is {arr[bad[0]].item()!r}: accuracy compares class labels "
                "(whole numbers); turn scores into labels first, e.g. scores > 0 or argmax"
            )
    return float(np.mean(t == p))


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int | None = None) -> NDArray[np.int64]:
    """An (n_classes x n_classes) int64 matrix counting samples: row = true, column = predicted.

    Labels must be integers 0..n_classes-1; `n_classes=None` takes the largest label seen + 1.
    """
    t, p = _pair(y_true, y_pred)
    ti, pi = _labels("y_true", t), _labels("y_pred", p)
    largest = int(max(ti.max(), pi.max()))
    if n_classes is None:
        n_classes = largest + 1
    elif isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 1:
        raise ValueError(f"n_classes must be a positive integer, got {n_classes!r}")
    elif largest >= n_classes:
        which = "y_true" if ti.max() == largest else "y_pred"
        raise ValueError(f"{which} holds label {largest}, but n_classes = {n_classes}")
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (ti, pi), 1)
    return matrix


def precision_recall_fscore_support(
    y_true: Any, y_pred: Any, n_classes: int | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Per class k (labels 0..n_classes-1, as `confusion_matrix`): (precision, recall, F1,
    support), each an array of n_classes, as scikit-learn's with `average=None`.

    precision = right / predicted k, recall = right / truly k, F1 their harmonic mean, support
    the number truly k. A ratio with nothing to divide by (k never predicted, never present) is
    0.0, as scikit-learn's `zero_division=0` gives it.
    """
    return _per_class(confusion_matrix(y_true, y_pred, n_classes))


def _per_class(
    matrix: NDArray[np.int64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """(precision, recall, F1, support) per class of a confusion matrix."""
    right = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0).astype(np.float64)
    support = matrix.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, right / predicted, 0.0)
        recall = np.where(support > 0, right / support, 0.0)
        both = precision + recall
        f1 = np.where(both > 0, 2 * precision * recall / both, 0.0)
    return precision, recall, f1, support.astype(np.int64)


def classification_report(
    y_true: Any,
    y_pred: Any,
    n_classes: int | None = None,
    target_names: list[str] | None = None,
    *,
    present_only: bool = False,
) -> dict[str, Any]:
    """Per-class precision, recall, F1 and support with their averages, as scikit-learn's
    `classification_report(..., output_dict=True, zero_division=0)` gives them for the labels
    0..n_classes-1: a dict from each class's name (`target_names`, else its label as text) to
    {"precision", "recall", "f1-score", "support"}, then "accuracy" (a number), "macro avg"
    (the classes' plain mean) and "weighted avg" (weighted by support).

    `present_only` keeps only the classes that occur in `y_true` or `y_pred`, averages included,
    as scikit-learn does when not given `labels`: five digits scored alone are not averaged
    with five classes that were never there to get right.
    """
    matrix = confusion_matrix(y_true, y_pred, n_classes)
    precision, recall, f1, support = _per_class(matrix)
    k = len(support)
    names = [str(c) for c in range(k)] if target_names is None else [str(n) for n in target_names]
    if len(names) != k or len(set(names)) != k:
        raise ValueError(f"target_names must name the {k} classes once each, got {target_names!r}")
    if present_only:
        seen = (matrix.sum(axis=0) > 0) | (support > 0)
        precision, recall, f1, support = precision[seen], recall[seen], f1[seen], support[seen]
        names = [n for n, keep in zip(names, seen, strict=True) if keep]

    def row(p: float, r: float, f: float, s: int) -> dict[str, Any]:
        return {"precision": p, "recall": r, "f1-score": f, "support": s}

    report: dict[str, Any] = {
        name: row(float(p), float(r), float(f), int(s))
        for name, p, r, f, s in zip(names, precision, recall, f1, support, strict=True)
    }
    total = int(support.sum())
    weights = support / total
    report["accuracy"] = float(np.trace(matrix) / matrix.sum())  # as `accuracy` gives it
    report["macro avg"] = row(
        float(precision.mean()), float(recall.mean()), float(f1.mean()), total
    )
    report["weighted avg"] = row(
        float(precision @ weights), float(recall @ weights), float(f1 @ weights), total
    )
    return report


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error: sqrt(mean((y_true - y_pred) ** 2))."""
    t, p = _finite_pair(y_true, y_pred)
    return float(np.sqrt(np.mean((t - p) ** 2)))


def r2_score(y_true: Any, y_pred: Any) -> float:
    """Coefficient of determination: 1 - sum((t - p)^2) / sum((t - mean(t))^2).

    1 is a perfect fit, 0 is no better than predicting the mean, and worse fits go negative.
    When y_true is constant the ratio is undefined; then, as scikit-learn does, the score is 1.0
    for a perfect prediction and 0.0 otherwise.
    """
    t, p = _finite_pair(y_true, y_pred)
    ss_res = float(np.sum((t - p) ** 2))
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot
