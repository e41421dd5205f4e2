"""How `Value.backward()` runs: the bookkeeping around its steps, and the traversal it uses.

`backward()` (in `engine`) orders the graph, sets aside what the leaves held, runs the rules and
restores the leaves. The setting aside, restoring and undoing are here, with `Backprop`, the way
a graph is ordered and its rules run: `PlainBackprop` is the lecture's way (`topo_sort()`, then
each node's `_backward()` in reverse), and `micrograd.fused` installs a faster one with the same
results through `use_backprop`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from .numeric import Array, is_array, numpy, sum_to
from .primitives import KEEPS_SHAPE

if TYPE_CHECKING:
    from .engine import Value

__all__ = [
    "BACKPROP", "Backprop", "PlainBackprop", "restore", "run_rule", "set_aside", "undo",
    "use_backprop",
]  # fmt: skip

_Held = tuple[list[tuple["Value", Array]], list[Array]]


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
    """Zero the gradients this call writes; return (leaves with what each held, and what each
    of the other nodes held)."""
    leaves = list(leaves)
    groups = {leaf for leaf in leaves if leaf._group is None}
    leaves = [leaf for leaf in leaves if leaf._group not in groups]  # its group holds its grad
    held = [(leaf, leaf.grad) for leaf in leaves], [node.grad for node in nodes]
    for leaf, _ in held[0]:
        leaf.grad = 0.0
    for node in nodes:
        node.grad = 0.0
    return held


def restore(held: _Held) -> None:
    """Each leaf ends with what it held plus this call's gradient: calling twice gives exactly
    twice. An array leaf gets an array, zeros where nothing reached it."""
    for leaf, before in held[0]:
        g = before + leaf.grad
        if g.__class__ is float and is_array(leaf._data):
            g = numpy().full(leaf._data.shape, g)
        leaf.grad = g


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
