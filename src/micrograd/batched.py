"""Batched mode: the same network as `nn.MLP`, held as arrays, run on a whole batch at once.

Each `Linear` layer keeps one weight `Value` holding a (nout x nin) array (row j is neuron j's
`w`) and one bias `Value` holding a (nout,) array, and computes `activation(x @ W.T + b)` for a
(samples x nin) array `x` as one node, `dense`, whose backward rule sits below it: the matrix
rules dX = G W, dW = G^T X, db = sum of G's rows, with G the gradient through the activation.
Same weights, same activations, same outputs as the per-sample `MLP`, to rounding: a matrix
product sums its terms in another order than `w[0]*x[0] + w[1]*x[1] + ...`, and float sums in
another order round differently (about 1e-16 relative per sum; the tests allow 1e-12).

`BatchedMLP.from_mlp(mlp)` and `.to_mlp()` convert both ways, weight for weight. Parameters come
layer by layer as `[W, b]`; flattening each layer's `[W | b]` row by row gives the per-sample
`MLP.parameters()` order (see `flat_parameters`).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import numpy as np

from .engine import Value
from .nn import ACTIVATIONS, MLP, Module, check_activation
from .numeric import Array, is_array

__all__ = [
    "BatchedMLP",
    "Linear",
    "Model",
    "as_batch",
    "batched",
    "cat",
    "dense",
    "flat_parameters",
    "per_sample",
]


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
        x = np.array(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != nin:
        raise ValueError(f"expected a batch of shape (samples, {nin}), got shape {x.shape}")
    return Value(x)


def _shape(x: Any) -> str:
    return f"shape {x.shape}" if is_array(x) else f"a {type(x).__name__}"


# -- one node per layer: activation(x @ W.T + b) ----------------------------------------------
# The activation is applied in place on the product's own array, and its derivative is read
# from the output, so a layer makes one array forward and two backward, not three and four.
# Name -> (apply in place, gradient through it given the output y and the output's gradient g).
# An activation missing here runs as its own engine node after a linear one (the plain way).
ArrayActivation = tuple[Callable[[Array], Array], Callable[[Array, Array], Array]]


def _sigmoid(z: Array) -> Array:  # 1 / (1 + e**-z) without exp of a positive number
    e = np.exp(-np.abs(z))
    return np.divide(np.where(z >= 0, 1.0, e), 1.0 + e, out=z)


_ARRAY_ACTIVATIONS: dict[str, ArrayActivation] = {
    "linear": (lambda z: z, lambda y, g: g),
    "relu": (lambda z: np.maximum(z, 0.0, out=z), lambda y, g: np.where(y <= 0.0, 0.0, g)),
    "tanh": (lambda z: np.tanh(z, out=z), lambda y, g: g * (1.0 - y * y)),
    "sigmoid": (_sigmoid, lambda y, g: g * (y * (1.0 - y))),
}


def dense(x: Value, weight: Value, bias: Value, activation: str = "linear",
          spare: Spare | None = None) -> Value:  # fmt: skip
    """`activation(x @ weight.T + bias)` for a (samples x nin) batch `x`, a (nout x nin)
    `weight` and a (nout,) `bias`, as one node (`torch.nn.functional.linear`, then the
    activation). `spare` (a layer's `Spare`) lends arrays of earlier steps for the result."""
    kernels = _ARRAY_ACTIVATIONS.get(activation)
    if kernels is None:  # no array kernel for it: the engine's own node after a linear one
        return ACTIVATIONS[activation](dense(x, weight, bias, "linear", spare))
    xd, W = x.data, weight.data
    shape = (xd.shape[0], W.shape[0])
    z = np.matmul(xd, W.T, out=spare.take(shape) if spare else None)
    z += bias.data
    op = "x@W.T+b" if activation == "linear" else f"{activation}(x@W.T+b)"
    saved = (kernels[1], spare)
    return Value(kernels[0](z), (x, weight, bias), op, _rule=_dense_backward, _saved=saved)


def _dense_backward(out: Value) -> None:  # G = g through the activation; dX = G W, dW = G^T X
    x, w, b = out._children
    through, spare = out._saved
    G = through(out.data, out.grad)
    if x.grad.__class__ is float and x.grad == 0.0:  # the first to reach x: a new array, kept
        x.grad = np.matmul(G, w.data, out=spare.take(x.data.shape) if spare else None)
    else:
        x.grad += G @ w.data
    w.grad += G.T @ x.data
    b.grad += G.sum(axis=0)


class Spare:
    """A layer's large arrays from earlier steps, lent again once nothing else holds them.

    Why: a step's graph holds a few large arrays (a layer's outputs, its inputs' gradients), all
    freed when the graph goes; glibc's malloc then hands that memory back to the system, and the
    next step faults every page of it in again (moons-1000: about 850 page faults a step, 3.6
    instead of 2.0 ms; bench/suite.py). Reusing the arrays skips that. An array is lent again
    only when this list's is the only reference left to it (`sys.getrefcount`), so no output or
    gradient anyone still holds is ever written over. Below 128 KiB malloc reuses memory
    itself, and on Pythons without reference counts nothing is kept.
    """

    KEPT = 4  # per layer: this step's and the last step's output and input gradient
    SMALLEST = 1 << 14  # elements (128 KiB of float64), glibc's default mmap threshold

    def __init__(self) -> None:
        self.arrays: list[Array] = []

    def take(self, shape: tuple[int, ...]) -> Array | None:
        """A free array of `shape` to write into, or None: numpy makes a new one."""
        if shape[0] * shape[1] < self.SMALLEST or not hasattr(sys, "getrefcount"):
            return None
        arrays = self.arrays
        for i in range(len(arrays)):
            # 2: the list's reference and the argument's; any more is someone else's
            if arrays[i].shape == shape and sys.getrefcount(arrays[i]) == 2:
                return arrays[i]
        new = np.empty(shape)
        if len(arrays) < self.KEPT:
            arrays.append(new)
        return new

    def __deepcopy__(self, memo: dict[int, Any]) -> Spare:
        return Spare()  # a copy of a model starts with nothing to lend

    def __reduce__(self) -> tuple[type[Spare], tuple[()]]:
        return (Spare, ())


class Linear(Module):
    """`nout` neurons as arrays: `activation(x @ weight.T + bias)` for a batch `x`."""

    def __init__(self, weight: Array, bias: Array, activation: str | None = "relu") -> None:
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
        self.spare = Spare()

    def __call__(self, x: Value) -> Value:
        return dense(x, self.weight, self.bias, self.activation, self.spare)

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


def cat(values: Sequence[Value]) -> Value:
    """One 1-D array of every value's data, each flattened, in order (`torch.cat` of the
    flattened tensors): a sum over many parameters is then one node, not one per parameter."""
    data = np.concatenate([v.data.reshape(-1) if is_array(v.data) else [v.data] for v in values])
    return Value(data, tuple(values), "cat", _rule=_cat_backward)


def _cat_backward(out: Value) -> None:  # each child gets its own slice of the gradient back
    start = 0
    for v in out._children:
        if v.data.__class__ is float:
            v.grad += float(out.grad[start])
            start += 1
        else:
            v.grad += out.grad[start : start + v.data.size].reshape(v.data.shape)
            start += v.data.size


def flat_parameters(model: MLP | BatchedMLP) -> list[float]:
    """Every parameter's value in `MLP.parameters()` order (neuron by neuron: weights, bias),
    for either model."""
    if isinstance(model, MLP):
        return [p.data for p in model.parameters()]
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
