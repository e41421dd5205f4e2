"""The builtin layout of a computation-graph picture: where each box goes, without Graphviz.

A `Node` is one Value as drawn: a record of text fields, with an ellipse for the op that made it
before it. `layered_layout` places the records, the op ellipses and the edges between them by
the Sugiyama method: layers by longest path, dummy boxes on edges that span several layers, the
order within each layer by barycenter sweeps (keeping the order with the fewest crossings), and
positions across the layers by least squares (isotonic regression). `graph_svg` draws the result.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

__all__ = ["FONT", "FONT_SIZE", "Box", "Layout", "Node", "layered_layout", "main_size"]


@dataclass(frozen=True)
class Node:
    """One Value as drawn: the text of its record's fields, its op and a full-precision tip."""

    fields: tuple[str, ...]
    labelled: bool
    op: str
    tip: str


FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
FONT_SIZE = 12
_CHAR_WIDTH = 0.602 * FONT_SIZE  # monospace, so text width is predictable
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
class Box:
    """A node to place: a Value's record, an op's ellipse, or a dummy on a long edge."""

    kind: str  # "value", "op" or "dummy"
    width: float
    height: float
    value: int  # index of the Value it draws (for dummies: of the edge's source)
    layer: int = 0
    main: float = 0.0  # centre along the layering axis
    cross: float = 0.0  # centre across it


@dataclass
class Layout:
    """Where everything goes: every box placed, and each edge as the boxes it runs through."""

    boxes: list[Box]
    routes: list[list[int]]  # each edge as the boxes it passes through, source to target
    field_widths: list[list[float]]
    size: tuple[float, float]  # along the layering axis, across it


def layered_layout(nodes: Sequence[Node], edges: Sequence[tuple[int, int]], rankdir: str) -> Layout:
    """Lay out `nodes` with `edges` (child index, parent index) in layers along `rankdir`."""
    lr = rankdir == "LR"
    boxes: list[Box] = []
    box_of_value: list[int] = []
    entry: list[int] = []  # the box an edge into each Value ends at: its op, if it has one
    field_widths: list[list[float]] = []
    for i, node in enumerate(nodes):
        if node.op:
            rx = max(_OP_RY, _text_width(node.op) / 2 + 7.0)
            boxes.append(Box("op", 2 * rx, 2 * _OP_RY, i))
        widths = [_text_width(f) + 2 * _PAD for f in node.fields]
        field_widths.append(widths)
        box_of_value.append(len(boxes))
        entry.append(len(boxes) - 1 if node.op else len(boxes))
        boxes.append(Box("value", sum(widths), _BOX_HEIGHT, i))
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
    return Layout(boxes, routes, field_widths, (size_main, size_cross))


def _add_dummies(boxes: list[Box], arcs: list[tuple[int, int]]) -> list[list[int]]:
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
            boxes.append(Box("dummy", _DUMMY_SIZE, _DUMMY_SIZE, boxes[a].value, layer))
        chain.append(b)
        route[:] = chain
    return routes


def _order(boxes: list[Box], routes: list[list[int]], count: int) -> list[list[int]]:
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


def main_size(box: Box, lr: bool) -> float:
    """The box's size along the layering axis (its width when the layers run left to right)."""
    return box.width if lr else box.height


def _cross_size(box: Box, lr: bool) -> float:
    return box.height if lr else box.width


def _place_main(boxes: list[Box], layers: list[list[int]], lr: bool) -> float:
    """Centre each layer's boxes in a band as thick as its thickest box."""
    start = _MARGIN
    for layer in layers:
        thick = max((main_size(boxes[a], lr) for a in layer), default=0.0)
        for a in layer:
            boxes[a].main = start + thick / 2
        start += thick + _LAYER_GAP
    return start - _LAYER_GAP + _MARGIN


def _place_cross(
    boxes: list[Box], layers: list[list[int]], routes: list[list[int]], lr: bool
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
