"""Pictures of computation graphs: `draw_dot`, as in micrograd's notebook, and `trace_model`.

`draw_dot(root)` returns a `Graph` holding one record per `Value` (its label, data and grad) and
a small node per operation, with edges child -> op -> result. It draws any node that looks like
a Value (`data`, `grad`, `_prev` or `prev`, `_op`), so a workshop learner's own class works too.
A neuron's one node in the engine (`engine.neuron`: `w·x+b`, or `ReLU(w·x+b)` with its
activation) is drawn as the lecture draws a neuron: the products `w[i]*x[i]`, their sum with
`b`, left to right, then the activation (`expand=False` shows the single node the engine
runs). `trace_model(model, x)` builds that lecture graph for one sample with every weight
labelled, for `micrograd graph --model` and the playground.
It needs neither the `graphviz` Python package nor the Graphviz program: `Graph.source` is DOT
text, and `Graph.to_svg()` draws a self-contained SVG with a small layered layout of its own
(the Sugiyama method: layers by longest path, orders by barycenters, positions by least
squares; `graph_layout` places the boxes, `graph_svg` draws them). When Graphviz's `dot` is on
PATH, `Graph.save` uses it for .svg, .png and .pdf; without it, .svg and .html still work.

A `Graph` is a snapshot: it keeps the numbers as they were when drawn, not the Values.
"""

from __future__ import annotations

import math
import operator
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from functools import reduce
from numbers import Real
from pathlib import Path
from typing import Any

from .batched import BatchedMLP, per_sample
from .engine import FUSED_ACTIVATIONS, LINEAR_OP, Value
from .files import write_atomic
from .graph_layout import Node
from .graph_svg import printable, render_svg, xml_escape
from .nn import ACTIVATIONS, MLP, Layer, Neuron
from .numeric import is_array

__all__ = [
    "MAX_NODES",
    "Graph",
    "GraphTooLargeError",
    "GraphvizError",
    "draw_dot",
    "trace_model",
]

MAX_NODES = 2000
ENGINES = ("auto", "graphviz", "builtin")
RANKDIRS = ("LR", "TB")
_GRAPHVIZ_FORMATS = (".png", ".pdf")
_FIX = "install Graphviz (apt-get install graphviz) or save as .html/.svg"


class GraphTooLargeError(ValueError):
    """The graph has more Values than a readable picture can show (`limit`)."""

    def __init__(self, message: str, limit: int = 0) -> None:
        super().__init__(message)
        self.limit = limit


class GraphvizError(RuntimeError):
    """Graphviz's `dot` program is missing or failed."""


# -- collecting the graph ---------------------------------------------------------------------


def draw_dot(
    root: Any, rankdir: str = "LR", *, max_nodes: int = MAX_NODES, expand: bool = True
) -> Graph:
    """The graph of every Value `root` depends on, ready to show in a notebook or to save.

    `root` is a `Value`, or any object shaped like one: `data` and `grad` (real numbers), its
    children in `_prev` or `prev`, and its op in `_op` (a learner's own Value, for instance).
    `rankdir` is "LR" (inputs on the left) or "TB" (inputs at the top). A graph with more than
    `max_nodes` Values raises `GraphTooLargeError` rather than drawing an unreadable picture.

    A neuron's one node (`engine.neuron`) is drawn expanded, as the lecture's chain
    `w0*x0 + w1*x1 + ... + b` then its activation: the products and partial sums appear as
    unlabelled nodes with their data, and the grad every one of them has (the sum's: d(a + b)/da
    = 1). The node itself is the activation, or with none the last `+`. With `expand=False` it
    is one node whose op reads `w·x+b` (or `ReLU(w·x+b)`, `tanh(w·x+b)`, ...).
    """
    _children(root)  # a TypeError naming what is missing, before anything else
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    walk = _Walk(expand)
    values = _collect(root, max_nodes, walk.children)
    index = {id(v): i for i, v in enumerate(values)}
    nodes = [_describe(v, walk.op(v)) for v in values]
    edges = [(index[id(c)], index[id(v)]) for v in values for c in _unique(walk.children(v))]
    return Graph(nodes, edges, rankdir)


