"""Pictures of computation graphs: `draw_dot`, as in micrograd's notebook, and `trace_model`.

`draw_dot(root)` returns a `Graph` holding one record per `Value` (its label, data and grad) and
a small node per operation, with edges child -> op -> result. It draws any node that looks like
a Value (`data`, `grad`, `_prev` or `prev`, `_op`), so a workshop learner's own class works too.
It needs neither the `graphviz` Python package nor the Graphviz program: `Graph.source` is DOT
text, and `Graph.to_svg()` draws a self-contained SVG with a small layered layout of its own
(the Sugiyama method: layers by longest path, orders by barycenters, positions by least
squares). When Graphviz's `dot` is on PATH, `Graph.save` uses it for .svg, .png and .pdf;
without it, .svg and .html still work.

A `Graph` is a snapshot: it keeps the numbers as they were when drawn, not the Values.
"""

from __future__ import annotations

import copy
import hashlib
import math
import operator
import os
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce
from itertools import pairwise
from numbers import Real
from pathlib import Path
from typing import Any

from .engine import Value
from .files import write_atomic
from .nn import MLP, Layer, Neuron
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


@dataclass(frozen=True)
class _Node:
    """One Value as drawn: the text of its record's fields, its op and a full-precision tip."""

    fields: tuple[str, ...]
    labelled: bool
    op: str
    tip: str


def draw_dot(root: Any, rankdir: str = "LR", *, max_nodes: int = MAX_NODES) -> Graph:
    """The graph of every Value `root` depends on, ready to show in a notebook or to save.

    `root` is a `Value`, or any object shaped like one: `data` and `grad` (real numbers), its
    children in `_prev` or `prev`, and its op in `_op` (a learner's own Value, for instance).
    `rankdir` is "LR" (inputs on the left) or "TB" (inputs at the top). A graph with more than
    `max_nodes` Values raises `GraphTooLargeError` rather than drawing an unreadable picture.
    """
    _children(root)  # a TypeError naming what is missing, before anything else
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    values = _collect(root, max_nodes)
    index = {id(v): i for i, v in enumerate(values)}
    nodes = [_describe(v) for v in values]
    edges = [(index[id(c)], index[id(v)]) for v in values for c in _unique(_children(v))]
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


def _collect(root: Any, limit: int) -> list[Any]:
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
        for child in reversed(_children(node)):
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


def _describe(v: Any) -> _Node:
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
    op = str(v._op or "")
    if label:
        return _Node((label, *fields), True, op, f"{label}: {tip}")
    return _Node(fields, False, op, tip)


# -- the Graph --------------------------------------------------------------------------------


class Graph:
    """A drawn computation graph: DOT text (`source`), SVG (`to_svg`) and files (`save`)."""

    def __init__(self, nodes: Sequence[_Node], edges: Sequence[tuple[int, int]], rankdir: str):
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
        return _render_svg(self._nodes, self._edges, self.rankdir)

    def to_html(self, title: str = "micrograd graph", engine: str = "builtin") -> str:
        """A minimal self-contained web page showing the SVG under a heading."""
        svg = self.to_svg(engine)
        svg = svg[svg.index("<svg") :]  # drop Graphviz's XML prolog and doctype
        heading = _xml_escape(title)
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


