"""Batched mode: the same network as `nn.MLP`, held as arrays, run on a whole batch at once.

Each `Linear` layer keeps one weight `Value` holding a (nout x nin) array (row j is neuron j's
`w`) and one bias `Value` holding a (nout,) array, and computes `activation(x @ W.T + b)` for a
(samples x nin) array `x`: two engine nodes per layer whatever the batch size, the engine's
`linear` (as `torch.nn.functional.linear`) and the activation. Same weights, same activations, same
outputs as the per-sample `MLP`, to rounding: a matrix product sums its terms in another order
than `w[0]*x[0] + w[1]*x[1] + ...`, and float sums in another order round differently (about
1e-16 relative per sum; the tests allow 1e-12).

`BatchedMLP.from_mlp(mlp)` and `.to_mlp()` convert both ways, weight for weight. Parameters come
layer by layer as `[W, b]`; flattening each layer's `[W | b]` row by row gives the per-sample
`MLP.parameters()` order (see `flat_parameters`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, TypeAlias

from .engine import Value, linear
from .nn import ACTIVATIONS, MLP, Module, check_activation
from .numeric import Array, is_array, numpy

__all__ = ["BatchedMLP", "Linear", "Model", "as_batch", "batched", "flat_parameters", "per_sample"]


def as_batch(x: Any, nin: int) -> Value:
    """A batch as a Value holding a (samples x nin) float array, or an error saying what to
    pass. A list of equal-length rows of numbers is a batch too."""
    if isinstance(x, Value):  # kept as is: its gradient is the inputs' gradient
        if not (is_array(x.data) and x.data.ndim == 2 and x.data.shape[1] == nin):
            raise ValueError(f"expected a batch of shape (samples, {nin}), got {_shape(x.data)}")
        return x
    if not is_array(x):
        if not isinstance(x, (list, tuple)) or not all(isinstance(r, (list, tuple)) for r in x):
            raise TypeError(
                f"a batched model expects a batch, a 2-D array of shape (samples, {nin}), got "
                f"{type(x).__name__}"
            )
        widths = sorted({len(r) for r in x})
        if len(widths) > 1:
            raise ValueError(f"a batch's rows must all have the same length, got {widths}")
        x = numpy().array(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != nin:
        raise ValueError(f"expected a batch of shape (samples, {nin}), got shape {x.shape}")
    return Value(x)


def _shape(x: Any) -> str:
    return f"shape {x.shape}" if is_array(x) else f"a {type(x).__name__}"


class Linear(Module):
    """`nout` neurons as arrays: `activation(x @ weight.T + bias)` for a batch `x`."""

    def __init__(self, weight: Array, bias: Array, activation: str | None = "relu") -> None:
        np = numpy()
        weight = np.array(weight, dtype=np.float64)  # a copy: the layer owns its arrays
        bias = np.array(bias, dtype=np.float64)
        if weight.ndim != 2 or bias.shape != (weight.shape[0],):
            raise ValueError(
                f"a layer needs weights of shape (nout, nin) and a bias of shape (nout,), got "
                f"{weight.shape} and {bias.shape}"
            )
        self.weight = Value(weight)
        self.bias = Value(bias)
        self.activation = check_activation(activation)

    def __call__(self, x: Value) -> Value:
        return ACTIVATIONS[self.activation](linear(x, self.weight, self.bias))

    def parameters(self) -> list[Value]:
        return [self.weight, self.bias]

    @property
    def nin(self) -> int:
        return int(self.weight.data.shape[1])

    @property
    def nout(self) -> int:
        return int(self.weight.data.shape[0])

    def __repr__(self) -> str:
        return f"Linear(nin={self.nin}, nout={self.nout}, activation={self.activation!r})"


class BatchedMLP(Module):
    """`MLP`'s network in batched mode: called on a (samples x nin) array it returns one Value
    holding an array, (samples,) for one output and (samples x outputs) for several.

    Built with the same arguments as `MLP` it draws the same weights from the same random
    numbers, so `BatchedMLP(2, [16, 1], rng=random.Random(0))` is `MLP(2, [16, 1],
    rng=random.Random(0))` as arrays.
    """

    def __init__(self, nin: int, nouts: Sequence[int], activation: str | None = "relu",
                 step: float = 0.05, output_activation: str | None = None, *,
                 rng: random.Random | None = None) -> None:  # fmt: skip
        mlp = MLP(nin, nouts, activation, step, output_activation, rng=rng)
        self._take(mlp)

    def _take(self, mlp: MLP) -> None:
        self.activation, self.output_activation = mlp.activation, mlp.output_activation
        self.step = mlp.step
        self.layers = [
            Linear(
                [[w.data for w in n.w] for n in layer.neurons],
                [n.b.data for n in layer.neurons],
                layer.activation,
            )
            for layer in mlp.layers
        ]

    @classmethod
    def from_mlp(cls, mlp: MLP) -> BatchedMLP:
        """The same network as arrays: every weight exactly, the same activations."""
        if not isinstance(mlp, MLP):
            raise TypeError(f"from_mlp needs an MLP, got {type(mlp).__name__}")
        model = cls.__new__(cls)
        model._take(mlp)
        return model

    def to_mlp(self) -> MLP:
        """The same network as scalar Values: every weight exactly, the same activations."""
        mlp = MLP(self.nin, self.nouts, self.activation, self.step, self.output_activation,
                  rng=random.Random(0))  # fmt: skip
        for layer, dense in zip(mlp.layers, self.layers, strict=True):
            layer.activation = dense.activation
            rows = dense.weight.data.tolist()
            for n, row, b in zip(layer.neurons, rows, dense.bias.data.tolist(), strict=True):
                n.activation = dense.activation
                for w, value in zip(n.w, row, strict=True):
                    w.data = value
                n.b.data = b
        return mlp

    def __call__(self, x: Any) -> Value:
        out = as_batch(x, self.nin)
        for layer in self.layers:
            out = layer(out)
        return out.sum(axis=1) if self.nouts[-1] == 1 else out  # (N, 1) -> (N,), exactly

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def update_parameters(self) -> None:
        """One step of gradient descent on every parameter, as `MLP.update_parameters()`."""
        for p in self.parameters():
            p.data = p.data - self.step * p.grad

    @property
    def nin(self) -> int:
        return self.layers[0].nin

    @property
    def nouts(self) -> list[int]:
        return [layer.nout for layer in self.layers]

    @property
    def layer_sizes(self) -> list[int]:
        return [self.nin, *self.nouts]

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"BatchedMLP({inner}\n)"


def flat_parameters(model: MLP | BatchedMLP) -> list[float]:
    """Every parameter's value in `MLP.parameters()` order (neuron by neuron: weights, bias),
    for either model."""
    if isinstance(model, MLP):
        return [p.data for p in model.parameters()]
    np = numpy()
    return [
        x
        for layer in model.layers
        for x in np.hstack([layer.weight.data, layer.bias.data[:, None]]).ravel().tolist()
    ]


Model: TypeAlias = MLP | BatchedMLP  # what the training toolkit takes: either form


def batched(model: Model) -> BatchedMLP:
    """`model` as arrays: itself if it is a `BatchedMLP`, else a converted copy (for running a
    per-sample `MLP` on many samples at once: predictions, pictures, exports)."""
    if isinstance(model, BatchedMLP):
        return model
    return BatchedMLP.from_mlp(model)


def per_sample(model: Model) -> MLP:
    """`model` as scalar Values: itself if it is an `MLP`, else a converted copy."""
    return model.to_mlp() if isinstance(model, BatchedMLP) else model
