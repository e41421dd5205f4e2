"""The autograd engine: `Value`, a node in a computation graph, and reverse-mode backpropagation.

Read it in the lecture's order. A `Value` wraps a number and remembers how it was made: its
children and its operation. Each operation is a *primitive*, one line of the table at the end of
the rules (`define(...)`, into `primitives.PRIMITIVES`): a forward function on plain numbers
beside its backward rule, which applies the chain rule by adding
`out.grad` times the local derivative into each child's `grad`. Everything else (`-`, `/`, `sqrt`,
`mean`, the losses) is built from primitives and has no derivative code of its own. `topo_sort()`
orders the graph, children first, and `backward()` runs the rules from the output back.

A node keeps its children and its rule, never a closure pointing back at itself, so graphs hold
no reference cycles and are freed as soon as the last reference goes.

`data` is a float, or in batched mode a numpy array over samples: the same rules apply, and a
gradient flowing from an array into a smaller child is summed back to the child's shape. numpy is
imported only when an array is seen. The bookkeeping around backward's steps (setting aside and
restoring the leaves' gradients) is in `micrograd.backprop`. What exists only for speed (fused
neuron nodes, layer buffers, a faster traversal) is in `micrograd.fused` and `micrograd.buffers`,
which register their primitives here with `define`, and their traversal with `use_backprop`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from functools import partial
from numbers import Real
from typing import Any

from . import backprop, numeric
from .backprop import Backprop, PlainBackprop, use_backprop
from .numeric import (
    Array,
    any_true,
    coerce,
    first,
    fmt,
    ieee_pow,
    is_array,
    numpy,
    zero_where,
)
from .primitives import PRIMITIVES, Primitive, Rule, define

__all__ = [
    "PRIMITIVES", "Backprop", "PlainBackprop", "Primitive", "Value", "define", "make_node",
    "relu_chain", "sigmoid_chain", "tanh_chain", "use_backprop",
]  # fmt: skip


class Value:
    """A node of a computation graph: a float `data`, its gradient `grad`, and how it was made.

    Children are kept in two tuples: `_ctx`, the inputs, and `_params`, inputs that many nodes
    share (a neuron's weights and bias; empty for the plain operations). `_rule` is the backward
    rule of the primitive that made the node, and `_saved` what the rule keeps from the forward:
    the exponent of `**n`, the axis of `sum`, a fused neuron's activation, a batched layer's
    weight matrix, or the function given to `_backward` by hand.
    """

    __slots__ = ("_ctx", "_data", "_op", "_params", "_rule", "_saved", "grad", "label")
    __array_ufunc__ = None  # numpy defers to our reflected operators instead of broadcasting
    # A leaf whose gradient is part of another leaf's (a parameter of a layer's parameter block,
    # see `micrograd.buffers`): when both are in one graph, backward sets aside only the group.
    _group: Value | None = None
    _data: Array
    grad: Array
    _ctx: tuple[Value, ...]
    _params: tuple[Value, ...]
    _op: str
    _rule: Rule
    _saved: Any
    label: str

    def __init__(self, data: float | Array, _children: Iterable[Value] = (), _op: str = "",
                 label: str = "") -> None:  # fmt: skip
        self._data = coerce(data)
        self.grad = 0.0
        self._ctx = tuple(_children)
        self._params = ()
        self._op = _op
        self._rule = _leaf_backward
        self._saved = None
        self.label = label

    @property
    def data(self) -> Array:
        return self._data

    @data.setter
    def data(self, value: float | Array) -> None:
        self._data = value if value.__class__ is float else coerce(value)

    @property
    def children(self) -> tuple[Value, ...]:
        """The Values this one was computed from, in a stable order."""
        return self._params + self._ctx

    @property
    def _prev(self) -> set[Value]:
        return set(self._params).union(self._ctx)

    @property
    def prev(self) -> set[Value]:
        """The set of Values this one was computed from (the workshop's name for `_prev`)."""
        return self._prev

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self._data!r}, grad={self.grad!r}{label})"

    # -- operators: + * ** make nodes; - and / are built from them ---------------------------

    def __add__(self, other: object) -> Value:
        o = _lift(other)
        return NotImplemented if o is None else make_node(self._data + o._data, (self, o), ADD)

    def __mul__(self, other: object) -> Value:
        o = _lift(other)
        return NotImplemented if o is None else make_node(self._data * o._data, (self, o), MUL)

    def __pow__(self, other: object) -> Value:
        if isinstance(other, Value):
            return make_node(numeric.power(self._data, other._data), (self, other), POW)
        if isinstance(other, bool) or not isinstance(other, Real):
            return NotImplemented
        n = other if isinstance(other, (int, float)) else float(other)
        return make_node(numeric.pow_const(self._data, n), (self,), POW_CONST, n, op=f"**{n}")

    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: object) -> Value:
        o = _lift(other)
        return NotImplemented if o is None else self + (-o)  # exactly a - b in floats

    def __truediv__(self, other: object) -> Value:
        """`a * b**-1`, the workshop's graph, holding the correctly rounded quotient `a / b`."""
        o = _lift(other)
        if o is None:
            return NotImplemented
        if any_true(o._data == 0):
            raise ZeroDivisionError(f"/: division by zero ({fmt(self._data)} / {fmt(o._data)})")
        inverse = make_node(1.0 / o._data, (o,), RECIPROCAL)
        return make_node(self._data / o._data, (self, inverse), MUL)

    def __floordiv__(self, other: object) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return make_node(numeric.floordiv(self._data, o._data), (self, o), FLOORDIV)

    def __radd__(self, other: object) -> Value:
        o = _lift(other)
        return NotImplemented if o is None else o + self

    def __rsub__(self, other: object) -> Value:
        o = _lift(other)
        return NotImplemented if o is None else o + (-self)

    def __rmul__(self, other: object) -> Value:
        o = _lift(other)
        return NotImplemented if o is None else o * self

    def __rtruediv__(self, other: object) -> Value:
        o = _lift(other)
        return NotImplemented if o is None else o / self

    def __rfloordiv__(self, other: object) -> Value:
        o = _lift(other)
        return NotImplemented if o is None else o // self

    def __rpow__(self, other: object) -> Value:
        o = _lift(other)
        return NotImplemented if o is None else o**self

    def __abs__(self) -> Value:
        return make_node(abs(self._data), (self,), ABS)

    # -- functions of one Value --------------------------------------------------------------

    def tanh(self) -> Value:
        return make_node(numeric.tanh(self._data), (self,), TANH)

    def relu(self) -> Value:
        return make_node(numeric.relu(self._data), (self,), RELU)

    def sigmoid(self) -> Value:
        return make_node(numeric.sigmoid(self._data), (self,), SIGMOID)

    def exp(self) -> Value:
        return make_node(numeric.exp(self._data), (self,), EXP)

    def log(self) -> Value:
        return make_node(numeric.log(self._data), (self,), LOG)

    def sqrt(self) -> Value:
        if any_true(self._data < 0):
            bad = first(self._data, self._data < 0)
            raise ValueError(f"sqrt: the operand must not be negative, got {bad}")
        return self**0.5

    def sum(self, axis: int | None = None) -> Value:
        """Sum over samples (batched mode) to a scalar, or along one axis; a float stays as is."""
        return make_node(numeric.total(self._data, axis), (self,), SUM, axis)

    def mean(self, axis: int | None = None) -> Value:
        d = self._data
        n = 1 if d.__class__ is float else (d.size if axis is None else d.shape[axis])
        return self.sum(axis) * (1.0 / n)

    def item(self) -> float:
        """The data as a Python float (a scalar Value only)."""
        if self._data.__class__ is not float:
            raise TypeError(f"item() needs a scalar Value, this one holds {fmt(self._data)}")
        return self._data

    # -- the graph and backpropagation -------------------------------------------------------

    def topo_sort(self) -> list[Value]:
        """Every node reachable from self, once each, children before parents, self last.

        An iterative depth-first search, so a graph of any depth works: a node is placed when it
        comes off the stack the second time, after everything pushed above it (its children).
        """
        order: list[Value] = []
        visited: set[Value] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:
            node, children_placed = stack.pop()
            if children_placed:
                order.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                stack.extend((c, False) for c in reversed(node.children) if c not in visited)
        return order

    @property
    def _backward(self) -> Callable[[], None]:
        """Propagate this node's grad to its children (made on each read: no reference cycle)."""
        return partial(backprop.run_rule, self)

    @_backward.setter
    def _backward(self, fn: Callable[[], None]) -> None:
        self._rule = _custom_backward
        self._saved = fn

    def backward(self) -> None:
        """Fill in the `grad` of every node this one depends on (reverse-mode differentiation).

        Leaf gradients accumulate across calls, as in PyTorch; intermediate gradients are
        recomputed from zero each time. If a rule fails, every gradient is left as it was.
        """
        if self._data.__class__ is not float:
            raise ValueError(
                f"backward() needs a scalar output, this Value holds {fmt(self._data)}: "
                "reduce it with .sum() or .mean() first"
            )
        nodes, leaves = backprop.BACKPROP.order(self)  # 1. order: children before parents
        held = backprop.set_aside(nodes, leaves)  # 2. zero what this call writes, keeping the old
        self.grad = 1.0
        try:
            backprop.BACKPROP.run_rules(nodes)  # 3. the chain rule, from self back to the leaves
        except BaseException:
            backprop.undo(self, nodes, held)
            raise
        backprop.restore(held)  # 4. leaves: what they held before, plus this call's gradient