def _printable(text: str) -> str:
    """Replace control characters, which neither DOT labels nor XML can hold, by escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _dot_escape(text: str) -> str:
    return _printable(text).replace("\\", "\\\\").replace('"', '\\"')


def _dot_record_escape(text: str) -> str:
    escaped = _dot_escape(text)
    for c in "{}|<>":
        escaped = escaped.replace(c, "\\" + c)
    return escaped


def _xml_escape(text: str) -> str:
    text = _printable(text)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


# -- the builtin layout -----------------------------------------------------------------------

_FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
_FONT_SIZE = 12
_CHAR_WIDTH = 0.602 * _FONT_SIZE  # monospace, so text width is predictable
_PAD = 7.0  # inside a record field, each side
_BOX_HEIGHT = 26.0
_OP_RY = 13.0
_LAYER_GAP = 40.0
_NODE_SEP = 12.0
_DUMMY_SIZE = 2.0
_MARGIN = 12.0
_MAX_DUMMIES = 20_000  # long edges past this budget are drawn straight across
_ORDER_SWEEPS = 12
_PLACE_SWEEPS = 8


def _text_width(text: str) -> float:
    wide = sum(1 for c in text if unicodedata.east_asian_width(c) in "WF")
    return (len(text) + wide) * _CHAR_WIDTH


@dataclass
class _Box:
    """A node to place: a Value's record, an op's ellipse, or a dummy on a long edge."""

    kind: str  # "value", "op" or "dummy"
    width: float
    height: float
    value: int  # index of the Value it draws (for dummies: of the edge's source)
    layer: int = 0
    main: float = 0.0  # centre along the layering axis
    cross: float = 0.0  # centre across it


@dataclass
class _Layout:
    boxes: list[_Box]
    routes: list[list[int]]  # each edge as the boxes it passes through, source to target
    field_widths: list[list[float]]
    size: tuple[float, float]  # along the layering axis, across it


def _layout(nodes: Sequence[_Node], edges: Sequence[tuple[int, int]], rankdir: str) -> _Layout:
    lr = rankdir == "LR"
    boxes: list[_Box] = []
    box_of_value: list[int] = []
    entry: list[int] = []  # the box an edge into each Value ends at: its op, if it has one
    field_widths: list[list[float]] = []
    for i, node in enumerate(nodes):
        if node.op:
            rx = max(_OP_RY, _text_width(node.op) / 2 + 7.0)
            boxes.append(_Box("op", 2 * rx, 2 * _OP_RY, i))
        widths = [_text_width(f) + 2 * _PAD for f in node.fields]
        field_widths.append(widths)
        box_of_value.append(len(boxes))
        entry.append(len(boxes) - 1 if node.op else len(boxes))
        boxes.append(_Box("value", sum(widths), _BOX_HEIGHT, i))
    arcs = [(box_of_value[c], entry[p]) for c, p in edges]
    arcs += [(entry[i], box_of_value[i]) for i, node in enumerate(nodes) if node.op]

    # Boxes are listed so that every arc goes forward; layer = longest path to the root, so
    # each node sits right before its first consumer.
    succ: list[list[int]] = [[] for _ in boxes]
    for a, b in arcs:
        succ[a].append(b)
    dist = [0] * len(boxes)
    for a in range(len(boxes) - 1, -1, -1):
        dist[a] = max((dist[b] + 1 for b in succ[a]), default=0)
    depth = max(dist)
    for a, box in enumerate(boxes):
        box.layer = depth - dist[a]

    routes = _add_dummies(boxes, arcs)
    layers = _order(boxes, routes, depth + 1)
    size_main = _place_main(boxes, layers, lr)
    size_cross = _place_cross(boxes, layers, routes, lr)
    return _Layout(boxes, routes, field_widths, (size_main, size_cross))


def _add_dummies(boxes: list[_Box], arcs: list[tuple[int, int]]) -> list[list[int]]:
    """Split arcs spanning several layers with dummy boxes, shortest arcs first, to a budget."""
    routes: list[list[int]] = [[a, b] for a, b in arcs]
    budget = _MAX_DUMMIES
    for route in sorted(routes, key=lambda r: boxes[r[1]].layer - boxes[r[0]].layer):
        a, b = route
        span = boxes[b].layer - boxes[a].layer
        if span <= 1 or span - 1 > budget:
            continue
        budget -= span - 1
        chain = [a]
        for layer in range(boxes[a].layer + 1, boxes[b].layer):
            chain.append(len(boxes))
            boxes.append(_Box("dummy", _DUMMY_SIZE, _DUMMY_SIZE, boxes[a].value, layer))
        chain.append(b)
        route[:] = chain
    return routes


def _order(boxes: list[_Box], routes: list[list[int]], count: int) -> list[list[int]]:
    """Order each layer to reduce crossings: barycenter sweeps, keeping the best seen."""
    preds: list[list[int]] = [[] for _ in boxes]
    succs: list[list[int]] = [[] for _ in boxes]
    for route in routes:
        for a, b in pairwise(route):
            if boxes[b].layer - boxes[a].layer == 1:
                preds[b].append(a)
                succs[a].append(b)
    layers: list[list[int]] = [[] for _ in range(count)]
    # Start in depth-first order from the root (the order Values were collected in), which
    # already keeps most subtrees together.
    for a in sorted(range(len(boxes)), key=lambda a: (boxes[a].value, a)):
        layers[boxes[a].layer].append(a)
    position = [0] * len(boxes)

    def renumber() -> None:
        for layer in layers:
            for i, a in enumerate(layer):
                position[a] = i

    def crossings() -> int:
        return sum(_crossings(layers[k], succs, position) for k in range(count - 1))

    renumber()
    best, best_layers = crossings(), [list(layer) for layer in layers]
    for sweep in range(_ORDER_SWEEPS):
        down = sweep % 2 == 0
        neighbours = preds if down else succs
        ks = range(1, count) if down else range(count - 2, -1, -1)
        for k in ks:
            layer = layers[k]

            def key(a: int, near: list[list[int]] = neighbours) -> float:
                around = near[a]
                if not around:
                    return float(position[a])
                return sum(position[b] for b in around) / len(around)

            layer.sort(key=key)
            for i, a in enumerate(layer):
                position[a] = i
        found = crossings()
        if found < best:
            best, best_layers = found, [list(layer) for layer in layers]
        if best == 0:
            break
    layers[:] = best_layers
    renumber()
    return layers


def _crossings(layer: list[int], succs: list[list[int]], position: list[int]) -> int:
    """Edge crossings between a layer and the next: inversions, counted with a Fenwick tree."""
    targets = [position[b] for a in layer for b in sorted(succs[a], key=position.__getitem__)]
    if not targets:
        return 0
    size = max(targets) + 1
    tree = [0] * (size + 1)
    count = 0
    for seen, t in enumerate(targets):
        i, below = t + 1, 0
        while i > 0:
            below += tree[i]
            i -= i & -i
        count += seen - below  # earlier edges that end further along cross this one
        i = t + 1
        while i <= size:
            tree[i] += 1
            i += i & -i
    return count


def _main_size(box: _Box, lr: bool) -> float:
    return box.width if lr else box.height


def _cross_size(box: _Box, lr: bool) -> float:
    return box.height if lr else box.width


def _place_main(boxes: list[_Box], layers: list[list[int]], lr: bool) -> float:
    """Centre each layer's boxes in a band as thick as its thickest box."""
    start = _MARGIN
    for layer in layers:
        thick = max((_main_size(boxes[a], lr) for a in layer), default=0.0)
        for a in layer:
            boxes[a].main = start + thick / 2
        start += thick + _LAYER_GAP
    return start - _LAYER_GAP + _MARGIN


