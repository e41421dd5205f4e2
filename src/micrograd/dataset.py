"""`Dataset`: the features, targets and description of one data set, checked when it is made.

Class labels are always int64 indices 0..C-1. Anything inconsistent (shapes, a task that is not
one of `TASKS`, labels outside 0..C-1, a wrong number of column or class names) raises
`DataError` naming what is wrong: a `Dataset` that exists is a valid one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["TASKS", "DataError", "Dataset", "FloatArray", "describe"]

TASKS = ("binary", "multiclass", "regression")

FloatArray = NDArray[np.float64]


class DataError(ValueError):
    """A problem with data or with the arguments describing it."""


def _check_length(where: str, field: str, items: Any, expected: int, why: str) -> None:
    if items is not None and len(items) != expected:
        raise DataError(f"{where}: {field} holds {len(items)} items, expected {expected} ({why})")


@dataclass(eq=False)
class Dataset:
    """Samples `X` (n x d float64) and targets `y`, with what kind of problem they pose.

    - `y`: int64 class indices 0..n_classes-1 for 'binary' and 'multiclass' tasks, float64
      values for 'regression'.
    - `n_classes`: the number of classes (2 for 'binary'), 0 for regression.
    - `classes`: when a file's labels were mapped to indices (-1/1 -> 0/1), the original label
      of each index (`classes[i]` is the label of class `i`); None when `y` holds the labels
      as they were.
    - `columns`: the column names (features, then the target) of the CSV header it was read
      from, if it had one.
    - `class_names`: a readable name for each class ('setosa', 'malignant', '7'), if known.
    - `standardize`: whether training standardises the features unless told otherwise (real
      data, whose columns come in different units and ranges).
    - `image_shape`: (height, width) when each sample is an image, its pixels row by row.
    """

    X: FloatArray
    y: NDArray[Any]
    name: str
    task: str
    n_classes: int
    classes: list[float] | None = None
    columns: list[str] | None = None
    class_names: list[str] | None = None
    standardize: bool = False
    image_shape: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        where = f"Dataset {self.name!r}"
        if not isinstance(self.X, np.ndarray) or self.X.ndim != 2 or self.X.dtype != np.float64:
            raise DataError(f"{where}: X must be a 2-D float64 array, got {describe(self.X)}")
        if not isinstance(self.y, np.ndarray) or self.y.ndim != 1:
            raise DataError(f"{where}: y must be a 1-D array, got {describe(self.y)}")
        if len(self.y) != len(self.X):
            raise DataError(f"{where}: X has {len(self.X)} rows but y has {len(self.y)} values")
        if not np.all(np.isfinite(self.X)):
            raise DataError(f"{where}: X holds non-finite values")
        if self.task not in TASKS:
            raise DataError(f"{where}: task must be one of {', '.join(TASKS)}, got {self.task!r}")
        if self.task == "regression":
            self._check_regression(where)
        else:
            self._check_classification(where)
        _check_length(where, "columns", self.columns, self.X.shape[1] + 1,
                      "the features and the target")  # fmt: skip
        _check_length(where, "class_names", self.class_names, self.n_classes, "one per class")
        if self.image_shape is not None and math.prod(self.image_shape) != self.X.shape[1]:
            raise DataError(
                f"{where}: images of shape {self.image_shape} do not hold "
                f"{self.X.shape[1]} features"
            )

    def _check_regression(self, where: str) -> None:
        if self.y.dtype != np.float64:
            raise DataError(f"{where}: regression targets must be float64, got {self.y.dtype}")
        if not np.all(np.isfinite(self.y)):
            raise DataError(f"{where}: y holds non-finite values")
        if self.n_classes != 0 or self.classes is not None:
            raise DataError(f"{where}: a regression dataset has n_classes 0 and classes None")

    def _check_classification(self, where: str) -> None:
        if self.y.dtype != np.int64:
            raise DataError(f"{where}: class labels must be int64, got {self.y.dtype}")
        if self.task == "binary" and self.n_classes != 2:
            raise DataError(f"{where}: a binary dataset has n_classes 2, got {self.n_classes}")
        if self.n_classes < 2:
            raise DataError(f"{where}: n_classes must be >= 2, got {self.n_classes}")
        if len(self.y) and (self.y.min() < 0 or self.y.max() >= self.n_classes):
            raise DataError(
                f"{where}: labels must be 0..{self.n_classes - 1}, "
                f"found {self.y.min()}..{self.y.max()}"
            )
        _check_length(where, "classes", self.classes, self.n_classes, "one label per class")

    def __len__(self) -> int:
        return len(self.y)

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, task={self.task!r}, n_samples={len(self)}, "
            f"n_features={self.n_features}, n_classes={self.n_classes})"
        )


def describe(x: object) -> str:
    """What `x` is, for messages: an array's shape and dtype, or a type's name."""
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    return type(x).__name__