# --------------------------------------------------------------------------------------------
# The primitives' backward rules. A forward (in `numeric`, or `+`/`*` themselves) takes plain
# data, floats or arrays, and returns plain data. A rule takes the output node and adds
# out.grad times the local derivative into each child's grad: the chain rule, as micrograd's
# `_backward` closures do. Derivatives never raise: where one is infinite, the gradient is, as
# in PyTorch; the forwards keep the clear errors. The table below puts each pair side by side.
# --------------------------------------------------------------------------------------------


def _add_backward(out: Value) -> None:
    a, b = out._ctx
    a.grad += out.grad
    b.grad += out.grad


def _mul_backward(out: Value) -> None:
    a, b = out._ctx
    a.grad += out.grad * b._data
    b.grad += out.grad * a._data


def _pow_const_backward(out: Value) -> None:
    (a,) = out._ctx
    n = out._saved
    if n != 0:  # d(a**0)/da is 0 everywhere, at 0 too (as in PyTorch)
        a.grad += out.grad * n * ieee_pow(a._data, n - 1)


def _reciprocal_backward(out: Value) -> None:
    # -g / b / b, PyTorch's order for division: no b**-2 to overflow for a tiny b.
    (b,) = out._ctx
    b.grad += -(out.grad / b._data) / b._data