def _place_cross(
    boxes: list[_Box], layers: list[list[int]], routes: list[list[int]], lr: bool
) -> float:
    """Place boxes across the layers near their neighbours' average, in order, without overlap.

    Each step solves a least-squares problem exactly: minimise the squared distances to the
    wanted positions subject to the minimum gaps, by isotonic regression.
    """
    preds: list[list[int]] = [[] for _ in boxes]
    succs: list[list[int]] = [[] for _ in boxes]
    for route in routes:
        for a, b in pairwise(route):
            preds[b].append(a)
            succs[a].append(b)
    gaps = [
        [
            (_cross_size(boxes[a], lr) + _cross_size(boxes[b], lr)) / 2 + _NODE_SEP
            for a, b in pairwise(layer)
        ]
        for layer in layers
    ]
    for layer, gap in zip(layers, gaps, strict=True):
        at = 0.0
        for i, a in enumerate(layer):
            boxes[a].cross = at
            if i < len(gap):
                at += gap[i]
        for a in layer:
            boxes[a].cross -= at / 2
    for sweep in range(_PLACE_SWEEPS):
        down = sweep % 2 == 0
        near = preds if down else succs
        order = layers if down else layers[::-1]
        for layer in order:
            gap = gaps[boxes[layer[0]].layer] if layer else []
            wanted = [
                sum(boxes[b].cross for b in near[a]) / len(near[a]) if near[a] else boxes[a].cross
                for a in layer
            ]
            for a, c in zip(layer, _isotonic(wanted, gap), strict=True):
                boxes[a].cross = c
    low = min(box.cross - _cross_size(box, lr) / 2 for box in boxes)
    high = max(box.cross + _cross_size(box, lr) / 2 for box in boxes)
    for box in boxes:
        box.cross += _MARGIN - low
    return high - low + 2 * _MARGIN


