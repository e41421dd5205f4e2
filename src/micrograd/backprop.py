"""How `Value.backward()` runs: the bookkeeping around its steps, and the traversal it uses.

`backward()` (in `engine`) orders the graph, sets aside what the leaves held, runs the rules and
restores the leaves. The setting aside, restoring and undoing are here, with `Backprop`, the way
a graph is ordered and its rules run: `PlainBackprop` is the lecture's way (`topo_sort()`, then
each node's `_backward()` in reverse), and `micrograd.fused` installs a faster one with the same
results through `use_backprop`.
"""

from __future__ import annotations

from collections.abc import Iterable
from math import copysign
from typing import TYPE_CHECKING, Protocol

from .numeric import Array, is_array, numpy, sum_to
from .primitives import KEEPS_SHAPE

if TYPE_CHECKING:
    from .engine import Value

__all__ = [
    "BACKPROP", "Backprop", "PlainBackprop", "restore", "run_rule", "set_aside", "undo",
    "use_backprop",
]  # fmt: skip

_Held = tuple[list[tuple["Value", Array]], list[Array], list["Value"]]


def run_rule(node: Value) -> None:
    """Run one node's backward rule (what `node._backward()` does). A float result has float
    children, but for `sum`, whose rule keeps shapes itself; in batched mode each child's
    gradient is summed back to the child's own shape."""
    data = node._data
    if data.__class__ is float or node._rule in KEEPS_SHAPE:
        node._rule(node)
        return
    shape = data.shape
    for c in node._ctx:
        if c._data.__class__ is float or c._data.shape != shape:
            break
    else:  # every child has the node's shape: nothing to sum back
        node._rule(node)
        return
    children = dict.fromkeys(node.children)
    held = [c.grad for c in children]
    for c in children:
        c.grad = 0.0
    node._rule(node)
    for c, before in zip(children, held, strict=True):
        c.grad = before + sum_to(c.grad, c._data)


def set_aside(nodes: list[Value], leaves: Iterable[Value]) -> _Held:
    """Zero the gradients this call writes; return (the leaves holding a gradient, with it; what
    each of the other nodes held; the array leaves holding none). A leaf holding 0.0 is not set
    aside: its rules add to 0.0 directly, which is the same."""
    leaves = list(leaves)
    groups = {leaf for leaf in leaves if leaf._group is None}
    held: list[tuple[Value, Array]] = []
    fresh: list[Value] = []
    for leaf in leaves:
        if leaf._group in groups:
            continue  # its group holds its grad
        g = leaf.grad
        if g.__class__ is float and g == 0.0:
            if copysign(1.0, g) < 0.0:
                leaf.grad = 0.0  # -0.0: start from 0.0, as every other leaf does
            if leaf._data.__class__ is not float:
                fresh.append(leaf)
        else:
            held.append((leaf, g))
            leaf.grad = 0.0
    grads = [node.grad for node in nodes]
    for node in nodes:
        node.grad = 0.0
    return held, grads, fresh


def restore(held: _Held) -> None:
    """Each leaf ends with what it held plus this call's gradient: calling twice gives exactly
    twice. An array leaf gets an array, zeros where nothing reached it."""
    for leaf, before in held[0]:
        g = before + leaf.grad
        if g.__class__ is float and is_array(leaf._data):
            g = numpy().full(leaf._data.shape, g)
        leaf.grad = g
    for leaf in held[2]:
        if leaf.grad.__class__ is float:  # nothing reached it
            leaf.grad = numpy().full(leaf._data.shape, leaf.grad)


def undo(root: Value, nodes: list[Value], held: _Held) -> None:
    """Put every gradient back as it was before a backward() that failed part-way."""
    for node, before in zip(nodes, held[1], strict=True):
        node.grad = before
    set_aside = {id(leaf) for leaf, _ in held[0]}
    for v in root.topo_sort():
        if not v._ctx and not v._params and id(v) not in set_aside:
            v.grad = 0.0  # a leaf holding no gradient before is not set aside: it held 0
    for leaf, before in held[0]:
        leaf.grad = before


class Backprop(Protocol):
    """How `backward()` orders a graph and runs its rules (see `use_backprop`)."""

    def order(self, root: Value) -> tuple[list[Value], Iterable[Value]]:
        """The nodes with a rule to run, children before parents, root last; and the leaves
        whose gradient backward must set aside (at least those holding one, and array leaves)."""
        ...

    def run_rules(self, nodes: list[Value]) -> None:
        """Run every node's rule, the last node first."""
        ...


class PlainBackprop:
    """The lecture's way: `topo_sort()`, then `_backward()` on every node in reverse order."""

    def order(self, root: Value) -> tuple[list[Value], list[Value]]:
        topo = root.topo_sort()
        leaves = [v for v in topo if not v._ctx and not v._params]
        return [v for v in topo if v._ctx or v._params], leaves

    def run_rules(self, nodes: list[Value]) -> None:
        for node in reversed(nodes):
            node._backward()


BACKPROP: Backprop = PlainBackprop()


def use_backprop(backprop: Backprop) -> Backprop:
    """Make `backward()` order and run rules another way (the same results, faster); return the
    one in use before, so a test can compare the two."""
    global BACKPROP
    before, BACKPROP = BACKPROP, backprop
    return before
