"""Neural-network building blocks on top of `Value`: `Module`, `Neuron`, `Layer` and `MLP`.

A `Neuron` computes `activation(w.x + b)` as one fused node. A `Layer` keeps its neurons' weights
and biases in one buffer (`micrograd.buffers`): each parameter is still a `Value`, and given a
whole batch (a 2-D array of samples x features) the layer runs as one node, `act(linear)`, over the
whole buffer, so the same model trains per sample or per batch. It does so while every neuron
still holds the layer's own Values: replacing a weight, a bias or a neuron is counted
(`micrograd.watch`), and a layer with replaced ones runs them as they are.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from itertools import chain
from operator import attrgetter
from typing import Any, cast

from .activations import ACTIVATIONS
from .buffers import ParameterBuffer, ParameterList, block_linear, neuron_node, neuron_spec
from .engine import Value
from .fused import linear, neuron
from .numeric import is_array, numpy
from .watch import Changes, WatchedList

__all__ = ["ACTIVATIONS", "MLP", "Layer", "Module", "Neuron"]


def _check_activation(activation: str | bool | None, nonlin: bool | None) -> str:
    """The activation's name; the original micrograd's `nonlin` flag (also given positionally,
    as `Neuron(3, False)`) means ReLU when true and linear when false."""
    if isinstance(activation, bool):
        nonlin, activation = activation, "relu"
    if nonlin is False or activation is None:
        return "linear"
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}: expected one of {', '.join(ACTIVATIONS)}"
        )
    return activation


def _as_values(x: Iterable[Any]) -> tuple[Value, ...]:
    return tuple([v if isinstance(v, Value) else Value(v) for v in x])


def _batch(x: Any) -> Value | None:
    """The input as one Value holding a (samples x features) array, or None for one sample.
    A list of equal-length lists of numbers is a batch too, as a 2-D array would be."""
    if isinstance(x, Value):
        return x if is_array(x.data) else None
    if is_array(x) and x.ndim == 2:
        return Value(x)
    if isinstance(x, (list, tuple)) and x and all(isinstance(r, (list, tuple)) for r in x):
        if any(isinstance(v, Value) for r in x for v in r):
            raise TypeError(
                "a batch must hold plain numbers, not Values: pass one sample "
                "(a list of Values) at a time"
            )
        widths = sorted({len(r) for r in x})
        if len(widths) > 1:
            raise ValueError(
                f"a batch's rows must all have the same length, got lengths {widths}: one row "
                "per sample, one number per input"
            )
        return Value(numpy().array(x, dtype=float))
    return None


def _sample(x: Any, nin: int, who: str) -> tuple[Value, ...]:
    """One sample as a tuple of `nin` Values, or an error that says what to pass."""
    if isinstance(x, Value) or (
        nin == 1 and isinstance(x, (int, float)) and not isinstance(x, bool)
    ):
        x = [x]
    if is_array(x) and x.ndim == 1:
        x = x.tolist()
    if not isinstance(x, (list, tuple)):
        raise TypeError(
            f"{who} expects one sample as a list of {nin} numbers (or Values), or a batch as "
            f"a 2-D numpy array of shape (samples, {nin}); got {type(x).__name__}: {x!r}"
        )
    if len(x) != nin:
        raise ValueError(f"{who} expects an input of length {nin}, got length {len(x)}")
    return _as_values(x)


def _count_change(module: Module) -> None:
    changes = module.__dict__.get("_changes")  # none yet in a subclass's __init__ before ours
    if changes is not None:
        changes.count += 1


_weights_of = attrgetter("w")
_bias_of = attrgetter("b")


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
        activation: str | bool | None = "relu",
        *,
        nonlin: bool | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not isinstance(nin, int) or isinstance(nin, bool) or nin < 1:
            raise ValueError(f"nin must be a positive integer, got {nin!r}")
        self._activation = _check_activation(activation, nonlin)
        uniform = (rng or random).uniform
        buffer = ParameterBuffer([uniform(-1, 1) for _ in range(nin + 1)])
        own = buffer.parameters()
        self._members: ParameterList | None = own
        self._changes = Changes()  # counts replaced weights (see `micrograd.watch`)
        self.w: list[Value] = WatchedList(own[:-1], self._changes)
        self.b: Value = own[-1]
        self._own: tuple[Value, ...] = tuple(own)
        self._wb = self._own
        self._w_seen = list(self.w)
        self._attach(buffer, 0)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("w", "b"):  # replaced: the layer reading this neuron checks it again
            _count_change(self)
        super().__setattr__(name, value)

    def _attach(self, buffer: ParameterBuffer, offset: int) -> None:
        """Read weights and bias from `buffer`, from element `offset` on (a Layer moves its
        neurons' parameters into one buffer)."""
        self._buffer, self._offset = buffer, offset
        self._spec = neuron_spec(buffer, offset, self._activation)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_spec"]  # it holds the buffer's lists: made anew from the copied buffer
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._spec = neuron_spec(self._buffer, self._offset, self._activation)
        if self._members is not None:
            self._buffer.claim(self._members)

    @property
    def activation(self) -> str:
        return self._activation

    @activation.setter
    def activation(self, activation: str | None) -> None:
        self._activation = _check_activation(activation, None)
        self._spec = neuron_spec(self._buffer, self._offset, self._activation)

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
            return ACTIVATIONS[self.activation].apply(linear(batch, self.w, [self.b]))
        return self.forward(_sample(x, self.nin, "Neuron"))

    def forward(self, xs: tuple[Value, ...]) -> Value:
        """One sample, already a tuple of `nin` Values (pass one tuple to every neuron)."""
        wb = self.weights_and_bias()
        if wb is self._own:
            return neuron_node(self._spec, wb, xs)
        return neuron(wb, xs, self.activation)  # w or b replaced by other Values

    def weights_and_bias(self) -> tuple[Value, ...]:
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
        activation: str | bool | None = "relu",
        *,
        nonlin: bool | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not isinstance(nout, int) or isinstance(nout, bool) or nout < 1:
            raise ValueError(f"nout must be a positive integer, got {nout!r}")
        self._changes = Changes()  # replaced neurons, weights or biases (`micrograd.watch`)
        neurons = [Neuron(nin, activation, nonlin=nonlin, rng=rng) for _ in range(nout)]
        self.neurons: list[Neuron] = WatchedList(neurons, self._changes)
        self.activation = self.neurons[0].activation
        self._buffer, self._members = ParameterBuffer.join(
            [(n._buffer, n._own) for n in self.neurons]
        )
        for j, n in enumerate(self.neurons):
            n._attach(self._buffer, j * (nin + 1))
            n._members = None  # the layer keeps the joined list
            n._changes = self._changes  # its replacements now count for the layer
            cast(WatchedList[Value], n.w).changes = self._changes
        self._own_w = [list(n.w) for n in self.neurons]  # copies: a neuron's `w` may change
        self._own_b = [n.b for n in self.neurons]
        self._checked_at = -1  # the count when `intact()` last compared; -1: compare next time
        self._intact = False

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._buffer.claim(self._members)  # a copy: its buffer learns its members anew

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "neurons":  # replaced: `intact()` checks again
            _count_change(self)
        super().__setattr__(name, value)

    def intact(self) -> bool:
        """Are all weights and biases still the Values of this layer's buffer (no neuron, and
        no weight of one, replaced)? Compared only when something was replaced since the last
        comparison (see `micrograd.watch`), else the last answer."""
        count = self._changes.count
        if count != self._checked_at:
            self._intact = self._compare()
            self._checked_at = count if self._watched() else -1
        return self._intact

    def _compare(self) -> bool:
        """Two list comparisons by identity, in C."""
        neurons = self.neurons
        return (
            list(map(_bias_of, neurons)) == self._own_b
            and list(map(_weights_of, neurons)) == self._own_w
        )

    def _watched(self) -> bool:
        """Does every replacement that could change `_compare()` add to our count? Not once a
        list was assigned anew (a plain list), or a neuron of another layer was put in."""
        changes = self._changes
        return (
            isinstance(self.neurons, WatchedList)
            and self.neurons.changes is changes
            and all(
                n._changes is changes and isinstance(n.w, WatchedList) and n.w.changes is changes
                for n in self.neurons
            )
        )

    @property
    def nin(self) -> int:
        return self.neurons[0].nin

    @property
    def nout(self) -> int:
        return len(self.neurons)

    def __call__(self, x: Any) -> Value | list[Value]:
        batch = _batch(x)
        if batch is not None:
            if self.intact():  # one node: the layer and its activation
                return block_linear(batch, self._buffer, self.activation)
            weights = [w for n in self.neurons for w in n.w]
            z = linear(batch, weights, [n.b for n in self.neurons])
            return ACTIVATIONS[self.activation].apply(z)
        outs = self.forward(_sample(x, self.nin, "Layer"))
        return outs[0] if len(outs) == 1 else outs

    def forward(self, xs: tuple[Value, ...]) -> list[Value]:
        """One sample, already a tuple of `nin` Values: every neuron reads that one tuple."""
        return [n.forward(xs) for n in self.neurons]

    def parameters(self) -> list[Value]:
        if self.intact():
            return list(self._members)  # the same Values in the same order, in one copy
        return list(chain.from_iterable(n.parameters() for n in self.neurons))

    def zero_grad(self) -> None:
        if self.intact():
            self._buffer.zero_grad()
        else:
            super().zero_grad()

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

    @property
    def layer_sizes(self) -> list[int]:
        """[nin, *nouts], e.g. [3, 4, 4, 1] for MLP(3, [4, 4, 1])."""
        return [self.nin, *self.nouts]

    def __call__(self, x: Any) -> Value | list[Value]:
        batch = _batch(x)
        if batch is not None:
            out: Value | list[Value] = batch
            for layer in self.layers:
                out = layer(out)
            return out
        outs = _sample(x, self.nin, "MLP")
        for layer in self.layers:
            outs = tuple(layer.forward(outs))
        return outs[0] if len(outs) == 1 else list(outs)

    def parameters(self) -> list[Value]:
        params: list[Value] = []
        for layer in self.layers:
            intact = isinstance(layer, Layer) and layer.intact()
            params += layer._members if intact else layer.parameters()
        return params

    def zero_grad(self) -> None:
        for layer in self.layers:
            layer.zero_grad()

    def update_parameters(self) -> None:
        """One step of gradient descent: `p.data -= step * p.grad` for every parameter (a
        layer's whole buffer at once, the same float operations, when its gradients are all
        floats)."""
        step = self.step
        for layer in self.layers:
            if not (layer.intact() and layer._buffer.descend(step)):
                for p in layer.parameters():
                    p.data -= step * p.grad

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"MLP({inner}\n)"
