"""The checks of step 4: the learner's `Neuron`, `Layer` and `MLP`, forward only.

Each check builds their network after `random.seed(0)`, reads the weights it drew, and compares
what it computes with our engine's result from the same weights.
"""

from __future__ import annotations

import random

from .base import Failed, check
from .nets import (
    ONE_OUTPUT_HINT,
    ONE_OUTPUT_WHY,
    SIZES,
    SMALL,
    XS,
    cls,
    forward,
    make,
    net_weights,
    outputs,
    read_layer,
    read_layers,
    read_neuron,
    relu,
    scalar,
    weights_of,
)
from .probe import Probe, close, fmt

__all__: list[str] = []


@check(
    4,
    "a Neuron has a weight per input and a bias",
    why="Neuron(3) holds 3 weights and 1 bias, Values drawn at random from [-1, 1]",
    hint="self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]; "
    "self.b = Value(random.uniform(-1, 1))",
)
def neuron_parts(p: Probe) -> None:
    w, b = read_neuron(p, make(p, "Neuron(3)"), 3)
    outside = [v for v in [*w, b] if not -1.0 <= v <= 1.0]
    if outside:
        raise Failed(f"a parameter of {fmt(outside[0])}", "numbers drawn from [-1, 1]")


@check(
    4,
    "weights start random",
    why="neurons that start with equal weights get equal gradients and stay equal forever: "
    "random starting values break the symmetry, so each neuron can learn something different",
    hint="draw every weight and bias from random.uniform(-1, 1), never a constant",
)
def neuron_random(p: Probe) -> None:
    p.tried = "random.seed(0); n = Neuron(4); m = Neuron(4)"
    random.seed(0)
    neuron = cls(p, "Neuron")
    w, _ = read_neuron(p, neuron(4), 4)
    w2, _ = read_neuron(p, neuron(4), 4, "m")
    if len(set(w)) == 1:
        raise Failed(f"n.w holds {fmt(w[0])} four times", "four different random weights")
    if w == w2:
        raise Failed("m.w == n.w", "two neurons with different weights")


@check(
    4,
    "a Neuron computes relu(w . x + b)",
    why="a neuron multiplies each input by its weight, adds them up with the bias, and applies "
    "ReLU: relu(w[0]*x[0] + w[1]*x[1] + ... + b)",
    hint="act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b); return act.relu()",
)
def neuron_forward(p: Probe) -> None:
    n = make(p, "Neuron(3)")
    for bias in (2.0, -2.0):
        n.b.data = bias
        w, b = read_neuron(p, n, 3)
        p.tried = f"random.seed(0); n = Neuron(3); n.b.data = {bias}; n({SMALL})"
        got = scalar(p, n(SMALL), "n(x)")
        z = sum(wi * xi for wi, xi in zip(w, SMALL, strict=True)) + b
        if not close(got, relu(z)):
            raise Failed(f"{fmt(got)}", f"relu({fmt(z)}) == {fmt(relu(z))}")
    p.tried = f"random.seed(0); n = Neuron(3); n([Value(x) for x in {SMALL}])"
    got = scalar(p, n([p.Value(x) for x in SMALL]), "n(x)")
    if not close(got, relu(z)):
        raise Failed(f"{fmt(got)} for inputs given as Values", f"{fmt(relu(z))}")


@check(
    4,
    "a Neuron's output is connected to its weights and bias",
    why="the output must be built from the Values w and b, not from their .data, or backward() "
    "cannot reach the parameters it is meant to train",
    hint="compute with the Values themselves: sum((wi * xi for wi, xi in zip(self.w, x)), self.b)",
)
def neuron_graph(p: Probe) -> None:
    n = make(p, "Neuron(3)")
    n.b.data = 2.0
    p.tried = f"random.seed(0); n = Neuron(3); n.b.data = 2.0; out = n({SMALL}); out.backward()"
    out = n(SMALL)
    p.expect_value(out, "out").backward()
    got = [p.number(v.grad, "w.grad") for v in n.w]
    if not all(close(g, x) for g, x in zip(got, SMALL, strict=True)) or n.b.grad != 1.0:
        raise Failed(
            f"n.w grads {fmt(got)}, n.b.grad == {fmt(n.b.grad)}",
            f"n.w grads {fmt(SMALL)} (each weight's gradient is its input), n.b.grad == 1.0",
        )


