"""Neural networks on top of `Value`: `Module`, `Neuron`, `Layer` and `MLP`, as in the lecture.

A `Neuron` holds a list of weights `w` and a bias `b`, and computes `activation(w.x + b)`. A
`Layer` is a list of neurons reading the same inputs; an `MLP` is a list of layers. Everything is
a scalar `Value`: for whole batches of arrays at once, see `micrograd.batched`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from .engine import Value, neuron

__all__ = ["ACTIVATIONS", "MLP", "Layer", "Module", "Neuron"]

# A neuron's non-linearity, by name: the one list the command, the page and batched mode read.
ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "linear": lambda v: v,
}


def check_activation(activation: str | bool | None, nonlin: bool | None = None) -> str:
    """The activation's name. The original micrograd's `nonlin` flag (also positional, as in
    `Neuron(3, False)`) means ReLU when true and linear when false; None means linear."""
    if isinstance(activation, bool):
        nonlin, activation = activation, "relu"
    if nonlin is False or activation is None:
        return "linear"
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}: expected one of {', '.join(ACTIVATIONS)}"
        )
    return activation


def _positive(name: str, n: object) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return n


def _inputs(x: Any, nin: int, who: str) -> list[Any]:
    """One sample as a list of `nin` numbers or Values, or an error that says what to pass."""
    if x.__class__ is list and len(x) == nin:
        return x  # numbers or Values: `neuron` takes both
    if isinstance(x, Value) or (nin == 1 and isinstance(x, (int, float))):
        x = [x]
    if getattr(x, "ndim", None) == 1:  # a numpy row
        x = x.tolist()
    if not isinstance(x, (list, tuple)) or (x and isinstance(x[0], (list, tuple))):
        shape = getattr(x, "shape", None)
        got = "a list of rows" if isinstance(x, (list, tuple)) else f"{type(x).__name__}: {x!r}"
        raise TypeError(
            f"{who} expects one sample as a list of {nin} numbers (or Values), got "
            f"{f'an array of shape {shape}' if shape is not None else got}: for a whole batch "
            "use micrograd.batched (BatchedMLP), or call the model on each row"
        )
    if len(x) != nin:
        raise ValueError(f"{who} expects an input of length {nin}, got length {len(x)}")
    return list(x)


def _values(x: list[Any]) -> list[Value]:
    """Numbers as constant leaves, once for all the neurons that read them."""
    return [v if isinstance(v, Value) else Value(v) for v in x]


class Module:
    """Base class: anything with parameters to train."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """`activation(w.x + b)`, with `nin` weights and a bias drawn from uniform(-1, 1)."""

    def __init__(self, nin: int, activation: str | bool | None = "relu", *,
                 nonlin: bool | None = None, rng: random.Random | None = None) -> None:  # fmt: skip
        uniform = (rng or random).uniform
        self.w = [Value(uniform(-1, 1)) for _ in range(_positive("nin", nin))]
        self.b = Value(uniform(-1, 1))
        self.activation = check_activation(activation, nonlin)

    def __call__(self, x: Any) -> Value:
        x = _inputs(x, len(self.w), "Neuron")
        # activation(w[0]*x[0] + w[1]*x[1] + ... + b), as one node of the engine
        return neuron(x, self.w, self.b, ACTIVATIONS[self.activation])

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    @property
    def nin(self) -> int:
        return len(self.w)

    @property
    def nonlin(self) -> bool:
        """The original micrograd's flag: is there a non-linearity after w.x + b?"""
        return self.activation != "linear"

    def __repr__(self) -> str:
        return f"Neuron(nin={len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """`nout` neurons, each reading the same `nin` inputs."""

    def __init__(self, nin: int, nout: int, activation: str | bool | None = "relu", *,
                 nonlin: bool | None = None, rng: random.Random | None = None) -> None:  # fmt: skip
        _positive("nout", nout)
        self.neurons = [Neuron(nin, activation, nonlin=nonlin, rng=rng) for _ in range(nout)]
        self.activation = self.neurons[0].activation

    def __call__(self, x: Any) -> Value | list[Value]:
        x = _values(_inputs(x, self.nin, "Layer"))
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    @property
    def nin(self) -> int:
        return self.neurons[0].nin

    @property
    def nout(self) -> int:
        return len(self.neurons)

    def __repr__(self) -> str:
        return f"Layer(nin={self.nin}, nout={self.nout}, activation={self.activation!r})"


class MLP(Module):
    """A multi-layer perceptron: hidden layers use `activation`, the last is linear by default.

    Called on one sample (a sequence of `nin` numbers) it returns a Value, or a list of Values
    for several outputs.
    """

    def __init__(self, nin: int, nouts: Sequence[int], activation: str | None = "relu",
                 step: float = 0.05, output_activation: str | None = None, *,
                 rng: random.Random | None = None) -> None:  # fmt: skip
        if isinstance(nouts, int) or not list(nouts):
            raise ValueError(f"nouts must be a non-empty list of layer sizes, got {nouts!r}")
        self.activation = check_activation(activation)
        self.output_activation = check_activation(output_activation)
        sizes = [nin, *nouts]
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation, rng=rng) for i in range(len(nouts) - 1)
        ]
        self.layers.append(Layer(sizes[-2], sizes[-1], output_activation, rng=rng))
        self.step = step

    def __call__(self, x: Any) -> Value | list[Value]:
        out: Value | list[Value] = _inputs(x, self.nin, "MLP")  # the first layer makes Values
        for layer in self.layers:
            out = layer(out)
        return out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def update_parameters(self) -> None:
        """One step of gradient descent on every parameter (the seed tour's API)."""
        for p in self.parameters():
            p.data -= self.step * p.grad

    @property
    def nin(self) -> int:
        return self.layers[0].nin

    @property
    def nouts(self) -> list[int]:
        return [layer.nout for layer in self.layers]

    @property
    def layer_sizes(self) -> list[int]:
        """[nin, *nouts], e.g. [3, 4, 4, 1] for MLP(3, [4, 4, 1])."""
        return [self.nin, *self.nouts]

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"MLP({inner}\n)"
