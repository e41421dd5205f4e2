"""What one frame of the playground shows, computed from the model with the engine itself.

`Plane` is the rectangle of input space the page draws (from the data, with a margin) and
its grids. `picture(model, plane, task, ...)` runs the grid through the model layer by layer as
one batch (the model in batched form, `batched(model)`, whichever form it trains in: its
`Linear` layers are what batched training calls) and returns the output's picture (decision
boundary heatmap, class map or regression curve) and one small picture per hidden neuron,
quantised to bytes and base64-encoded so a 50x50 frame is a few kilobytes of JSON.
`weights(model)` lists every neuron's weights and bias for drawing the network's links.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..batched import BatchedMLP, Model, batched
from ..engine import Value

__all__ = ["NEURON_GRID", "Plane", "picture", "round_float", "weights"]

# Neuron pictures are small on the page: a coarser grid keeps big networks' frames light.
NEURON_GRID = 20
_MARGIN = 0.1


def round_float(x: float, digits: int = 5) -> float | None:
    """A float short enough for JSON frames; None (JSON null) for NaN or infinity."""
    x = float(x)
    if not np.isfinite(x):
        return None
    return float(f"{x:.{digits}g}")


@dataclass(frozen=True)
class Plane:
    """The drawn part of input space: x range, and y range (the target's, for 1-D inputs)."""

    features: int
    x0: float
    x1: float
    y0: float
    y1: float

    @classmethod
    def around(cls, X: NDArray[np.float64], y: NDArray[Any]) -> Plane:
        """The data's bounding box, widened by a margin; for one feature, y is the target."""
        cols = X[:, 0], (X[:, 1] if X.shape[1] == 2 else y.astype(np.float64))
        box = []
        for c in cols:
            lo, hi = float(c.min()), float(c.max())
            pad = _MARGIN * (hi - lo) if hi > lo else 1.0
            box += [lo - pad, hi + pad]
        return cls(X.shape[1], *box)

    def bounds(self) -> list[float]:
        return [self.x0, self.x1, self.y0, self.y1]

    def grid(self, n: int) -> NDArray[np.float64]:
        """Sample points: n*n for two features, row by row from the top; n for one feature."""
        xs = np.linspace(self.x0, self.x1, n)
        if self.features == 1:
            return xs[:, None]
        ys = np.linspace(self.y1, self.y0, n)
        gx, gy = np.meshgrid(xs, ys)
        return np.column_stack([gx.ravel(), gy.ravel()])


def _layer_outputs(model: BatchedMLP, X: NDArray[np.float64]) -> list[NDArray[np.float64]]:
    """Each layer's outputs over the batch X, shape (samples, neurons)."""
    outs = []
    h = Value(X)
    with np.errstate(all="ignore"):
        for layer in model.layers:
            h = layer(h)
            data = np.asarray(h.data, dtype=np.float64)
            outs.append(data.reshape(len(X), -1))
    return outs


def _bytes(values: NDArray[np.float64]) -> str:
    """Values in [0, 1] as base64 of one byte each (NaN shows as 0)."""
    q = np.nan_to_num(np.clip(values, 0.0, 1.0), nan=0.0) * 255.0
    return base64.b64encode(np.rint(q).astype(np.uint8).tobytes()).decode("ascii")


def _span(values: NDArray[np.float64], activation: str) -> tuple[float, float]:
    """The range a neuron's picture spans: its activation's, or its values' where unbounded."""
    if activation == "tanh":
        return -1.0, 1.0
    if activation == "sigmoid":
        return 0.0, 1.0
    finite = values[np.isfinite(values)]
    top = float(np.abs(finite).max()) if finite.size else 0.0
    top = top if top > 1e-9 else 1.0
    return (0.0, top) if activation == "relu" else (-top, top)


def _output(
    out: NDArray[np.float64], task: str, plane: Plane, target_range: tuple[float, float]
) -> dict[str, Any]:
    if task == "binary":
        # tanh squashes the score to [-1, 1]: its sign is the class, its size the margin.
        return {"kind": "binary", "values": _bytes((np.tanh(out[:, 0]) + 1.0) / 2.0)}
    if task == "multiclass":
        z = out - out.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        classes = p.argmax(axis=1).astype(np.uint8)
        return {
            "kind": "multiclass",
            "classes": base64.b64encode(classes.tobytes()).decode("ascii"),
            "confidence": _bytes(p.max(axis=1)),
        }
    if plane.features == 1:
        return {"kind": "curve", "values": [round_float(v) for v in out[:, 0]]}
    lo, hi = target_range
    scale = hi - lo if hi > lo else 1.0
    return {"kind": "regression", "values": _bytes((out[:, 0] - lo) / scale), "range": [lo, hi]}


Inputs = Callable[[NDArray[np.float64]], NDArray[np.float64]]


def picture(
    model: Model,
    plane: Plane,
    task: str,
    grid: int,
    target_range: tuple[float, float],
    inputs: Inputs | None = None,
) -> dict[str, Any]:
    """The output over a `grid`-sized sampling of the plane, and every hidden neuron's picture.

    `inputs` turns the plane's points (raw x1, x2) into what the network reads (the setup's
    input features); the pictures are still laid out over the plane."""
    arrays = batched(model)
    feed = inputs or (lambda X: X)
    outs = _layer_outputs(arrays, feed(plane.grid(grid)))
    small = min(grid, NEURON_GRID)
    hidden = _layer_outputs(arrays, feed(plane.grid(small)))[:-1] if len(arrays.layers) > 1 else []
    neurons = []
    for layer, acts in zip(arrays.layers, hidden, strict=False):
        row = []
        for j in range(acts.shape[1]):
            lo, hi = _span(acts[:, j], layer.activation)
            row.append({"values": _bytes((acts[:, j] - lo) / (hi - lo)), "range": [lo, hi]})
        neurons.append(row)
    return {
        "grid": grid,
        "neuron_grid": small,
        "output": _output(outs[-1], task, plane, target_range),
        "neurons": neurons,
    }


def weights(model: Model) -> list[list[dict[str, Any]]]:
    """Layer by layer, neuron by neuron: {"w": [...], "b": ...}, rounded for the page (row j
    of a layer's weight array is neuron j's weights)."""
    return [
        [
            {"w": [round_float(w, 4) for w in row], "b": round_float(b, 4)}
            for row, b in zip(layer.weight.data.tolist(), layer.bias.data.tolist(), strict=True)
        ]
        for layer in batched(model).layers
    ]