def _pow_backward(out: Value) -> None:
    a, b = out._ctx
    log = math.log if a._data.__class__ is float else numpy().log
    a.grad += out.grad * b._data * ieee_pow(a._data, b._data - 1)
    b.grad += out.grad * out._data * log(a._data)


def _exp_backward(out: Value) -> None:
    out._ctx[0].grad += out.grad * out._data


def _log_backward(out: Value) -> None:
    (a,) = out._ctx
    a.grad += out.grad / a._data


def tanh_chain(g: Array, t: Array) -> Array:
    """g times d tanh(x)/dx, from the output t = tanh(x)."""
    return g * (1.0 - t * t)


def sigmoid_chain(g: Array, s: Array) -> Array:
    """g times d sigmoid(x)/dx, from the output s = sigmoid(x)."""
    return g * (s * (1.0 - s))


def relu_chain(g: Array, r: Array) -> Array:
    """g where the ReLU let its input through, else 0: a gate, not a product with a slope, so
    an infinite g stays out of a closed ReLU (as in PyTorch)."""
    if r.__class__ is float:
        return 0.0 if r <= 0.0 else g
    return zero_where(r <= 0.0, g)  # numpy's where(r <= 0.0, 0.0, g), faster


def _chain_rule(chain: Callable[[Array, Array], Array]) -> Rule:
    """The backward rule of a function of one Value whose derivative comes from its output."""

    def backward(out: Value) -> None:
        out._ctx[0].grad += chain(out.grad, out._data)

    return backward