@check(
    4,
    "a Layer returns one output per neuron",
    why="a layer is neurons side by side, all reading the same input",
    hint="self.neurons = [Neuron(nin) for _ in range(nout)]; return [n(x) for n in self.neurons]",
)
def layer_forward(p: Probe) -> None:
    layer = make(p, "Layer(3, 4)")
    weights = weights_of(p, read_layer(p, layer, 3, 4, "layer"), [3] * 4)
    p.tried = f"random.seed(0); layer = Layer(3, 4); layer({XS[0]})"
    outs = layer(XS[0])
    if not isinstance(outs, list) or len(outs) != 4:
        raise Failed(f"{fmt(outs)}", "a list of 4 Values")
    for k, ((w, b), out) in enumerate(zip(weights, outs, strict=True)):
        want = forward([(w, b)], [3, 1], XS[0], relu_out=True)
        got = scalar(p, out, f"output {k}")
        if not close(got, want):
            raise Failed(f"output {k} == {fmt(got)}", f"{fmt(want)}, what neuron {k} gives")


@check(
    4,
    "a Layer's neurons are separate neurons",
    why="each neuron of a layer has weights of its own, so that each can learn something "
    "different: [Neuron(nin)] * nout is one Neuron listed nout times, and training one trains "
    "them all",
    hint="make a new Neuron for each place: [Neuron(nin) for _ in range(nout)]",
)
def layer_distinct(p: Probe) -> None:
    layer = make(p, "Layer(3, 4)")
    neurons = read_layer(p, layer, 3, 4, "layer")
    p.tried += "; layer.neurons"
    distinct = len({id(n) for n in neurons})
    if distinct < len(neurons):
        raise Failed(
            f"layer.neurons holds the same Neuron {len(neurons) - distinct + 1} times",
            "4 different Neurons",
        )
    shared = len({id(v) for n in neurons for v in (*n.w, n.b)})
    if shared < 4 * 4:
        raise Failed(f"the 4 neurons share weights: {shared} different Values", "16 Values")


@check(
    4,
    "a Layer of one neuron returns the Value itself",
    why=ONE_OUTPUT_WHY,
    hint=ONE_OUTPUT_HINT,
)
def layer_single(p: Probe) -> None:
    layer = make(p, "Layer(3, 1)")
    p.tried = f"random.seed(0); layer = Layer(3, 1); layer({XS[0]})"
    scalar(p, layer(XS[0]), "layer(x)")


@check(
    4,
    "MLP(3, [4, 4, 1]) chains three layers",
    why="MLP(3, [4, 4, 1]) has layers 3 -> 4, 4 -> 4 and 4 -> 1: each layer reads as many "
    "inputs as the layer before has neurons",
    hint="sizes = [nin] + nouts; self.layers = [Layer(sizes[i], sizes[i + 1]) for i in "
    "range(len(nouts))]",
)
def mlp_shape(p: Probe) -> None:
    net = make(p, "MLP(3, [4, 4, 1])")
    read_layers(p, net, SIZES)
    sizes = getattr(net, "layer_sizes", None)
    if sizes is None:
        p.note = (
            "the seed workshop's tests read n.layer_sizes: keep [nin] + nouts in "
            "self.layer_sizes, as the skeleton says"
        )
    elif list(sizes) != SIZES:
        raise Failed(
            f"n.layer_sizes == {fmt(sizes)}",
            f"{SIZES}, the input size then each layer's",
            why="layer_sizes lists the network's widths, inputs first: [nin] + nouts",
            hint="self.layer_sizes = [nin] + nouts",
        )


@check(
    4,
    "an MLP feeds each layer's output to the next",
    why="the network's output is the last layer applied to ... the first layer applied to x",
    hint="for layer in self.layers: x = layer(x); then return x",
)
def mlp_forward(p: Probe) -> None:
    net = make(p, "MLP(3, [4, 4, 1])")
    weights = net_weights(p, net)
    xs = [*XS, SMALL]
    for x, (got, linear) in zip(
        xs, outputs(p, net, xs, "random.seed(0); n = MLP(3, [4, 4, 1])"), strict=True
    ):
        if close(got, linear) or close(got, relu(linear)):
            continue
        if close(got, forward(weights, SIZES, x, relu_out=True, relu_hidden=False)):
            raise Failed(
                f"{fmt(got)}, what the same weights give with linear hidden layers",
                f"{fmt(linear)}, from the same weights in our engine",
                why="your hidden layers have no ReLU: the hidden layers use the activation, and "
                "only the output layer is linear (step 5); a network of linear layers is one "
                "linear function, however many layers it has",
                hint="build the hidden layers with nonlin=True and the last with nonlin=False: "
                "Layer(sizes[i], sizes[i + 1], nonlin=i != len(nouts) - 1)",
            )
        raise Failed(f"{fmt(got)}", f"{fmt(linear)}, from the same weights in our engine")


# -- step 5: parameters, a linear output, zero_grad and training ----------------------------
