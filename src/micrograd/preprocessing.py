"""Feature standardisation: `Standardizer` learns each column's mean and spread from one split.

The statistics come from the training split only, so validation and test data never leak into
them; the same transform is then applied to every split and, through the model file's metadata
(`to_dict` / `from_dict`), to whatever `predict` is given later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .dataset import DataError

__all__ = ["Standardizer"]

FloatArray = NDArray[np.float64]


def _checked_rows(X: Any, width: int | None, who: str) -> FloatArray:
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2:
        raise DataError(f"{who} expects a 2-D array (samples x features), got shape {arr.shape}")
    if width is not None and arr.shape[1] != width:
        raise DataError(
            f"{who}: the data has {arr.shape[1]} features, but the standardizer was fitted on "
            f"{width}"
        )
    return arr


@dataclass(frozen=True, eq=False)
class Standardizer:
    """`(x - mean) / scale` per feature. `scale` is the population standard deviation, or 1 for a
    column that is constant in the data it was fitted on (such as a digit image's always-blank
    corner pixels), so such a column becomes 0 rather than a division by zero."""

    mean: FloatArray
    scale: FloatArray

    def __post_init__(self) -> None:
        for name in ("mean", "scale"):
            arr = getattr(self, name)
            if not isinstance(arr, np.ndarray) or arr.ndim != 1 or arr.dtype != np.float64:
                raise DataError(f"Standardizer.{name} must be a 1-D float64 array")
            if not np.all(np.isfinite(arr)):
                raise DataError(f"Standardizer.{name} holds non-finite values")
        if self.mean.shape != self.scale.shape:
            raise DataError(
                f"Standardizer: mean has {len(self.mean)} values but scale has {len(self.scale)}"
            )
        if np.any(self.scale <= 0):
            raise DataError("Standardizer.scale must be positive")

    @classmethod
    def from_data(cls, X: Any) -> Standardizer:
        """Fit to the rows of `X` (the training split)."""
        arr = _checked_rows(X, None, "Standardizer.from_data")
        if len(arr) == 0:
            raise DataError("Standardizer.from_data needs at least one sample")
        std = arr.std(axis=0)
        return cls(arr.mean(axis=0), np.where(std > 0, std, 1.0))

    @property
    def n_features(self) -> int:
        return len(self.mean)

    def transform(self, X: Any) -> FloatArray:
        return (
            _checked_rows(X, self.n_features, "Standardizer.transform") - self.mean
        ) / self.scale

    def inverse_transform(self, X: Any) -> FloatArray:
        arr = _checked_rows(X, self.n_features, "Standardizer.inverse_transform")
        return arr * self.scale + self.mean

    def to_dict(self) -> dict[str, list[float]]:
        """Plain JSON: floats as Python writes them, so they read back bit for bit."""
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, obj: object, where: str = "standardize") -> Standardizer:
        """The inverse of `to_dict`; anything malformed raises `DataError` naming `where`."""
        if not isinstance(obj, dict) or set(obj) != {"mean", "scale"}:
            raise DataError(f"{where} must be an object with the keys 'mean' and 'scale'")
        arrays = []
        for key in ("mean", "scale"):
            values = obj[key]
            if (
                not isinstance(values, list)
                or not values
                or not all(
                    isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                    for v in values
                )
            ):
                raise DataError(f"{where}.{key} must be a non-empty list of finite numbers")
            arrays.append(np.array(values, dtype=np.float64))
        mean, scale = arrays
        if len(mean) != len(scale):
            raise DataError(f"{where}: mean has {len(mean)} values but scale has {len(scale)}")
        if np.any(scale <= 0):
            raise DataError(f"{where}.scale must hold positive numbers")
        return cls(mean, scale)