def _children(v: Any) -> tuple[Any, ...]:
    """A node's inputs: our Value's in their stable order, a look-alike's from `_prev`/`prev`."""
    if isinstance(v, Value):
        return v.children
    missing = [name for name in ("data", "grad", "_op") if not hasattr(v, name)]
    prev: Any = getattr(v, "_prev", None)
    if prev is None:
        prev = getattr(v, "prev", None)
    if prev is None:
        missing.append("_prev (or prev)")
    if missing:
        raise TypeError(
            f"draw_dot needs a Value or an object shaped like one, got {type(v).__name__} "
            f"without {', '.join(missing)}"
        )
    try:
        return tuple(prev)
    except TypeError:
        raise TypeError(
            f"draw_dot: a {type(v).__name__}'s children (_prev) must be a set or sequence of "
            f"nodes, got {type(prev).__name__}"
        ) from None


def _unique(nodes: tuple[Any, ...]) -> list[Any]:
    """Each child once, by identity (a look-alike may define == or hold a child twice)."""
    seen: dict[int, Any] = {}
    for n in nodes:
        seen.setdefault(id(n), n)
    return list(seen.values())


class _Part:
    """A node of the lecture's chain drawn for a fused `w·x+b`: a product or a partial sum.

    It exists only in the picture; the engine computed the same numbers inside one node.
    """

    __slots__ = ("_op", "children", "data", "grad", "label")

    def __init__(self, data: float, grad: float, op: str, children: tuple[Any, ...]) -> None:
        self.data, self.grad, self._op, self.children = data, grad, op, children
        self.label = ""


def _activation(v: Any) -> str | None:
    """For the engine's one node of a neuron, its activation's op ("" for none); else None."""
    if not isinstance(v, Value) or v.data.__class__ is not float:
        return None
    op = v._op
    if op == LINEAR_OP:
        act = ""
    elif op.endswith(f"({LINEAR_OP})") and op[: -len(LINEAR_OP) - 2] in FUSED_ACTIVATIONS:
        act = op[: -len(LINEAR_OP) - 2]
    else:
        return None
    n = len(v.children) // 2
    return act if n >= 1 and len(v.children) == 2 * n + 1 else None


def _chain(v: Value, act: str) -> tuple[Any, ...]:
    """The neuron node's children in the lecture's picture: the sum of the products, and b; or,
    with an activation, that sum plus b as one more `+` node.

    The products `w[i]*x[i]` are summed left to right, as `engine.neuron` sums them, so each
    partial sum holds the number the chain of `*` and `+` nodes would; every one of them passes
    the sum's grad on unchanged (each feeds one `+`), so that is its grad too.
    """
    c = v.children
    n = len(c) // 2
    w, x, b = c[:n], c[n : 2 * n], c[-1]
    g = FUSED_ACTIVATIONS[act][2](v.data, v.grad) if act else v.grad
    terms = [_Part(wi.data * xi.data, g, "*", (wi, xi)) for wi, xi in zip(w, x, strict=True)]
    total = terms[0]
    for term in terms[1:]:
        total = _Part(total.data + term.data, g, "+", (total, term))
    if not act:
        return total, b
    return (_Part(total.data + b.data, g, "+", (total, b)),)


class _Walk:
    """The children `draw_dot` follows: each node's own, or for a fused `w·x+b` (with
    `expand`) the lecture's chain, built once per node so that its parts keep their identity."""

    def __init__(self, expand: bool) -> None:
        self.expand = expand
        self._chains: dict[int, tuple[Any, ...]] = {}

    def children(self, v: Any) -> tuple[Any, ...]:
        if isinstance(v, _Part):
            return v.children
        act = _activation(v) if self.expand else None
        if act is not None:
            chain = self._chains.get(id(v))
            if chain is None:  # the graph holds v while drawn: its id stays its own
                chain = self._chains[id(v)] = _chain(v, act)
            return chain
        return _children(v)

    def op(self, v: Any) -> str:
        """The op drawn for `v`: an expanded neuron is its activation, or the chain's last `+`."""
        act = _activation(v) if self.expand and not isinstance(v, _Part) else None
        if act is not None:
            return act or "+"
        return str(v._op or "")


