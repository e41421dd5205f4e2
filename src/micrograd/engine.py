"""The autograd engine: `Value`, a node in a computation graph, and reverse-mode backpropagation.

Read it in the lecture's order. A `Value` wraps a number and remembers its children and its
operation. Each primitive operation has its forward, then right below it its backward rule: the
chain rule, adding `out.grad` times the local derivative into each child's `grad`. Everything
else (`-`, `/`, `sqrt`, `mean`, the losses) is composed from primitives. `topo_sort()` orders the
graph, children first, and `backward()` runs the rules from the output back. A rule is a function
of the node it made (`out`), not a closure over it: no reference cycles, so graphs free at once.

`data` is a float, or in batched mode a numpy array: the same rules apply, and a gradient that
flows into a smaller child (a scalar, a bias row) is summed back to its shape (`sum_to`). numpy is
imported only when an array is seen. At the end, `linear` is `w.x + b` as one node (a neuron on
one sample, or a layer on a batch) and `cat` many values as one array.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

from .numeric import Array, any_true, coerce, finite, first, fmt, ieee_pow, is_array, numpy, sum_to

__all__ = ["Value", "cat", "linear"]

Rule = Callable[["Value"], None]


def _no_rule(out: Value) -> None:
    """A leaf has nothing to pass on; so has `//` (piecewise constant: its derivative is 0)."""


def _as_value(x: Any) -> Value | None:
    """A number (or array) as a constant leaf; None for what an operator should refuse."""
    if isinstance(x, Value):
        return x
    try:
        return Value(x)
    except TypeError:
        return None


def _call(fn: Callable[[float], float], x: Array) -> Array:
    """`math.fn(x)` on a float, numpy's function of the same name on an array."""
    return fn(x) if x.__class__ is float else getattr(numpy(), fn.__name__)(x)


_EXP_MAX = math.log(sys.float_info.max)  # e**x overflows a float past this


