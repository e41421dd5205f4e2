"""Reading a learner's network: its classes, its shape and the weights it drew.

Their networks start from random weights, so the checks of steps 4 and 5 read the numbers their
code drew (`Neuron.w`, `Neuron.b`, `Layer.neurons`, `MLP.layers`) and compute the same network
with our engine from them. Every reader fails with a message naming the attribute it expected.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from ..engine import Value as OurValue
from .base import Failed
from .probe import Probe, fmt

__all__ = [
    "ONE_OUTPUT_HINT",
    "ONE_OUTPUT_WHY",
    "SIZES",
    "SMALL",
    "XS",
    "YS",
    "Weights",
    "cls",
    "flat",
    "forward",
    "make",
    "net_weights",
    "outputs",
    "read_layer",
    "read_layers",
    "read_neuron",
    "relu",
    "scalar",
    "weights_of",
]

XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]
SMALL = [0.5, -0.5, 0.25]  # |w . x| <= 1.25 for weights in [-1, 1]: the bias sets the sign
SIZES = [3, 4, 4, 1]
Weights = list[tuple[list[float], float]]  # per neuron: its weights and its bias
ONE_OUTPUT_WHY = (
    "a layer with one neuron gives its Value itself, so that a one-output network returns "
    "something you can put in a loss and call backward() on"
)
ONE_OUTPUT_HINT = "outs = [n(x) for n in self.neurons]; return outs[0] if len(outs) == 1 else outs"


def cls(p: Probe, name: str) -> Any:
    found = getattr(p.mlp, name, None)
    if found is None:
        raise Failed(
            f"mlp.py has no {name}",
            f"a {name} in mlp.py",
            why=f"the checker imports {name} from your mlp.py",
            hint=f"keep the skeleton's name {name} (step 4 introduces the classes, step 5 train)",
        )
    return found


def make(p: Probe, code: str, seed: int = 0) -> Any:
    """Build `code` (e.g. "Neuron(3)") from their mlp.py, after seeding Python's random."""
    p.tried = f"random.seed({seed}); n = {code}"
    random.seed(seed)
    scope = {name: getattr(p.mlp, name, None) for name in ("Neuron", "Layer", "MLP")}
    for name in scope:
        if name in code:
            cls(p, name)
    return eval(code, {"__builtins__": {}}, scope)


def read_neuron(p: Probe, n: Any, nin: int, where: str = "n") -> tuple[list[float], float]:
    w: Any = getattr(n, "w", None)
    b: Any = getattr(n, "b", None)
    if not isinstance(w, list) or len(w) != nin or not all(isinstance(v, p.Value) for v in w):
        raise Failed(
            f"{where}.w is {fmt(w)}",
            f"a list of {nin} Values, one weight per input",
            why="a neuron has one weight per input, each a Value so that gradients reach it",
            hint="self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]",
        )
    if not isinstance(b, p.Value):
        raise Failed(
            f"{where}.b is {fmt(b)}",
            "one Value",
            why="a neuron has one bias, a Value like the weights",
            hint="self.b = Value(random.uniform(-1, 1))",
        )
    return [p.number(v.data, f"{where}.w[i].data") for v in w], p.number(b.data, f"{where}.b.data")


def read_layer(p: Probe, layer: Any, nin: int, nout: int, where: str) -> list[Any]:
    """The layer's neurons, after checking there are `nout` of them with `nin` weights each."""
    neurons = getattr(layer, "neurons", None)
    if not isinstance(neurons, list) or len(neurons) != nout:
        raise Failed(
            f"{where}.neurons is {fmt(neurons)}",
            f"a list of {nout} Neurons",
            why=f"Layer({nin}, {nout}) is {nout} neurons side by side, each reading the same "
            f"{nin} inputs",
            hint="self.neurons = [Neuron(nin) for _ in range(nout)]",
        )
    for j, neuron in enumerate(neurons):
        read_neuron(p, neuron, nin, f"{where}.neurons[{j}]")
    return neurons


def read_layers(p: Probe, net: Any, sizes: list[int]) -> list[list[Any]]:
    """An MLP's neurons layer by layer, after checking the shape MLP(sizes[0], sizes[1:])."""
    layers = getattr(net, "layers", None)
    shape = " -> ".join(map(str, sizes))
    why = (
        f"MLP({sizes[0]}, {sizes[1:]}) has one layer per entry of nouts, {shape}: each layer "
        "reads as many inputs as the layer before has neurons"
    )
    hint = (
        "sizes = [nin] + nouts; self.layers = [Layer(sizes[i], sizes[i + 1]) for i in "
        "range(len(nouts))]"
    )
    if not isinstance(layers, list) or len(layers) != len(sizes) - 1:
        raise Failed(
            f"n.layers is {fmt(layers)}", f"a list of {len(sizes) - 1} Layers", why=why, hint=hint
        )
    for i, layer in enumerate(layers):
        for j, neuron in enumerate(getattr(layer, "neurons", None) or []):
            w = getattr(neuron, "w", None)
            if isinstance(w, list) and len(w) != sizes[i]:
                raise Failed(
                    f"n.layers[{i}].neurons[{j}] has {len(w)} weights",
                    f"{sizes[i]}, one per " + ("input" if i == 0 else f"neuron of layer {i - 1}"),
                    why=why,
                    hint=hint,
                )
    return [
        read_layer(p, layer, sizes[i], sizes[i + 1], f"n.layers[{i}]")
        for i, layer in enumerate(layers)
    ]


def weights_of(p: Probe, neurons: list[Any], nins: list[int]) -> Weights:
    return [read_neuron(p, n, nin) for n, nin in zip(neurons, nins, strict=True)]


def net_weights(p: Probe, net: Any) -> Weights:
    found = read_layers(p, net, SIZES)
    return [read_neuron(p, n, SIZES[i]) for i, layer in enumerate(found) for n in layer]


def relu(z: float) -> float:
    return z if z > 0 else 0.0


def forward(
    weights: Weights, sizes: list[int], x: list[float], relu_out: bool, relu_hidden: bool = True
) -> float:
    """The network's output for x with these weights, hidden layers ReLU (unless not
    `relu_hidden`), the output too if `relu_out`."""
    at = 0
    h = x
    for i, width in enumerate(sizes[1:]):
        last = i == len(sizes) - 2
        nxt = []
        for w, b in weights[at : at + width]:
            z = sum((OurValue(wi) * xi for wi, xi in zip(w, h, strict=True)), OurValue(b)).data
            nxt.append(relu(z) if (relu_out if last else relu_hidden) else z)
        at += width
        h = nxt
    return h[0]


def scalar(p: Probe, out: object, what: str) -> float:
    if isinstance(out, list) and len(out) == 1:
        raise Failed(
            f"{what} is a list of one Value",
            "the Value itself",
            why=ONE_OUTPUT_WHY,
            hint=ONE_OUTPUT_HINT,
        )
    return p.number(p.expect_value(out, what).data, f"{what}.data")


def outputs(p: Probe, net: Any, xs: list[list[float]], setup: str) -> Iterator[tuple[float, float]]:
    """For each x in xs: what their MLP(3, [4, 4, 1]) gives, and what our engine gives from the
    weights it holds now with a linear output. `setup` is the code that built `net`, for `tried`."""
    weights = net_weights(p, net)
    for x in xs:
        p.tried = f"{setup}; n({x})"
        yield scalar(p, net(x), "n(x)"), forward(weights, SIZES, x, relu_out=False)


# -- step 4: Neuron, Layer and MLP ----------------------------------------------------------


def flat(layers: list[list[Any]]) -> list[Any]:
    return [n for layer in layers for n in layer]
