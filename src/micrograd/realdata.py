"""Real datasets that scikit-learn ships inside its package: nothing is downloaded.

| name            | task        | samples | features | classes                        |
| --------------- | ----------- | ------- | -------- | ------------------------------ |
| `digits`        | multiclass  | 1797    | 64       | 10 (8x8 images of digits 0..9) |
| `iris`          | multiclass  | 150     | 4        | 3 species                      |
| `wine`          | multiclass  | 178     | 13       | 3 cultivars                    |
| `breast-cancer` | binary      | 569     | 30       | malignant (0), benign (1)      |
| `diabetes`      | regression  | 442     | 10       | (disease progression, 25..346) |

They are in `micrograd.data.DATASETS` with the generated ones, so `load_dataset('digits')` and
`micrograd train --dataset digits` work alike. scikit-learn is imported on first use; without it
a `MissingDependencyError` (an ImportError) says how to install it. Features come as the files
hold them (diabetes unscaled): `Dataset.standardize` is set, so training standardises them with
statistics from its training split.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .dataset import DataError, Dataset
from .optional import require

__all__ = ["REAL_DATASETS", "load_real"]


@dataclass(frozen=True)
class _Source:
    loader: str  # the function in sklearn.datasets
    task: str
    target_name: str
    kwargs: tuple[tuple[str, Any], ...] = ()


_SOURCES = {
    "digits": _Source("load_digits", "multiclass", "digit"),
    "iris": _Source("load_iris", "multiclass", "species"),
    "wine": _Source("load_wine", "multiclass", "cultivar"),
    "breast-cancer": _Source("load_breast_cancer", "binary", "diagnosis"),
    "diabetes": _Source("load_diabetes", "regression", "progression", (("scaled", False),)),
}
REAL_DATASETS = tuple(_SOURCES)


def load_real(name: str, n_samples: int | None = None, noise: float | None = None) -> Dataset:
    """The bundled dataset `name` (one of `REAL_DATASETS`) as a `Dataset`, in the file's order.

    `n_samples` and `noise` shape generated data only: anything but None is refused rather than
    ignored, since these samples are fixed.
    """
    source = _SOURCES.get(name)
    if source is None:
        raise DataError(f"unknown real dataset {name!r}: expected one of {', '.join(_SOURCES)}")
    for option, value in (("n_samples", n_samples), ("noise", noise)):
        if value is not None:
            raise DataError(
                f"{name} is a fixed real dataset: {option} applies to generated data only "
                "(leave it out)"
            )
    datasets = require("sklearn.datasets", "scikit-learn", "datasets", f"the {name} dataset")
    loader: Callable[..., Any] = getattr(datasets, source.loader)
    bunch = loader(**dict(source.kwargs))
    X = np.ascontiguousarray(bunch.data, dtype=np.float64)
    features = [str(f) for f in bunch.feature_names]
    columns = [*features, source.target_name]
    if source.task == "regression":
        return Dataset(
            X,
            np.asarray(bunch.target, dtype=np.float64),
            name,
            "regression",
            0,
            columns=columns,
            standardize=True,
        )
    y = np.asarray(bunch.target, dtype=np.int64)
    names = [str(t) for t in bunch.target_names]
    image_shape = None
    if name == "digits":
        height, width = bunch.images.shape[1:]
        image_shape = (int(height), int(width))
    return Dataset(
        X,
        y,
        name,
        source.task,
        len(names),
        columns=columns,
        class_names=names,
        standardize=True,
        image_shape=image_shape,
    )