class Value:
    """Stores a number (`data`), its gradient (`grad`), and how it was made."""

    __slots__ = ("_children", "_op", "_rule", "_saved", "data", "grad", "label")
    __array_ufunc__ = None  # numpy defers to our reflected operators instead of broadcasting

    def __init__(
        self,
        data: float | Array,
        _children: Iterable[Value] = (),
        _op: str = "",
        label: str = "",
        *,
        _rule: Rule | None = None,
        _saved: Any = None,
    ) -> None:
        self.data: Array = coerce(data)
        self.grad: Array = 0.0
        self._children: tuple[Value, ...] = tuple(_children)
        self._op = _op
        self._rule: Rule = _rule or _no_rule  # how the op that made it passes its grad back
        self._saved = _saved  # what the rule keeps from the forward (an exponent, an axis)
        self.label = label

    @property
    def _prev(self) -> set[Value]:
        return set(self._children)

    @property
    def prev(self) -> set[Value]:
        """The set of Values this one was computed from (the workshop's name for `_prev`)."""
        return set(self._children)

    @property
    def children(self) -> tuple[Value, ...]:
        """The Values this one was computed from, in a stable order."""
        return self._children

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # -- the primitives, each forward with its backward rule below it ------------------------

    def __add__(self, other: object) -> Value:
        o = _as_value(other)
        if o is None:
            return NotImplemented
        return Value(self.data + o.data, (self, o), "+", _rule=Value._add_backward)

    def _add_backward(out: Value) -> None:  # d(a+b)/da = 1, d(a+b)/db = 1
        a, b = out._children
        a.grad += sum_to(out.grad, a.data)
        b.grad += sum_to(out.grad, b.data)

    def __mul__(self, other: object) -> Value:
        o = _as_value(other)
        if o is None:
            return NotImplemented
        return Value(self.data * o.data, (self, o), "*", _rule=Value._mul_backward)

    def _mul_backward(out: Value) -> None:  # d(a*b)/da = b, d(a*b)/db = a
        a, b = out._children
        a.grad += sum_to(out.grad * b.data, a.data)
        b.grad += sum_to(out.grad * a.data, b.data)

    def _pow_number(self, n: float) -> Value:  # self ** n for a number n
        a = self.data
        if n != int(n) and any_true(a < 0):
            raise ValueError(
                f"**: a negative base to the fractional power {n} is not a real number "
                f"(base {first(a, a < 0)})"
            )
        if n < 0 and any_true(a == 0):
            raise ZeroDivisionError(f"**: zero cannot be raised to the negative power {n}")
        out = finite(ieee_pow(a, n), lambda bad: f"**: {first(a, bad)} ** {n} overflows a float")
        return Value(out, (self,), f"**{n}", _rule=Value._pow_number_backward, _saved=n)

    def _pow_number_backward(out: Value) -> None:  # d(a**n)/da = n * a**(n-1)
        (a,) = out._children
        n = out._saved
        if n == -1:  # -g / a / a, PyTorch's order for 1/a: no a**-2 to overflow for a tiny a
            a.grad += -(out.grad / a.data) / a.data
        elif n != 0:  # d(a**0)/da is 0 everywhere, at 0 too (as in PyTorch)
            a.grad += out.grad * n * ieee_pow(a.data, n - 1)

    def _pow_value(self, b: Value) -> Value:  # self ** b for a Value b, a positive base
        if any_true(self.data <= 0):
            raise ValueError(
                "**: the base must be positive when the exponent is a Value "
                f"(got base {first(self.data, self.data <= 0)})"
            )
        message = f"**: {fmt(self.data)} ** {fmt(b.data)} overflows a float"
        out = finite(ieee_pow(self.data, b.data), lambda _: message)
        return Value(out, (self, b), "**", _rule=Value._pow_value_backward)

    def _pow_value_backward(out: Value) -> None:  # d(a**b)/da = b a**(b-1), d/db = a**b ln a
        a, b = out._children
        a.grad += sum_to(out.grad * b.data * ieee_pow(a.data, b.data - 1), a.data)
        b.grad += sum_to(out.grad * out.data * _call(math.log, a.data), b.data)

    def exp(self) -> Value:
        if any_true(self.data > _EXP_MAX):
            raise OverflowError(
                f"exp: overflow for operand {first(self.data, self.data > _EXP_MAX)}"
            )
        return Value(_call(math.exp, self.data), (self,), "exp", _rule=Value._exp_backward)

    def _exp_backward(out: Value) -> None:  # d(e**a)/da = e**a
        out._children[0].grad += out.grad * out.data

    def log(self) -> Value:
        if any_true(self.data <= 0):
            bad = first(self.data, self.data <= 0)
            raise ValueError(f"log: the operand must be positive, got {bad}")
        return Value(_call(math.log, self.data), (self,), "log", _rule=Value._log_backward)

    def _log_backward(out: Value) -> None:  # d(ln a)/da = 1/a
        (a,) = out._children
        a.grad += out.grad / a.data

    def tanh(self) -> Value:
        return Value(_call(math.tanh, self.data), (self,), "tanh", _rule=Value._tanh_backward)

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
        a = self.data  # never exp of a positive number: no finite input overflows
        if a.__class__ is float:
            e = math.exp(-abs(a))
            s = 1.0 / (1.0 + e) if a >= 0 else e / (1.0 + e)
        else:
            e = numpy().exp(-abs(a))
            s = numpy().where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return Value(s, (self,), "sigmoid", _rule=Value._sigmoid_backward)

    def _sigmoid_backward(out: Value) -> None:  # d(s(a))/da = s(a) (1 - s(a))
        out._children[0].grad += out.grad * (out.data * (1.0 - out.data))

    def __abs__(self) -> Value:
        return Value(abs(self.data), (self,), "abs", _rule=Value._abs_backward)

    def _abs_backward(out: Value) -> None:  # d|a|/da = sign(a), 0 at 0 (as in PyTorch)
        a = out._children[0]
        a.grad += out.grad * ((a.data > 0.0) * 1.0 - (a.data < 0.0))

    def __floordiv__(self, other: object) -> Value:  # piecewise constant: no rule
        o = _as_value(other)
        if o is None:
            return NotImplemented
        if any_true(o.data == 0):
            raise ZeroDivisionError(f"//: division by zero ({fmt(self.data)} // {fmt(o.data)})")
        return Value(self.data // o.data, (self, o), "//", _rule=_no_rule)

    def sum(self, axis: int | None = None) -> Value:
        """Sum over an array (or along `axis`); a float is its own sum."""
        a = self.data
        s = a if a.__class__ is float else a.sum(axis=axis)
        s = float(s) if axis is None or getattr(s, "ndim", 0) == 0 else s
        return Value(s, (self,), "sum", _rule=Value._sum_backward, _saved=axis)

    def _sum_backward(out: Value) -> None:  # d(sum a)/da[i] = 1: g reaches every element
        (a,) = out._children
        if a.data.__class__ is float:
            a.grad += out.grad
            return
        np, axis = numpy(), out._saved
        if axis is None:
            a.grad += np.full(a.data.shape, out.grad)
        else:
            a.grad += np.broadcast_to(np.expand_dims(out.grad, axis), a.data.shape)

    # -- batched mode: a layer's product, and its weights transposed --------------------------

    def __matmul__(self, other: object) -> Value:
        o = _as_value(other)
        if o is None:
            return NotImplemented
        return Value(self.data @ o.data, (self, o), "@", _rule=Value._matmul_backward)

    def _matmul_backward(out: Value) -> None:  # Y = X @ W: dX = G @ W.T, dW = X.T @ G
        x, w = out._children
        x.grad += out.grad @ w.data.T
        w.grad += x.data.T @ out.grad

    @property
    def T(self) -> Value:  # numpy's and PyTorch's name for the transpose
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

    def __sub__(self, other: object) -> Value:  # a + (-b): exactly a - b in floats
        o = _as_value(other)
        return NotImplemented if o is None else self + (-o)

    def __truediv__(self, other: object) -> Value:
        """`a * b**-1`, the workshop's graph, holding the correctly rounded quotient `a / b`."""
        o = _as_value(other)
        if o is None:
            return NotImplemented
        if any_true(o.data == 0):
            raise ZeroDivisionError(f"/: division by zero ({fmt(self.data)} / {fmt(o.data)})")
        out = self * o**-1
        out.data = self.data / o.data
        return out

    def __radd__(self, other: object) -> Value:
        o = _as_value(other)
        return NotImplemented if o is None else o + self

    def __rsub__(self, other: object) -> Value:
        o = _as_value(other)
        return NotImplemented if o is None else o - self

    def __rmul__(self, other: object) -> Value:
        o = _as_value(other)
        return NotImplemented if o is None else o * self

    def __rtruediv__(self, other: object) -> Value:
        o = _as_value(other)
        return NotImplemented if o is None else o / self

    def __rfloordiv__(self, other: object) -> Value:
        o = _as_value(other)
        return NotImplemented if o is None else o // self

    def __rpow__(self, other: object) -> Value:
        o = _as_value(other)
        return NotImplemented if o is None else o**self

    def __rmatmul__(self, other: object) -> Value:
        o = _as_value(other)
        return NotImplemented if o is None else o @ self

    def sqrt(self) -> Value:
        if any_true(self.data < 0):
            bad = first(self.data, self.data < 0)
            raise ValueError(f"sqrt: the operand must not be negative, got {bad}")
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

        Depth-first without recursion, so a graph of any depth works: go down to a child not
        yet visited; a node whose children are all visited is placed after them.
        """
        order: list[Value] = []
        visited = {self}
        stack = [(self, iter(self._children))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in visited:
                    visited.add(child)
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

        Leaf gradients accumulate across calls, as in PyTorch: each call computes its own total
        and adds it to what the leaf held. The other nodes' gradients are computed afresh each
        call. If a rule fails, every gradient is left as it was.
        """
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
            if not v._children:  # what it held, plus this call's gradient: twice is exactly 2x
                v.grad = g + v.grad
                if v.grad.__class__ is float and v.data.__class__ is not float:
                    v.grad = numpy().full(v.data.shape, v.grad)  # an array leaf nothing reached


def _hand_written_rule(out: Value) -> None:
    out._saved()


def cat(values: Sequence[Value]) -> Value:
    """One 1-D array of every value's data, each flattened, in order (`torch.cat` of the
    flattened tensors): a sum over many parameters is then one node, not one per parameter."""
    np = numpy()
    data = np.concatenate([np.ravel(v.data) for v in values])
    return Value(data, tuple(values), "cat", _rule=_cat_backward)


def _cat_backward(out: Value) -> None:  # each child gets its own slice of the gradient back
    start = 0
    for v in out._children:
        if v.data.__class__ is float:
            v.grad += float(out.grad[start])
            start += 1
        else:
            v.grad += out.grad[start : start + v.data.size].reshape(v.data.shape)
            start += v.data.size


# -- one node for w.x + b: a neuron on one sample, or a whole layer on a batch -----------------


def linear(x: Any, w: Any, b: Value) -> Value:
    """`w.x + b` as one node, as `torch.nn.functional.linear` computes it.

    One sample: `x` and `w` are lists of Values (or numbers for `x`), and the node holds
    `w[0]*x[0] + w[1]*x[1] + ... + b`, summed in that order: the same number as that chain of
    `*` and `+` nodes, and the same gradients, from one node instead of 2n (a per-sample step
    about ten times faster; docs/architecture.md). A batch: `x`, `w` and `b` are Values holding
    a (samples x nin), a (nout x nin) and a (nout,) array, and the node holds `x @ w.T + b`.
    """
    if len(x) != len(w):
        raise ValueError(f"linear: {len(w)} weights but {len(x)} inputs: expected as many")
    s = 0.0
    try:
        for wi, xi in zip(w, x):  # noqa: B905 (the lengths were checked)
            s = s + wi.data * xi.data
    except AttributeError:  # some inputs are plain numbers: make them constant leaves
        return linear([xi if isinstance(xi, Value) else Value(xi) for xi in x], w, b)
    if s.__class__ is not float:
        raise TypeError("linear: weights and inputs must hold floats (one sample at a time)")
    n = len(w)
    return Value(s + b.data, (*w, *x, b), "w·x+b", _rule=_linear_backward, _saved=n)


def _linear_backward(out: Value) -> None:  # d/dw[i] = x[i], d/dx[i] = w[i], d/db = 1
    n, g, children = out._saved, out.grad, out._children
    if g == 0.0 and math.isfinite(out.data):  # a closed ReLU, a met margin: 0 * finite adds 0
        return
    for w, x in zip(children[:n], children[n : 2 * n]):  # noqa: B905 (both hold n)
        w.grad += g * x.data
        x.grad += g * w.data
    children[-1].grad += g
