"""Neural-network building blocks on top of `Value`: `Module`, `Neuron`, `Layer` and `MLP`.

A `Neuron` computes `activation(w.x + b)` as one fused `affine` node followed by its activation.
Given a whole batch (a 2-D array of samples x features), a `Layer` runs as one fused `linear`
node over the same weights instead, so the same model trains per sample or per batch.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .engine import Value, _affine_node, _is_array, linear

__all__ = ["ACTIVATIONS", "MLP", "Layer", "Module", "Neuron"]

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")


def _check_activation(activation: str | None, nonlin: bool | None) -> str:
    if nonlin is False or activation is None:
        return "linear"
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}: expected one of {', '.join(ACTIVATIONS)}"
        )
    return activation


def _identity(z: Value) -> Value:
    return z


_ACTIVATE: dict[str, Callable[[Value], Value]] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "linear": _identity,
}


def _activate(z: Value, activation: str) -> Value:
    return _ACTIVATE[activation](z)


def _as_values(x: Iterable[Any]) -> list[Value]:
    return [v if isinstance(v, Value) else Value(v) for v in x]


def _check_length(x: Sequence[Any], nin: int, who: str) -> None:
    if len(x) != nin:
        raise ValueError(f"{who} expects an input of length {nin}, got length {len(x)}")


def _batch(x: Any) -> Value | None:
    """The input as one Value holding a (samples x features) array, or None if it is one sample."""
    if isinstance(x, Value):
        return x if _is_array(x._data) else None
    if _is_array(x) and x.ndim == 2:
        return Value(x)
    return None


class Module:
    """Base class: anything with parameters to train."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """`activation(w.x + b)` with `nin` weights and a bias drawn from uniform(-1, 1)."""

    def __init__(
        self,
        nin: int,
        activation: str | None = "relu",
        *,
        nonlin: bool | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not isinstance(nin, int) or isinstance(nin, bool) or nin < 1:
            raise ValueError(f"nin must be a positive integer, got {nin!r}")
        self.activation = _check_activation(activation, nonlin)
        uniform = (rng or random).uniform
        self.w = [Value(uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(uniform(-1, 1))
        self._w_seen: list[Value] = []
        self._wb: tuple[Value, ...] = ()

    @property
    def nin(self) -> int:
        return len(self.w)

    @property
    def nonlin(self) -> bool:
        """The original micrograd's flag: is there a non-linearity after w.x + b?"""
        return self.activation != "linear"

    def __call__(self, x: Any) -> Value:
        batch = _batch(x)
        if batch is not None:
            return _activate(linear(batch, self.w, [self.b]), self.activation)
        if isinstance(x, Value):
            x = [x]
        _check_length(x, len(self.w), "Neuron")
        return self._forward(tuple(_as_values(x)))

    def _forward(self, xs: tuple[Value, ...]) -> Value:
        return _affine_node(self._weights_and_bias(), xs, self.activation)

    def _weights_and_bias(self) -> tuple[Value, ...]:
        """(w..., b) as one tuple shared by every call, made anew if `w` or `b` were replaced
        (the list comparison is by identity: Values define no equality)."""
        if self._w_seen != self.w or self._wb[-1] is not self.b:
            self._w_seen = list(self.w)
            self._wb = (*self.w, self.b)
        return self._wb

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"Neuron(nin={len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """`nout` neurons reading the same `nin` inputs."""

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | None = "relu",
        *,
        nonlin: bool | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not isinstance(nout, int) or isinstance(nout, bool) or nout < 1:
            raise ValueError(f"nout must be a positive integer, got {nout!r}")
        self.neurons = [Neuron(nin, activation, nonlin=nonlin, rng=rng) for _ in range(nout)]
        self.activation = self.neurons[0].activation

    @property
    def nin(self) -> int:
        return self.neurons[0].nin

    @property
    def nout(self) -> int:
        return len(self.neurons)

    def __call__(self, x: Any) -> Value | list[Value]:
        batch = _batch(x)
        if batch is not None:
            weights = [w for n in self.neurons for w in n.w]
            z = linear(batch, weights, [n.b for n in self.neurons])
            return _activate(z, self.activation)
        if isinstance(x, Value):  # the single output of a width-1 layer before this one
            x = [x]
        _check_length(x, self.nin, "Layer")
        xs = tuple(_as_values(x))
        outs = [n._forward(xs) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer(nin={self.nin}, nout={self.nout}, activation={self.activation!r})"


class MLP(Module):
    """A multi-layer perceptron: hidden layers use `activation`, the last is linear by default.

    Called on one sample (a sequence of `nin` numbers) it returns a Value, or a list of Values
    for several outputs. Called on a batch (a 2-D numpy array, samples x `nin`) it returns one
    Value holding an array: (samples,) for one output, (samples x outputs) for several.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str | None = "relu",
        step: float = 0.05,
        output_activation: str | None = None,
        *,
        rng: random.Random | None = None,
    ) -> None:
        if isinstance(nouts, int) or not list(nouts):
            raise ValueError(f"nouts must be a non-empty list of layer sizes, got {nouts!r}")
        sizes = [nin, *nouts]
        last = len(nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], output_activation if i == last else activation, rng=rng)
            for i in range(len(nouts))
        ]
        self.activation = _check_activation(activation, None)
        self.output_activation = _check_activation(output_activation, None)
        self.step = step

    @property
    def nin(self) -> int:
        return self.layers[0].nin

    @property
    def nouts(self) -> list[int]:
        return [layer.nout for layer in self.layers]

    def __call__(self, x: Any) -> Value | list[Value]:
        out: Value | list[Value] = x
        for layer in self.layers:
            out = layer(out)
        return out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def update_parameters(self) -> None:
        """One step of gradient descent: `p.data -= step * p.grad` for every parameter."""
        for p in self.parameters():
            p.data -= self.step * p.grad

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"MLP({inner}\n)"
