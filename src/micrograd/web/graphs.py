"""The computation graph of one data point's loss, as the playground's graph panel shows it:
the point traced through a scalar `MLP`, its loss backpropagated, the graph drawn as SVG (by
`viz`), and its output neuron written out as a program for the backprop view (`/backprop`).

Everything is numbered from 1, as the page counts: inputs x1 x2 ... (or named after the
setup's input features), neurons L1.N1 ...
"""

from __future__ import annotations

from typing import Any

from ..data import Dataset
from ..engine import Value
from ..loop import targets_for
from ..losses import LOSSES
from ..nn import MLP
from ..viz import GraphTooLargeError, draw_dot, trace_model
from .frames import round_float
from .messages import MessageError

__all__ = ["neuron_program", "point_graph"]


def point_graph(
    model: MLP, ds: Dataset, index: int, fed: list[float], inputs: list[str], loss_name: str
) -> dict[str, Any]:
    """The graph of point `index` of `ds` (the raw inputs), which the network reads as `fed`
    (inputs named `inputs`), and its loss `loss_name`: the numbers and SVG the page shows.
    `model` is a scalar copy the caller owns (its gradients are overwritten). A graph too
    large to draw raises `MessageError`."""
    out = trace_model(model, fed, start=1, inputs=inputs)
    nodes = out.topo_sort()
    outputs = [v for v in nodes if v.label == "out"] or sorted(
        (v for v in nodes if v.label.startswith("out")), key=lambda v: int(v.label[3:])
    )
    for v in nodes:
        v.grad = 0.0
    target = targets_for(loss_name, ds.task, ds.y[index : index + 1])
    pred: list[Any] = [outputs[0]] if len(outputs) == 1 else [outputs]
    loss: Value = LOSSES[loss_name](pred, target)
    loss.label = f"loss ({loss_name})"
    loss.backward()
    try:
        drawn = draw_dot(loss)
    except GraphTooLargeError as e:
        raise MessageError(f"graph: {e}") from None
    return {
        "x": [round_float(v, 6) for v in ds.X[index].tolist()],
        "features": list(inputs),
        "inputs": [round_float(v, 6) for v in fed],
        "target": round_float(float(ds.y[index]), 6),
        "loss_target": round_float(float(target[0]), 6),
        "loss_name": loss_name,
        "outputs": [round_float(v.data, 6) for v in outputs],
        "loss": round_float(loss.data, 6),
        "values": len(drawn),
        "svg": drawn.to_svg(),
        "neuron_program": neuron_program(model, nodes, fed),
    }


def neuron_program(model: MLP, nodes: list[Value], fed: list[float]) -> str:
    """The output neuron of `model` on one point, as a program for the backprop view: what it
    reads (the last hidden layer's outputs, or the inputs), its weights and bias, named
    h1 h2 ... w1 w2 ... b, and its activation: `o = (h1*w1 + h2*w2 + b).tanh()`. `nodes` is the
    point's traced graph (labels L1.N1 ... from 1, as the page counts)."""
    layers = model.layers
    neuron = layers[-1].neurons[0]
    if len(layers) > 1:
        by_label = {v.label: float(v.data) for v in nodes}
        last = len(layers) - 1
        reads = [by_label[f"L{last}.N{k + 1}"] for k in range(len(neuron.w))]
        names = [f"h{k + 1}" for k in range(len(reads))]
    else:
        reads = [float(x) for x in fed]  # the network's inputs, as it reads them
        names = [f"x{k + 1}" for k in range(len(reads))]
    weights = [f"w{k + 1}" for k in range(len(neuron.w))]
    pairs = [
        *zip(names, reads, strict=True),
        *zip(weights, (w.data for w in neuron.w), strict=True),
    ]
    given = ", ".join(f"{name} = {value!r}" for name, value in [*pairs, ("b", neuron.b.data)])
    total = " + ".join(f"{n}*{w}" for n, w in zip(names, weights, strict=True)) + " + b"
    act = neuron.activation
    return f"{given}; o = {total}" if act == "linear" else f"{given}; o = ({total}).{act}()"