def _collect(root: Any, limit: int, children: Callable[[Any], tuple[Any, ...]]) -> list[Any]:
    """Every Value reachable from root, children first, root last; at most `limit` of them.

    A node counts as seen when it is expanded, not when it is first pushed: a child reached
    again later, deeper in the walk, must still come out before every node that uses it.
    """
    order: list[Any] = []
    seen: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        if len(seen) > limit:
            raise GraphTooLargeError(
                f"the graph has more than {limit} values, too many for a readable "
                "picture: draw a smaller expression or model (or pass a larger max_nodes)",
                limit,
            )
        stack.append((node, True))
        for child in reversed(children(node)):
            if id(child) not in seen:
                stack.append((child, False))
    return order


def _number(x: float) -> str:
    if x == 0 or not math.isfinite(x) or 1e-4 <= abs(x) < 1e6:
        return f"{x:.4f}"
    return f"{x:.4e}"


def _show(x: Any) -> str:
    """A float as the notebook shows it; an array (batched mode) as its shape and mean."""
    if is_array(x):
        mean = float(x.mean()) if x.size else math.nan
        return f"shape {tuple(x.shape)} mean {_number(mean)}"
    return _number(float(x))


def _describe(v: Any, op: str) -> Node:
    for name in ("data", "grad"):
        x = getattr(v, name)
        if not (is_array(x) or (isinstance(x, Real) and not isinstance(x, bool))):
            raise TypeError(
                f"draw_dot: a node's {name} must be a number, got {type(x).__name__} {x!r}"
            )
    data, grad = _show(v.data), _show(v.grad)
    fields = (f"data {data}", f"grad {grad}")
    exact_data = repr(v.data) if not is_array(v.data) else data
    exact_grad = repr(v.grad) if not is_array(v.grad) else grad
    tip = f"data={exact_data}, grad={exact_grad}"
    label = str(getattr(v, "label", "") or "")
    if label:
        return Node((label, *fields), True, op, f"{label}: {tip}")
    return Node(fields, False, op, tip)


# -- the Graph --------------------------------------------------------------------------------


