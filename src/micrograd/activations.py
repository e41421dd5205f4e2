"""The one registry of activations: what a neuron's non-linearity is, by name.

`nn`, the fused neuron nodes, the command and the page all read `ACTIVATIONS`, so a new
activation is one entry here (and a `Value` method with its rule in the engine's table).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import numeric
from .engine import Value, relu_chain, sigmoid_chain, tanh_chain
from .numeric import Array

__all__ = ["ACTIVATIONS", "Activation"]


@dataclass(frozen=True)
class Activation:
    """A neuron's non-linearity: the Value method, and for fused neuron nodes its forward on
    data, `chain(g, out)` (the gradient at its input from `g` at its output) and its `_op`."""

    apply: Callable[[Value], Value]
    forward: Callable[[Array], Array]
    chain: Callable[[Array, Array], Array]
    op: str


def _identity_chain(g: Array, _out: Array) -> Array:
    return g


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation(Value.relu, numeric.relu, relu_chain, "ReLU"),
    "tanh": Activation(Value.tanh, numeric.tanh, tanh_chain, "tanh"),
    "sigmoid": Activation(Value.sigmoid, numeric.sigmoid, sigmoid_chain, "sigmoid"),
    "linear": Activation(lambda v: v, lambda a: a, _identity_chain, ""),
}