def _abs_backward(out: Value) -> None:
    (a,) = out._ctx
    sign = (a._data > 0.0) * 1.0 - (a._data < 0.0)  # 0 at 0, as in PyTorch
    a.grad += out.grad * sign


def _sum_backward(out: Value) -> None:
    (a,) = out._ctx
    if a._data.__class__ is float:
        a.grad += out.grad
        return
    np = numpy()
    if out._saved is None:  # the sum of everything: its gradient reaches every element
        a.grad += np.full(a._data.shape, out.grad)
        return
    a.grad += np.broadcast_to(np.expand_dims(out.grad, out._saved), a._data.shape)


def _leaf_backward(out: Value) -> None:
    pass  # also the rule of `//`: piecewise constant, its derivative is 0 almost everywhere


def _custom_backward(out: Value) -> None:
    out._saved()  # a `_backward` assigned by hand, workshop style: it updates the children


# name, the `_op` its nodes show, forward, backward rule, and whether the rule keeps shapes
ADD = define("add", "+", lambda a, b: a + b, _add_backward, keeps_shape=False)
MUL = define("mul", "*", lambda a, b: a * b, _mul_backward, keeps_shape=False)
POW_CONST = define("pow_const", "**n", numeric.pow_const, _pow_const_backward, keeps_shape=True)
RECIPROCAL = define("reciprocal", "**-1", lambda b: 1 / b, _reciprocal_backward, keeps_shape=True)
POW = define("pow", "**", numeric.power, _pow_backward, keeps_shape=False)
FLOORDIV = define("floordiv", "//", numeric.floordiv, _leaf_backward, keeps_shape=True)
EXP = define("exp", "exp", numeric.exp, _exp_backward, keeps_shape=True)
LOG = define("log", "log", numeric.log, _log_backward, keeps_shape=True)
TANH = define("tanh", "tanh", numeric.tanh, _chain_rule(tanh_chain), keeps_shape=True)
SIGMOID = define(
    "sigmoid", "sigmoid", numeric.sigmoid, _chain_rule(sigmoid_chain), keeps_shape=True
)
RELU = define("relu", "ReLU", numeric.relu, _chain_rule(relu_chain), keeps_shape=True)
ABS = define("abs", "abs", abs, _abs_backward, keeps_shape=True)
SUM = define("sum", "sum", numeric.total, _sum_backward, keeps_shape=True)
LEAF = define("leaf", "", lambda a: a, _leaf_backward, keeps_shape=True)
CUSTOM = define("custom", "", lambda a: a, _custom_backward, keeps_shape=False)


# -- making nodes ----------------------------------------------------------------------------

_new = object.__new__


def make_node(
    data: Array,
    ctx: tuple[Value, ...],
    prim: Primitive,
    saved: Any = None,
    op: str | None = None,
    params: tuple[Value, ...] = (),
) -> Value:
    """A node made by `prim`, without re-validating data that the primitive just computed."""
    v: Value = _new(Value)
    v._data = data
    v.grad = 0.0
    v._ctx = ctx
    v._params = params
    v._op = prim.op if op is None else op
    v._rule = prim.backward
    v._saved = saved
    v.label = ""
    return v


def _lift(x: object) -> Value | None:
    """A number (or array) as a constant leaf; None for what an operator should refuse."""
    if isinstance(x, Value):
        return x
    if x.__class__ is float or x.__class__ is int:
        return make_node(float(x), (), LEAF)
    if is_array(x) or (isinstance(x, Real) and not isinstance(x, bool)):
        return Value(x)
    return None