class Graph:
    """A drawn computation graph: DOT text (`source`), SVG (`to_svg`) and files (`save`)."""

    def __init__(self, nodes: Sequence[Node], edges: Sequence[tuple[int, int]], rankdir: str):
        self._nodes = tuple(nodes)
        self._edges = tuple(edges)
        self.rankdir = rankdir

    def __repr__(self) -> str:
        ops = sum(1 for n in self._nodes if n.op)
        return f"Graph({len(self._nodes)} values, {ops} ops, rankdir={self.rankdir!r})"

    def __len__(self) -> int:
        """The number of Values drawn."""
        return len(self._nodes)

    @property
    def source(self) -> str:
        """The graph in Graphviz's DOT language, laid out like micrograd's notebook."""
        lines = ["digraph micrograd {", f"  graph [rankdir={self.rankdir}];"]
        for i, node in enumerate(self._nodes):
            record = " | ".join(_dot_record_escape(f) for f in node.fields)
            tip = _dot_escape(node.tip)
            lines.append(f'  n{i} [label="{{ {record} }}", shape=record, tooltip="{tip}"];')
            if node.op:
                lines.append(f'  n{i}_op [label="{_dot_escape(node.op)}"];')
                lines.append(f"  n{i}_op -> n{i};")
        for child, parent in self._edges:
            target = f"n{parent}_op" if self._nodes[parent].op else f"n{parent}"
            lines.append(f"  n{child} -> {target};")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.source

    def to_svg(self, engine: str = "builtin") -> str:
        """The picture as SVG text: our own layout ("builtin"), Graphviz's, or "auto"."""
        if _choose(engine) == "graphviz":
            return self._run_dot("svg").decode("utf-8")
        return render_svg(self._nodes, self._edges, self.rankdir)

    def to_html(self, title: str = "micrograd graph", engine: str = "builtin") -> str:
        """A minimal self-contained web page showing the SVG under a heading."""
        svg = self.to_svg(engine)
        svg = svg[svg.index("<svg") :]  # drop Graphviz's XML prolog and doctype
        heading = xml_escape(title)
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{heading}</title>\n"
            "<style>body{font-family:sans-serif;margin:1.5em}"
            ".graph{overflow:auto}</style>\n"
            f'</head>\n<body>\n<h1>{heading}</h1>\n<div class="graph">\n{svg}</div>\n'
            "</body>\n</html>\n"
        )

    def _repr_svg_(self) -> str:
        return self.to_svg("builtin")

    def save(
        self, path: str | os.PathLike[str], *, engine: str = "auto", title: str | None = None
    ) -> Path:
        """Write the graph to `path`, in the format its extension names; return the path.

        .dot/.gv: DOT text. .svg and .html: drawn by Graphviz when engine is "graphviz", or
        "auto" with `dot` on PATH; by the builtin layout otherwise. .png/.pdf: Graphviz only.
        `title` heads the .html page.
        """
        target = Path(path)
        ext = target.suffix.lower()
        if ext not in (".dot", ".gv", ".svg", ".html", *_GRAPHVIZ_FORMATS):
            raise ValueError(
                f"cannot save a graph as {ext or 'a file without an extension'!r}: "
                "use .dot, .svg, .html, .png or .pdf"
            )
        chosen = _choose(engine)
        if ext in (".dot", ".gv"):
            data = self.source.encode("utf-8")
        elif ext == ".svg":
            data = self.to_svg(chosen).encode("utf-8")
        elif ext == ".html":
            data = self.to_html(title or "micrograd graph", chosen).encode("utf-8")
        else:
            if engine == "builtin":
                raise ValueError(
                    f"the builtin layout writes only .svg and .html, not {ext}: save as "
                    ".svg/.html, or use engine='graphviz' with Graphviz installed"
                )
            data = self._run_dot(ext[1:])
        write_atomic(target, data)
        return target

    def _run_dot(self, fmt: str) -> bytes:
        exe = shutil.which("dot")
        if exe is None:
            raise GraphvizError(
                f"drawing {fmt.upper()} with Graphviz needs its 'dot' program, which is not on "
                f"PATH: {_FIX}"
            )
        try:
            done = subprocess.run(
                [exe, f"-T{fmt}"],
                input=self.source.encode("utf-8"),
                capture_output=True,
                timeout=300,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise GraphvizError(
                "Graphviz's 'dot' took more than 300 s: draw a smaller graph, or save as "
                ".html/.svg with engine='builtin'"
            ) from None
        if done.returncode != 0:
            why = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise GraphvizError(
                f"Graphviz's 'dot' failed (exit status {done.returncode}): "
                f"{why[0] if why else 'no message'}"
            )
        return done.stdout


def _choose(engine: str) -> str:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "auto":
        return "graphviz" if shutil.which("dot") else "builtin"
    return engine


def _dot_escape(text: str) -> str:
    return printable(text).replace("\\", "\\\\").replace('"', '\\"')


def _dot_record_escape(text: str) -> str:
    escaped = _dot_escape(text)
    for c in "{}|<>":
        escaped = escaped.replace(c, "\\" + c)
    return escaped


# -- models -----------------------------------------------------------------------------------


def trace_model(
    model: MLP | BatchedMLP | Layer | Neuron,
    x: Sequence[float],
    *,
    start: int = 0,
    inputs: Sequence[str] | None = None,
) -> Value:
    """The lecture's graph of `model` on one sample, differentiated; the model is left untouched.

    Each neuron is drawn as the lecture writes it: the products `w[i]*x[i]`, summed left to
    right with the bias last (`w0*x0 + w1*x1 + ... + b`), then its activation, all plain `*`,
    `+` and `.relu()` (or `.tanh()`, `.sigmoid()`) nodes. The engine runs a neuron's sum as one
    node (`engine.neuron`), in the same order, so the numbers are the model's own: the output equals
    `model(x)` exactly and every weight's grad is the one `model(x).backward()` gives.

    Labels are 0-based: inputs `x0 x1 ...`, parameters `L0.N1.w2` (layer 0, neuron 1, weight
    2, which multiplies input 2) and `L0.N1.b`, hidden outputs `L0.N1`, outputs `out` (or
    `out0 out1 ...`, summed into `sum` for the root). A `BatchedMLP` is drawn as its `MLP`.

    `start=1` numbers everything from 1 instead (`x1`, `L1.N1.w1`, `out1`), as the playground's
    page counts layers and neurons; `inputs` names the input leaves (e.g. the playground's
    features `x1^2`, `sin(x1)`), one name per input.
    """
    if isinstance(model, BatchedMLP):
        model = per_sample(model)
    if not isinstance(model, MLP | Layer | Neuron):
        raise TypeError(f"trace_model needs an MLP, Layer or Neuron, got {type(model).__name__}")
    layers = _neuron_layers(model)
    sample = _sample(x, layers[0][0].nin)
    if inputs is not None and len(inputs) != len(sample):
        raise ValueError(f"trace_model: {len(inputs)} input names for {len(sample)} inputs")
    names = list(inputs) if inputs is not None else [f"x{i + start}" for i in range(len(sample))]
    h = [Value(v, label=name) for v, name in zip(sample, names, strict=True)]
    for li, neurons in enumerate(layers):
        h = [
            _lecture_neuron(neuron, h, f"L{li + start}.N{ni + start}", start)
            for ni, neuron in enumerate(neurons)
        ]
    if len(h) == 1:
        h[0].label = "out"
        root = h[0]
    else:
        for ni, out in enumerate(h):
            out.label = f"out{ni + start}"
        root = reduce(operator.add, h)
        root.label = "sum"
    root.backward()
    return root


def _lecture_neuron(neuron: Neuron, x: list[Value], name: str, start: int) -> Value:
    """`activation(w0*x0 + w1*x1 + ... + b)` as the lecture's chain of nodes, on new leaves
    holding the neuron's numbers (labelled `name.w0 ... name.b`, weights counted from `start`);
    the output is labelled `name`."""
    w = [Value(p.data, label=f"{name}.w{i + start}") for i, p in enumerate(neuron.w)]
    b = Value(neuron.b.data, label=f"{name}.b")
    act = w[0] * x[0]
    for wi, xi in zip(w[1:], x[1:], strict=True):
        act = act + wi * xi
    out: Value = ACTIVATIONS[neuron.activation](act + b)
    out.label = name
    return out


def _neuron_layers(model: MLP | Layer | Neuron) -> list[list[Neuron]]:
    if isinstance(model, MLP):
        return [layer.neurons for layer in model.layers]
    if isinstance(model, Layer):
        return [model.neurons]
    return [[model]]


def _sample(x: Sequence[float], nin: int) -> list[float]:
    if isinstance(x, str | bytes) or not hasattr(x, "__len__"):
        raise TypeError(
            f"trace_model draws one sample: x must be a sequence of {nin} numbers, "
            f"got {type(x).__name__}"
        )
    items = list(x)
    bad = [v for v in items if isinstance(v, bool) or not isinstance(v, Real)]
    if bad:
        raise TypeError(
            f"trace_model draws one sample: x must hold {nin} numbers, but it holds "
            f"{type(bad[0]).__name__} {bad[0]!r}"
        )
    if len(items) != nin:
        raise ValueError(f"the model expects an input of length {nin}, got length {len(items)}")
    return [float(v) for v in items]
