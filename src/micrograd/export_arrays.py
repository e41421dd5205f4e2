"""A model's layers as plain arrays for an export, and the checks both exports make.

The PyTorch export (`micrograd.interop`) and the ONNX export (`micrograd.onnx_export`) read a
network the same way: either form (`MLP` or `BatchedMLP`), as (W, b, activation) per layer in
float64, with an optional `Standardizer` as wide as the model's input. Each weight goes into the
file in the number type asked for (`DTYPES`); one that type cannot hold is refused with a
`RangeError` naming the tensor, rather than written as an infinity.
"""

from __future__ import annotations

import numpy as np

from .batched import BatchedMLP, Model, batched
from .nn import MLP
from .preprocessing import Standardizer

__all__ = [
    "DTYPES",
    "RangeError",
    "check_dtype",
    "check_model",
    "check_scaler",
    "checked_cast",
    "layer_arrays",
]

DTYPES = ("float32", "float64")


class RangeError(ValueError):
    """A value of the model (a weight, a bias, a standardisation number) beyond what the export's
    number type holds: it would become infinite in the file. `name` says which tensor, `value`
    is its largest magnitude (float64, infinite when the float64 arithmetic itself overflowed)."""

    def __init__(self, who: str, name: str, value: float, dtype: str) -> None:
        self.name, self.value, self.dtype = name, value, dtype
        hint = "; dtype='float64' holds it" if dtype == "float32" and np.isfinite(value) else ""
        super().__init__(
            f"{who}: {name} reaches {value:.3g}, beyond {dtype}'s range "
            f"(+-{float(np.finfo(dtype).max):.3g}){hint}"
        )


def checked_cast(values: np.ndarray, dtype: str, name: str, who: str) -> np.ndarray:
    """`values` in `dtype`, refused (RangeError) where they would not fit, rather than turned
    into infinities with numpy's overflow warning."""
    largest = float(np.max(np.abs(values), initial=0.0))
    if not largest <= float(np.finfo(dtype).max):
        raise RangeError(who, name, largest, dtype)
    return np.asarray(values, dtype=dtype)


def check_dtype(dtype: str, who: str) -> None:
    """Refuse (ValueError) a number type other than those in `DTYPES`."""
    if dtype not in DTYPES:
        raise ValueError(f"{who}: dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")


def check_model(model: object, who: str) -> Model:
    """`model` itself if it is an `MLP` or a `BatchedMLP`, else a TypeError."""
    if not isinstance(model, (MLP, BatchedMLP)):
        raise TypeError(f"{who} expects a micrograd MLP or BatchedMLP, got {type(model).__name__}")
    return model


def check_scaler(scaler: Standardizer | None, model: Model, who: str) -> None:
    """Refuse (ValueError) a standardizer whose width is not the model's input width."""
    if scaler is not None and scaler.n_features != model.nin:
        raise ValueError(
            f"{who}: the standardizer has {scaler.n_features} features but the model takes "
            f"{model.nin} inputs"
        )


def layer_arrays(model: Model) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """(W (nout x nin), b (nout,), activation) per layer, as float64 arrays (copies)."""
    return [
        (
            np.array(layer.weight.data, dtype=np.float64),
            np.array(layer.bias.data, dtype=np.float64),
            layer.activation,
        )
        for layer in batched(model).layers
    ]
