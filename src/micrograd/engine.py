"""The autograd engine: `Value`, a node in a computation graph, and reverse-mode backpropagation.

In the lecture's order: each primitive's forward, then right below it its backward rule (the
chain rule: `out.grad` times the local derivative, added into each child's `grad`); what is
composed from primitives, with no derivative code; `topo_sort()` and `backward()`. A rule is a
function of the node it made, not a closure: no reference cycles. `data` is a float, or in
batched mode a numpy array (imported only then). At the end, `neuron`: a neuron as one node.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from functools import partial, wraps
from typing import Any

from .numeric import (
    EXP_MAX,
    Array,
    call_math,
    coerce,
    finite,
    fmt,
    ieee_pow,
    is_array,
    numpy,
    refuse,
    sigmoid,
    sum_to,
)

__all__ = ["FUSED_ACTIVATIONS", "LINEAR_OP", "Value", "neuron"]

Rule = Callable[["Value"], None]


def _no_rule(out: Value) -> None:  # a leaf's, and `//`'s (piecewise constant: derivative 0)
    pass


def _as_value(x: Any) -> Value | None:
    """A number (or array) as a constant leaf; None for what an operator should refuse."""
    if isinstance(x, Value):
        return x
    try:
        return Value(x)
    except TypeError:
        return None


def _binary(op: Callable[[Value, Value], Value]) -> Callable[[Value, object], Value]:
    """`op` taking a number on its right as a constant leaf; for anything else NotImplemented."""

    @wraps(op)
    def method(self: Value, other: object) -> Value:
        o = _as_value(other)
        return NotImplemented if o is None else op(self, o)

    return method


class Value:
    """Stores a number (`data`), its gradient (`grad`), and how it was made."""

    __slots__ = ("_children", "_op", "_rule", "_saved", "data", "grad", "label")
    __array_ufunc__ = None  # numpy defers to our reflected operators instead of broadcasting

    def __init__(self, data: float | Array, _children: Iterable[Value] = (), _op: str = "",
                 label: str = "", _rule: Rule | None = None, _saved: Any = None,
                 ) -> None:  # fmt: skip
        self.data: Array = data if data.__class__ is float else coerce(data)
        self.grad: Array = 0.0
        self._children: tuple[Value, ...] = tuple(_children)
        self._op = _op
        self._rule: Rule = _rule or _no_rule  # how the op that made it passes its grad back
        self._saved = _saved  # what the rule keeps from the forward (an exponent, an axis)
        self.label = label

    @property
    def _prev(self) -> set[Value]:
        """The set of Values this one was computed from (`prev` in the workshop)."""
        return set(self._children)

    prev = _prev

    @property
    def children(self) -> tuple[Value, ...]:  # the same, in a stable order
        return self._children

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # -- the primitives, each forward with its backward rule below it ------------------------

    @_binary
    def __add__(self, o: Value) -> Value:
        return Value(self.data + o.data, (self, o), "+", _rule=Value._add_backward)

    def _add_backward(out: Value) -> None:  # d(a+b)/da = 1, d(a+b)/db = 1
        a, b = out._children
        a.grad += sum_to(out.grad, a.data)
        b.grad += sum_to(out.grad, b.data)

    @_binary
    def __mul__(self, o: Value) -> Value:
        return Value(self.data * o.data, (self, o), "*", _rule=Value._mul_backward)

    def _mul_backward(out: Value) -> None:  # d(a*b)/da = b, d(a*b)/db = a
        a, b = out._children
        a.grad += sum_to(out.grad * b.data, a.data)
        b.grad += sum_to(out.grad * a.data, b.data)

    def _pow_number(self, n: float) -> Value:  # self ** n for a number n
        a = self.data
        fractional = f"**: a negative base to the fractional power {n} is not a real number"
        refuse(n != int(n) and a < 0, ValueError, fractional + " (base {})", a)
        zero = f"**: zero cannot be raised to the negative power {n}"
        refuse(n < 0 and a == 0, ZeroDivisionError, zero, a)
        out = finite(ieee_pow(a, n), f"**: {{}} ** {n} overflows a float", a)
        return Value(out, (self,), f"**{n}", _rule=Value._pow_number_backward, _saved=n)

    def _pow_number_backward(out: Value) -> None:  # d(a**n)/da = n * a**(n-1)
        (a,) = out._children
        n = out._saved
        if n == -1:  # -g / a / a, PyTorch's order for 1/a: no a**-2 to overflow for a tiny a
            a.grad += -(out.grad / a.data) / a.data
        elif n != 0:  # d(a**0)/da is 0 everywhere, at 0 too (as in PyTorch)
            a.grad += out.grad * n * ieee_pow(a.data, n - 1)

    def _pow_value(self, b: Value) -> Value:  # self ** b for a Value b, a positive base
        positive = "**: the base must be positive when the exponent is a Value (got base {})"
        refuse(self.data <= 0, ValueError, positive, self.data)
        message = f"**: {fmt(self.data)} ** {fmt(b.data)} overflows a float"
        out = finite(ieee_pow(self.data, b.data), message, self.data)
        return Value(out, (self, b), "**", _rule=Value._pow_value_backward)

    def _pow_value_backward(out: Value) -> None:  # d(a**b)/da = b a**(b-1), d/db = a**b ln a
        a, b = out._children
        a.grad += sum_to(out.grad * b.data * ieee_pow(a.data, b.data - 1), a.data)
        b.grad += sum_to(out.grad * out.data * call_math(math.log, a.data), b.data)

    def exp(self) -> Value:
        refuse(self.data > EXP_MAX, OverflowError, "exp: overflow for operand {}", self.data)
        return Value(call_math(math.exp, self.data), (self,), "exp", _rule=Value._exp_backward)

    def _exp_backward(out: Value) -> None:  # d(e**a)/da = e**a
        out._children[0].grad += out.grad * out.data

    def log(self) -> Value:
        refuse(self.data <= 0, ValueError, "log: the operand must be positive, got {}", self.data)
        return Value(call_math(math.log, self.data), (self,), "log", _rule=Value._log_backward)

    def _log_backward(out: Value) -> None:  # d(ln a)/da = 1/a
        (a,) = out._children
        a.grad += out.grad / a.data

    def tanh(self) -> Value:
        return Value(call_math(math.tanh, self.data), (self,), "tanh", _rule=Value._tanh_backward)

    def _tanh_backward(out: Value) -> None:  # d(tanh a)/da = 1 - tanh(a)**2
        out._children[0].grad += out.grad * (1.0 - out.data * out.data)

    def relu(self) -> Value:
        a = self.data  # NaN passes through, as in PyTorch
        out = (0.0 if a <= 0.0 else a) if a.__class__ is float else numpy().maximum(a, 0.0)
        return Value(out, (self,), "ReLU", _rule=Value._relu_backward)

    def _relu_backward(out: Value) -> None:  # 1 where the input went through, else 0
        g, r = out.grad, out.data  # a gate, not a product: an infinite g stays out of a closed ReLU
        if r.__class__ is float:
            out._children[0].grad += 0.0 if r <= 0.0 else g
        else:
            out._children[0].grad += numpy().where(r <= 0.0, 0.0, g)

    def sigmoid(self) -> Value:
        return Value(sigmoid(self.data), (self,), "sigmoid", _rule=Value._sigmoid_backward)

    def _sigmoid_backward(out: Value) -> None:  # d(s(a))/da = s(a) (1 - s(a))
        out._children[0].grad += out.grad * (out.data * (1.0 - out.data))

    def __abs__(self) -> Value:
        return Value(abs(self.data), (self,), "abs", _rule=Value._abs_backward)

    def _abs_backward(out: Value) -> None:  # d|a|/da = sign(a), 0 at 0 (as in PyTorch)
        a = out._children[0]
        a.grad += out.grad * ((a.data > 0.0) * 1.0 - (a.data < 0.0))

    @_binary
    def __floordiv__(self, o: Value) -> Value:  # piecewise constant: no rule
        zero = f"//: division by zero ({fmt(self.data)} // {fmt(o.data)})"
        refuse(o.data == 0, ZeroDivisionError, zero, o.data)
        return Value(self.data // o.data, (self, o), "//", _rule=_no_rule)

    def sum(self, axis: int | None = None) -> Value:
        """Sum over an array (or along `axis`); a float is its own sum."""
        a = self.data
        s = a if a.__class__ is float else a.sum(axis=axis)
        s = float(s) if axis is None or getattr(s, "ndim", 0) == 0 else s
        return Value(s, (self,), "sum", _rule=Value._sum_backward, _saved=axis)

    def _sum_backward(out: Value) -> None:  # d(sum a)/da[i] = 1: g reaches every element
        (a,), g, np = out._children, out.grad, numpy
        if a.data.__class__ is float:
            a.grad += g
        elif out._saved is None:
            a.grad += np().full(a.data.shape, g)
        elif g.size == a.data.size:  # summed over an axis of length 1: the same numbers
            a.grad += g.reshape(a.data.shape)
        else:  # g has every axis but the one summed over: repeat it along that axis
            a.grad += np().broadcast_to(np().expand_dims(g, out._saved), a.data.shape)

    # -- arrays: the matrix product and the transpose -----------------------------------------

    @_binary
    def __matmul__(self, o: Value) -> Value:
        return Value(self.data @ o.data, (self, o), "@", _rule=Value._matmul_backward)

    def _matmul_backward(out: Value) -> None:  # Y = X @ W: dX = G @ W.T, dW = X.T @ G
        x, w = out._children
        x.grad += out.grad @ w.data.T
        w.grad += x.data.T @ out.grad

    @property
    def T(self) -> Value:  # the transpose, as numpy and PyTorch name it
        return Value(self.data.T, (self,), "T", _rule=Value._transpose_backward)

    def _transpose_backward(out: Value) -> None:
        out._children[0].grad += out.grad.T

    # -- composed from the primitives: no derivative code of their own -----------------------

    def __pow__(self, other: object) -> Value:
        if isinstance(other, Value):
            return self._pow_value(other)
        if isinstance(other, bool) or not isinstance(other, (int, float)):
            o = _as_value(other)  # a numpy scalar: a number too
            return NotImplemented if o is None or is_array(o.data) else self._pow_number(o.data)
        return self._pow_number(other)

    def __neg__(self) -> Value:
        return self * -1.0

    @_binary
    def __sub__(self, o: Value) -> Value:  # a + (-b): exactly a - b in floats
        return self + (-o)

    @_binary
    def __truediv__(self, o: Value) -> Value:
        """`a * b**-1`, the workshop's graph, holding the correctly rounded quotient `a / b`."""
        zero = f"/: division by zero ({fmt(self.data)} / {fmt(o.data)})"
        refuse(o.data == 0, ZeroDivisionError, zero, o.data)
        out = self * o**-1
        out.data = self.data / o.data
        return out

    # a number on the left: `2 * v` is `Value(2) * v`
    __radd__ = _binary(lambda self, o: o + self)
    __rsub__ = _binary(lambda self, o: o - self)
    __rmul__ = _binary(lambda self, o: o * self)
    __rtruediv__ = _binary(lambda self, o: o / self)
    __rfloordiv__ = _binary(lambda self, o: o // self)
    __rpow__ = _binary(lambda self, o: o**self)
    __rmatmul__ = _binary(lambda self, o: o @ self)

    def sqrt(self) -> Value:
        negative = "sqrt: the operand must not be negative, got {}"
        refuse(self.data < 0, ValueError, negative, self.data)
        return self**0.5

    def mean(self, axis: int | None = None) -> Value:
        d = self.data
        n = 1 if d.__class__ is float else (d.size if axis is None else d.shape[axis])
        return self.sum(axis) * (1.0 / n)

    def item(self) -> float:
        """The data as a Python float (a scalar Value only)."""
        if self.data.__class__ is not float:
            raise TypeError(f"item() needs a scalar Value, this one holds {fmt(self.data)}")
        return float(self.data)

    # -- the graph and backpropagation -------------------------------------------------------

    def topo_sort(self) -> list[Value]:
        """Every node reachable from self, once each, children before parents, self last.

        Depth-first without recursion (any depth works): go down to a child not yet visited;
        place a node once its children are (at once, in one set test, if they were all visited
        before: in a graph without cycles a visited child is already placed)."""
        order: list[Value] = []
        visited = {self}
        stack = [(self, iter(self._children))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in visited:
                    visited.add(child)
                    if visited.issuperset(child._children):
                        order.append(child)
                    else:
                        stack.append((child, iter(child._children)))
                        break
            else:  # every child is placed
                stack.pop()
                order.append(node)
        return order

    @property
    def _backward(self) -> Callable[[], None]:
        """Pass this node's grad to its children (the workshop's no-argument `_backward`)."""
        return partial(self._rule, self)

    @_backward.setter
    def _backward(self, fn: Callable[[], None]) -> None:  # written by hand, workshop style
        self._rule, self._saved = _hand_written_rule, fn

    def backward(self) -> None:
        """Fill in the `grad` of every node this one depends on (reverse-mode differentiation).

        Leaf gradients accumulate across calls, as in PyTorch (this call's total is added to what
        a leaf held); the others are computed afresh. If a rule fails, no gradient changes."""
        if self.data.__class__ is not float:
            raise ValueError(
                f"backward() needs a scalar output, this Value holds {fmt(self.data)}: "
                "reduce it with .sum() or .mean() first"
            )
        topo = self.topo_sort()
        held = [v.grad for v in topo]  # set aside: leaves add it back at the end
        for v in topo:
            v.grad = 0.0
        self.grad = 1.0
        try:
            for v in reversed(topo):
                v._rule(v)
        except BaseException:
            for v, g in zip(topo, held, strict=True):
                v.grad = g
            raise
        for v, g in zip(topo, held, strict=True):
            if v._children:
                continue
            if g.__class__ is not float or g != 0.0:  # what it held, plus this call's: twice is 2x
                v.grad = g + v.grad
            if v.grad.__class__ is float and v.data.__class__ is not float:
                v.grad = numpy().full(v.data.shape, v.grad)  # an array leaf nothing reached


def _hand_written_rule(out: Value) -> None:
    out._saved()


# -- a neuron, activation(w.x + b), as one node: per-sample mode's fused primitive -------------


def neuron(x: Any, w: Any, b: Value, activation: Activation | None = None) -> Value:
    """`activation(w[0]*x[0] + w[1]*x[1] + ... + b)` on one sample (lists of Values, or numbers
    for `x`), as one node: the numbers and gradients of that chain of `*`, `+` and activation
    nodes, bit for bit (summed left to right, the activation as its method), from one node, not
    2n + 1 (docs/architecture.md). An activation not in FUSED_ACTIVATIONS gets its own node."""
    if len(x) != len(w):
        raise ValueError(f"neuron: {len(w)} weights but {len(x)} inputs: expected as many")
    s = 0.0
    try:
        for wi, xi in zip(w, x):  # noqa: B905 (the lengths were checked)
            s = s + wi.data * xi.data
    except AttributeError:  # some inputs are plain numbers: make them constant leaves
        return neuron([xi if isinstance(xi, Value) else Value(xi) for xi in x], w, b, activation)
    s = s + b.data
    if s.__class__ is not float:
        raise TypeError("neuron: weights and inputs must hold floats (one sample at a time)")
    fused = None if activation is None else _BY_METHOD.get(activation)
    if fused is None:  # no activation, or one without a fused form: its own node
        out = Value(s, (*w, *x, b), LINEAR_OP, "", _neuron_backward, s)  # _rule, _saved
        return out if activation is None else activation(out)
    return Value(fused[1](s), (*w, *x, b), fused[0], "", _neuron_backward, s)


def _neuron_backward(out: Value) -> None:  # d/dw[i] = x[i], d/dx[i] = w[i], d/db = 1, times
    g = _SLOPE[out._op](out.data, out.grad)  # through the activation: the sum's gradient
    if g == 0.0 and math.isfinite(out._saved):  # a closed ReLU, a met margin: 0 * finite adds 0
        return
    children = out._children
    n = len(children) // 2
    for w, x in zip(children[:n], children[n : 2 * n]):  # noqa: B905 (both hold n)
        w.grad += g * x.data
        x.grad += g * w.data
    children[-1].grad += g


Activation = Callable[[Value], Value]
LINEAR_OP = "w·x+b"  # the op of a neuron's node with no activation; "ReLU(w·x+b)" with one
# The activations a neuron's node applies itself, by their own op: (the method, its forward on
# the sum, its gradient given its output y and y's gradient g), the formulas of the methods above.
FUSED_ACTIVATIONS: dict[str, tuple[Activation, Callable[[float], float], Callable[..., float]]] = {
    "ReLU": (Value.relu, lambda s: 0.0 if s <= 0.0 else s, lambda y, g: 0.0 if y <= 0.0 else g),
    "tanh": (Value.tanh, math.tanh, lambda y, g: g * (1.0 - y * y)),
    "sigmoid": (Value.sigmoid, sigmoid, lambda y, g: g * (y * (1.0 - y))),
}
_BY_METHOD = {m: (f"{op}({LINEAR_OP})", f) for op, (m, f, _) in FUSED_ACTIVATIONS.items()}
_SLOPE = {f"{op}({LINEAR_OP})": slope for op, (_, _, slope) in FUSED_ACTIVATIONS.items()}
_SLOPE[LINEAR_OP] = lambda y, g: g