def _isotonic(wanted: list[float], gaps: list[float]) -> list[float]:
    """Positions y minimising sum((y - wanted)^2) subject to y[i+1] - y[i] >= gaps[i].

    With offsets o[i] = sum(gaps[:i]) and z = y - o the constraint is z non-decreasing, so the
    answer is the pool-adjacent-violators fit of wanted - o.
    """
    offsets = [0.0]
    for g in gaps:
        offsets.append(offsets[-1] + g)
    blocks: list[list[float]] = []  # [sum, count]
    for w, o in zip(wanted, offsets, strict=False):  # an empty layer still has one offset
        blocks.append([w - o, 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, n = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += n
    z: list[float] = []
    for s, n in blocks:
        z.extend([s / n] * int(n))
    return [zi + o for zi, o in zip(z, offsets, strict=False)]  # as above


# -- SVG --------------------------------------------------------------------------------------


def _f(x: float) -> str:
    return f"{x:.1f}"


def _render_svg(nodes: Sequence[_Node], edges: Sequence[tuple[int, int]], rankdir: str) -> str:
    lr = rankdir == "LR"
    layout = _layout(nodes, edges, rankdir)
    boxes = layout.boxes
    main, cross = layout.size
    width, height = (main, cross) if lr else (cross, main)

    def xy(b: _Box) -> tuple[float, float]:
        return (b.main, b.cross) if lr else (b.cross, b.main)

    def point(main_at: float, cross_at: float) -> tuple[float, float]:
        return (main_at, cross_at) if lr else (cross_at, main_at)

    # Layer bands, so a dummy's edge runs straight through its layer's band.
    band: dict[int, tuple[float, float]] = {}
    for b in boxes:
        half = _main_size(b, lr) / 2
        lo, hi = band.get(b.layer, (b.main - half, b.main + half))
        band[b.layer] = (min(lo, b.main - half), max(hi, b.main + half))

    digest = hashlib.sha1(repr((nodes, edges, rankdir)).encode()).hexdigest()[:10]
    arrow = f"mg-arrow-{digest}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" font-family="{_FONT}" '
        f'font-size="{_FONT_SIZE}">',
        f"<title>micrograd graph: {len(nodes)} values</title>",
        f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker>'
        "</defs>",
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<g fill="none" stroke="#555" stroke-width="1.1" marker-end="url(#{arrow})">',
    ]
    for route in layout.routes:
        out.append(f'<path d="{_path(route, boxes, band, lr, point)}"/>')
    out.append("</g>")

    for b in boxes:
        if b.kind == "dummy":
            continue
        node = nodes[b.value]
        x, y = xy(b)
        if b.kind == "op":
            out.append(
                f"<g><title>{_xml_escape(node.op)}</title>"
                f'<ellipse cx="{_f(x)}" cy="{_f(y)}" rx="{_f(b.width / 2)}" '
                f'ry="{_f(b.height / 2)}" fill="#eef2fb" stroke="#4a5a8a"/>'
                f'<text x="{_f(x)}" y="{_f(y + _FONT_SIZE * 0.35)}" text-anchor="middle">'
                f"{_xml_escape(node.op)}</text></g>"
            )
            continue
        left, top = x - b.width / 2, y - b.height / 2
        out.append(
            f"<g><title>{_xml_escape(node.tip)}</title>"
            f'<rect x="{_f(left)}" y="{_f(top)}" width="{_f(b.width)}" height="{_f(b.height)}" '
            f'rx="3" fill="#ffffff" stroke="#333"/>'
        )
        at = left
        for i, (text, w) in enumerate(zip(node.fields, layout.field_widths[b.value], strict=True)):
            if i:
                out.append(
                    f'<line x1="{_f(at)}" y1="{_f(top)}" x2="{_f(at)}" '
                    f'y2="{_f(top + b.height)}" stroke="#333"/>'
                )
            weight = ' font-weight="bold"' if node.labelled and i == 0 else ""
            out.append(
                f'<text x="{_f(at + w / 2)}" y="{_f(y + _FONT_SIZE * 0.35)}" '
                f'text-anchor="middle"{weight}>{_xml_escape(text)}</text>'
            )
            at += w
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _path(
    route: list[int],
    boxes: list[_Box],
    band: dict[int, tuple[float, float]],
    lr: bool,
    point: Callable[[float, float], tuple[float, float]],
) -> str:
    """An edge as SVG path data: curves between layers, straight runs through dummy bands."""
    first, last = boxes[route[0]], boxes[route[-1]]
    stops: list[tuple[float, float]] = [(first.main + _main_size(first, lr) / 2, first.cross)]
    for d in route[1:-1]:
        lo, hi = band[boxes[d].layer]
        stops += [(lo, boxes[d].cross), (hi, boxes[d].cross)]
    stops.append((last.main - _main_size(last, lr) / 2, last.cross))

    def p(m: float, c: float) -> str:
        x, y = point(m, c)
        return f"{_f(x)},{_f(y)}"

    parts = [f"M{p(*stops[0])}"]
    for i in range(0, len(stops) - 1, 2):
        (m0, c0), (m1, c1) = stops[i], stops[i + 1]
        bend = (m1 - m0) / 2
        parts.append(f"C{p(m0 + bend, c0)} {p(m1 - bend, c1)} {p(m1, c1)}")
        if i + 2 < len(stops):
            parts.append(f"L{p(*stops[i + 2])}")
    return " ".join(parts)


# -- models -----------------------------------------------------------------------------------


def trace_model(model: MLP | Layer | Neuron, x: Sequence[float]) -> Value:
    """Run one sample through a copy of `model` and return the differentiated output.

    Labels are 0-based: inputs `x0 x1 ...`, parameters `L0.N1.w2` (layer 0, neuron 1, weight
    2, which multiplies input 2) and `L0.N1.b`, hidden outputs `L0.N1`, outputs `out` (or
    `out0 out1 ...`, summed into `sum` for the root). The model itself is left untouched.
    """
    if not isinstance(model, MLP | Layer | Neuron):
        raise TypeError(f"trace_model needs an MLP, Layer or Neuron, got {type(model).__name__}")
    copied = copy.deepcopy(model)
    layers = _neuron_layers(copied)
    nin = layers[0][0].nin
    sample = _sample(x, nin)
    inputs = [Value(v, label=f"x{i}") for i, v in enumerate(sample)]
    for li, neurons in enumerate(layers):
        for ni, neuron in enumerate(neurons):
            for wi, w in enumerate(neuron.w):
                w.label = f"L{li}.N{ni}.w{wi}"
            neuron.b.label = f"L{li}.N{ni}.b"
    copied.zero_grad()  # the copy's leaves accumulate; start them from zero
    h: list[Value] = inputs
    for li, neurons in enumerate(layers):
        h = [neuron(h) for neuron in neurons]
        for ni, out in enumerate(h):
            out.label = f"L{li}.N{ni}"
    if len(h) == 1:
        h[0].label = "out"
        root = h[0]
    else:
        for ni, out in enumerate(h):
            out.label = f"out{ni}"
        root = reduce(operator.add, h)
        root.label = "sum"
    root.backward()
    return root


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
