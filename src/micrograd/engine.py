"""The autograd engine: `Value`, a node in a computation graph, and reverse-mode backpropagation.

Every primitive operation is defined once, in the table below: a forward function beside its
backward rule, which applies the chain rule by adding `out.grad` times the local derivative into
each input's `grad`. Everything else (`-`, `/`, `sqrt`, ...) is composed from primitives and has
no derivative code of its own.

A node stores its inputs and the name of its rule, never a closure that points back at itself, so
graphs hold no reference cycles and are freed as soon as the last reference goes.

`data` is a float. In batched mode it may also be a numpy array over samples; the same rules
apply, and a gradient flowing from an array into a scalar is summed. numpy is imported only when
an array is actually seen, so this module needs nothing beyond the standard library.
"""

from __future__ import annotations

import gc
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from numbers import Real
from operator import attrgetter
from typing import Any

__all__ = ["Value", "affine", "linear"]

# A gradient or data value: a float, or a numpy array in batched mode.
Array = Any
_Rule = Callable[["Value"], None]

_data_of = attrgetter("_data")


def _numpy() -> Any:
    import numpy

    return numpy


def _is_array(x: object) -> bool:
    np = sys.modules.get("numpy")
    return np is not None and isinstance(x, np.ndarray)


def _coerce(data: object) -> float | Array:
    """Return `data` as a float (or float64 array), or raise TypeError naming what it got."""
    if data.__class__ is float:
        return data
    if isinstance(data, Real) and not isinstance(data, bool):
        return float(data)
    if not _is_array(data):
        raise TypeError(
            f"Value data must be a real number (int, float or numpy scalar), "
            f"got {type(data).__name__}: {data!r}"
        )
    array: Any = data
    if array.dtype.kind not in "fiu":
        raise TypeError(f"Value data array must hold real numbers, got dtype {array.dtype}")
    if array.ndim == 0:
        return float(array)
    return _numpy().asarray(array, dtype=_numpy().float64)


def _sum_to(g: Array, like: Array) -> Array:
    """Reduce gradient `g` to the shape of `like`, summing over axes that were broadcast."""
    if g.__class__ is float:
        return g
    if not _is_array(like):
        return float(g.sum())
    if g.shape == like.shape:
        return g
    while g.ndim > like.ndim:
        g = g.sum(axis=0)
    for axis, size in enumerate(like.shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def _fmt(x: Array) -> str:
    return repr(x) if not _is_array(x) else f"array of shape {x.shape}"


def _first_bad(x: Array, bad: Array) -> float:
    """The first offending element of array `x` where mask `bad` holds, for error messages."""
    return float(x[bad].flat[0])


# --------------------------------------------------------------------------------------------
# The primitives. Each forward takes plain data (floats or arrays) and returns plain data. Beside
# it, its backward rule takes the output node and adds out.grad times the local derivative into
# each child's grad (the chain rule), exactly as micrograd's `_backward` closures do.
# --------------------------------------------------------------------------------------------


def _add(a: Array, b: Array) -> Array:
    return a + b


def _add_backward(out: Value) -> None:
    a, b = out._ctx
    a.grad += out.grad
    b.grad += out.grad


def _mul(a: Array, b: Array) -> Array:
    return a * b


def _mul_backward(out: Value) -> None:
    a, b = out._ctx
    a.grad += out.grad * b._data
    b.grad += out.grad * a._data


def _pow_const(a: Array, n: float) -> Array:
    """`a ** n` for a constant exponent `n`."""
    if _is_array(a):
        if n != int(n) and (a < 0).any():
            raise ValueError(
                f"**: a negative base to the fractional power {n} is not a real number "
                f"(base {_first_bad(a, a < 0)})"
            )
        if n < 0 and (a == 0).any():
            raise ZeroDivisionError(f"**: zero cannot be raised to the negative power {n}")
        np = _numpy()
        with np.errstate(over="ignore"):
            out = a**n
        if np.isinf(out).any():
            bad = _first_bad(a, np.isinf(out))
            raise OverflowError(f"**: {bad} ** {n} overflows a float")
        return out
    if a < 0 and n != int(n):
        raise ValueError(
            f"**: a negative base to the fractional power {n} is not a real number (base {a})"
        )
    if a == 0 and n < 0:
        raise ZeroDivisionError(f"**: zero cannot be raised to the negative power {n}")
    try:
        return float(a**n)
    except OverflowError:
        raise OverflowError(f"**: {a} ** {n} overflows a float") from None


def _pow_const_backward(out: Value) -> None:
    (a,) = out._ctx
    n = out._arg
    if n != 0:
        a.grad += out.grad * n * _pow_const(a._data, n - 1)


def _pow(a: Array, b: Array) -> Array:
    """`a ** b` with a Value exponent: defined for a positive base only."""
    if (a <= 0).any() if _is_array(a) else a <= 0:
        bad = _first_bad(a, a <= 0) if _is_array(a) else a
        raise ValueError(
            f"**: the base must be positive when the exponent is a Value (got base {bad})"
        )
    if _is_array(a) or _is_array(b):
        np = _numpy()
        with np.errstate(over="ignore"):
            out = np.power(a, b)
        if np.isinf(out).any():
            raise OverflowError(f"**: {_fmt(a)} ** {_fmt(b)} overflows a float")
        return out
    try:
        return float(a**b)
    except OverflowError:
        raise OverflowError(f"**: {a} ** {b} overflows a float") from None


def _pow_backward(out: Value) -> None:
    a, b = out._ctx
    log = math.log if a._data.__class__ is float else _numpy().log
    a.grad += out.grad * b._data * a._data ** (b._data - 1)
    b.grad += out.grad * out._data * log(a._data)


def _floordiv(a: Array, b: Array) -> Array:
    if (b == 0).any() if _is_array(b) else b == 0:
        raise ZeroDivisionError(f"//: division by zero ({_fmt(a)} // {_fmt(b)})")
    return a // b


def _floordiv_backward(out: Value) -> None:
    pass  # piecewise constant: the derivative is zero almost everywhere


def _exp(a: Array) -> Array:
    if a.__class__ is float:
        try:
            return math.exp(a)
        except OverflowError:
            raise OverflowError(f"exp: overflow for operand {a}") from None
    np = _numpy()
    with np.errstate(over="ignore"):
        out = np.exp(a)
    if np.isinf(out).any():
        raise OverflowError(f"exp: overflow for operand {_first_bad(a, np.isinf(out))}")
    return out


def _exp_backward(out: Value) -> None:
    out._ctx[0].grad += out.grad * out._data


def _log(a: Array) -> Array:
    if a.__class__ is float:
        if a <= 0:
            raise ValueError(f"log: the operand must be positive, got {a}")
        return math.log(a)
    if (a <= 0).any():
        raise ValueError(f"log: the operand must be positive, got {_first_bad(a, a <= 0)}")
    return _numpy().log(a)


def _log_backward(out: Value) -> None:
    (a,) = out._ctx
    a.grad += out.grad / a._data


def _tanh(a: Array) -> Array:
    return math.tanh(a) if a.__class__ is float else _numpy().tanh(a)


def _tanh_slope(t: Array) -> Array:
    """d tanh(x)/dx, from the output t = tanh(x)."""
    return 1.0 - t * t


def _tanh_backward(out: Value) -> None:
    out._ctx[0].grad += out.grad * _tanh_slope(out._data)


def _sigmoid(a: Array) -> Array:
    # Never exponentiate a positive number, so no finite input overflows.
    if a.__class__ is float:
        if a >= 0:
            return 1.0 / (1.0 + math.exp(-a))
        e = math.exp(a)
        return e / (1.0 + e)
    np = _numpy()
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_slope(s: Array) -> Array:
    """d sigmoid(x)/dx, from the output s = sigmoid(x)."""
    return s * (1.0 - s)


def _sigmoid_backward(out: Value) -> None:
    out._ctx[0].grad += out.grad * _sigmoid_slope(out._data)


def _relu(a: Array) -> Array:
    if a.__class__ is float:
        return a if a > 0.0 else 0.0
    return _numpy().maximum(a, 0.0)


def _relu_slope(r: Array) -> Array:
    """d relu(x)/dx, from the output r = relu(x): 1 where it passed, 0 where it was cut."""
    return r > 0.0


def _relu_backward(out: Value) -> None:
    out._ctx[0].grad += out.grad * _relu_slope(out._data)


def _abs(a: Array) -> Array:
    return abs(a)


def _abs_backward(out: Value) -> None:
    (a,) = out._ctx
    sign = (a._data > 0.0) * 1.0 - (a._data < 0.0)  # 0 at 0, as in PyTorch
    a.grad += out.grad * sign


def _sum(a: Array, axis: int | None) -> Array:
    if a.__class__ is float:
        return a
    s = a.sum(axis=axis)
    return float(s) if axis is None or s.ndim == 0 else s


def _sum_backward(out: Value) -> None:
    (a,) = out._ctx
    if a._data.__class__ is float:
        a.grad += out.grad
        return
    np = _numpy()
    g = out.grad if out._arg is None else np.expand_dims(out.grad, out._arg)
    a.grad += np.broadcast_to(g, a._data.shape)


def _affine(wb: Sequence[Value], x: Sequence[Value]) -> Array:
    """The fused neuron pre-activation b + w[0]*x[0] + w[1]*x[1] + ..., with `wb` = (w..., b),
    summed in that order (the order micrograd's chain of `+` nodes uses). It reads the nodes'
    data directly: building lists of floats first costs more than the sum itself."""
    s = wb[-1]._data
    for wi, xi in zip(wb, x):
        s = s + wi._data * xi._data
    return s


def _affine_backward(out: Value, g: Array = None) -> None:
    # _params is (w..., b) and _ctx is x: each weight gets g*x, each input g*w, the bias g.
    wb = out._params
    if g is None:
        g = out.grad
    for w, x in zip(wb, out._ctx):
        w.grad += g * x._data
        x.grad += g * w._data
    wb[-1].grad += g


def _affine_act_backward(out: Value) -> None:
    """A neuron fused into one node: activation(affine); chain the activation's slope first."""
    _affine_backward(out, out.grad * out._arg(out._data))


def _linear(x: Array, W: Array, b: Sequence[float]) -> Array:
    """A whole layer on a batch: x (samples x nin) @ W.T + b, W being (nout x nin)."""
    x2 = x.reshape(-1, 1) if x.ndim == 1 else x
    z = x2 @ W.T + _numpy().array(b)
    return z[:, 0] if W.shape[0] == 1 else z


def _linear_backward(out: Value) -> None:
    W = out._arg  # the weights as they were in the forward pass
    x, *params = out._ctx
    x2 = x._data.reshape(-1, 1) if x._data.ndim == 1 else x._data
    g = out.grad.reshape(-1, 1) if W.shape[0] == 1 else out.grad
    x.grad += (g @ W).reshape(x._data.shape)
    grads = [*(g.T @ x2).ravel().tolist(), *g.sum(axis=0).tolist()]
    for p, gp in zip(params, grads):
        p.grad += gp


def _leaf_backward(out: Value) -> None:
    pass


def _custom_backward(out: Value) -> None:
    out._arg()  # a `_backward` assigned by hand, workshop style: it updates the children itself


def _run_broadcasting(node: Value) -> None:
    """Run node's rule where arrays may meet scalars: each child gets its gradient summed back
    to its own shape, so a scalar parameter used across a batch receives the batch's total."""
    children = dict.fromkeys(node._inputs)
    saved = [c.grad for c in children]
    for c in children:
        c.grad = 0.0
    node._rule(node)
    for c, before in zip(children, saved):
        c.grad = before + _sum_to(c.grad, c._data)


# Rules whose every input gets a gradient of its own shape, so they never need summing back.
_SHAPE_KEEPING = frozenset(
    {
        _pow_const_backward,
        _exp_backward,
        _log_backward,
        _tanh_backward,
        _sigmoid_backward,
        _relu_backward,
        _abs_backward,
        _sum_backward,
        _linear_backward,
        _floordiv_backward,
        _leaf_backward,
    }
)

# The activations a neuron node can fuse in: forward, slope from the output, and op name.
_ACTIVATIONS: dict[str, tuple[Callable[[Array], Array], Callable[[Array], Array], str]] = {
    "relu": (_relu, _relu_slope, "ReLU(affine)"),
    "tanh": (_tanh, _tanh_slope, "tanh(affine)"),
    "sigmoid": (_sigmoid, _sigmoid_slope, "sigmoid(affine)"),
}

_new = object.__new__


def _node(
    data: Array,
    ctx: tuple[Value, ...],
    op: str,
    rule: _Rule,
    arg: Any = None,
    params: tuple[Value, ...] = (),
) -> Value:
    """Make a result node without re-validating data that a primitive just computed."""
    v: Value = _new(Value)
    v._data = data
    v.grad = 0.0
    v._ctx = ctx
    v._params = params
    v._op = op
    v._rule = rule
    v._arg = arg
    v.label = ""
    return v


def _lift(x: object) -> Value | None:
    """Wrap a number (or array) as a constant leaf; None for anything an operator should refuse."""
    if isinstance(x, Value):
        return x
    if x.__class__ is float or x.__class__ is int:
        return _node(float(x), (), "", _leaf_backward)
    if (isinstance(x, Real) and not isinstance(x, bool)) or _is_array(x):
        return Value(x)
    return None


class Value:
    """A node of a computation graph: a float `data`, its gradient `grad`, and how it was made."""

    # _ctx holds the inputs; _params, a tuple of inputs that many nodes share (a neuron's
    # weights and bias, the same tuple object in every sample's node), so that backward can look
    # at each shared group once instead of once per node.
    __slots__ = ("_arg", "_ctx", "_data", "_op", "_params", "_rule", "grad", "label")
    # numpy defers to our reflected operators instead of broadcasting over a Value.
    __array_ufunc__ = None

    _data: Array
    grad: Array
    _ctx: tuple[Value, ...]
    _params: tuple[Value, ...]
    _op: str
    _rule: _Rule
    _arg: Any
    label: str

    def __init__(
        self, data: float | Array, _children: Iterable[Value] = (), _op: str = "", label: str = ""
    ) -> None:
        self._data = _coerce(data)
        self.grad = 0.0
        self._ctx = tuple(_children)
        self._params = ()
        self._op = _op
        self._rule = _leaf_backward
        self._arg = None
        self.label = label

    # -- the contract's attributes ---------------------------------------------------------

    @property
    def data(self) -> Array:
        return self._data

    @data.setter
    def data(self, value: float | Array) -> None:
        self._data = value if value.__class__ is float else _coerce(value)

    @property
    def _prev(self) -> set[Value]:
        return set(self._ctx).union(self._params)

    @property
    def _inputs(self) -> tuple[Value, ...]:
        """Every child in a stable order: the shared parameters, then the other inputs."""
        return self._params + self._ctx

    @property
    def _backward(self) -> Callable[[], None]:
        """Propagate this node's grad to its children (a bound method: no reference cycle)."""
        return self._propagate

    @_backward.setter
    def _backward(self, fn: Callable[[], None]) -> None:
        self._rule = _custom_backward
        self._arg = fn

    def _propagate(self) -> None:
        _run_broadcasting(self)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self._data!r}, grad={self.grad!r}{label})"

    # -- operators ---------------------------------------------------------------------------

    def __add__(self, other: object) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _node(_add(self._data, o._data), (self, o), "+", _add_backward)

    def __mul__(self, other: object) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _node(_mul(self._data, o._data), (self, o), "*", _mul_backward)

    def __pow__(self, other: object) -> Value:
        if isinstance(other, Value):
            return _node(_pow(self._data, other._data), (self, other), "**", _pow_backward)
        if isinstance(other, bool) or not isinstance(other, Real):
            return NotImplemented
        n = other if isinstance(other, (int, float)) else float(other)
        return _node(_pow_const(self._data, n), (self,), f"**{n}", _pow_const_backward, n)

    def __rpow__(self, other: object) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return o**self

    def __floordiv__(self, other: object) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _node(_floordiv(self._data, o._data), (self, o), "//", _floordiv_backward)

    def __rfloordiv__(self, other: object) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return o // self

    def __neg__(self) -> Value:
        return self * -1.0

    def __radd__(self, other: object) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return self + o

    def __sub__(self, other: object) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return self + (-o)

    def __rsub__(self, other: object) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return o + (-self)

    def __rmul__(self, other: object) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return self * o

    def __truediv__(self, other: object) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        if (o._data == 0).any() if _is_array(o._data) else o._data == 0:
            raise ZeroDivisionError(f"/: division by zero ({_fmt(self._data)} / {_fmt(o._data)})")
        return self * o**-1

    def __rtruediv__(self, other: object) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return o / self

    def __abs__(self) -> Value:
        return _node(_abs(self._data), (self,), "abs", _abs_backward)

    # -- functions of one Value --------------------------------------------------------------

    def tanh(self) -> Value:
        return _node(_tanh(self._data), (self,), "tanh", _tanh_backward)

    def relu(self) -> Value:
        return _node(_relu(self._data), (self,), "ReLU", _relu_backward)

    def sigmoid(self) -> Value:
        return _node(_sigmoid(self._data), (self,), "sigmoid", _sigmoid_backward)

    def exp(self) -> Value:
        return _node(_exp(self._data), (self,), "exp", _exp_backward)

    def log(self) -> Value:
        return _node(_log(self._data), (self,), "log", _log_backward)

    def sqrt(self) -> Value:
        return self**0.5

    def sum(self, axis: int | None = None) -> Value:
        """Sum over samples (batched mode) to a scalar, or along one axis; a float stays as is."""
        return _node(_sum(self._data, axis), (self,), "sum", _sum_backward, axis)

    def mean(self, axis: int | None = None) -> Value:
        d = self._data
        n = 1 if d.__class__ is float else (d.size if axis is None else d.shape[axis])
        return self.sum(axis) * (1.0 / n)

    def item(self) -> float:
        """The data as a Python float (a scalar Value only)."""
        if self._data.__class__ is not float:
            raise TypeError(f"item() needs a scalar Value, this one holds {_fmt(self._data)}")
        return self._data

    # -- graph traversal and backpropagation -------------------------------------------------

    def topo_sort(self) -> list[Value]:
        """Every node reachable from self, once each, children before parents, self last."""
        order: list[Value] = []
        placed: set[Value] = set()
        # The nodes with children come in order; each leaf goes just before its first parent.
        for node in _backward_order(self)[0]:
            for child in node._inputs:
                if not child._ctx and child not in placed:
                    placed.add(child)
                    order.append(child)
            order.append(node)
        return order

    def backward(self) -> None:
        """Fill in `grad` of every node this one depends on, by reverse-mode differentiation.

        Leaf gradients accumulate across calls, as in PyTorch; gradients of intermediate nodes
        are recomputed from zero each time, so they are never counted twice.
        """
        if self._data.__class__ is not float:
            raise ValueError(
                f"backward() needs a scalar output, this Value holds {_fmt(self._data)}: "
                "reduce it with .sum() or .mean() first"
            )
        # The graph holds no reference cycles, so the cycle collector has nothing to find here;
        # pausing it saves it from walking the whole graph again and again as lists grow.
        collecting = gc.isenabled()
        gc.disable()
        try:
            topo, carrying = _backward_order(self)
            # As in PyTorch, each call adds its own total to a leaf's gradient: set aside what
            # leaves hold from earlier calls and add it back at the end, so that calling twice
            # gives exactly twice, not a different rounding of a longer running sum.
            held = [(leaf, leaf.grad) for leaf in carrying]
            for leaf in carrying:
                leaf.grad = 0.0
            for node in topo:
                node.grad = 0.0
            self.grad = 1.0
            if set(map(type, map(_data_of, topo))) <= {float}:
                for node in reversed(topo):
                    # A zero gradient adds zero to every child: skip the rule. A ReLU that is
                    # off, or a sample the hinge loss is done with, prunes its whole subgraph.
                    if node.grad or node._rule is _custom_backward:
                        node._rule(node)
            else:
                for node in reversed(topo):
                    if node._data.__class__ is float or node._rule in _SHAPE_KEEPING:
                        node._rule(node)
                    else:
                        _run_broadcasting(node)
            for leaf, before in held:
                leaf.grad = before + leaf.grad
        finally:
            if collecting:
                gc.enable()


def _backward_order(root: Value) -> tuple[list[Value], set[Value]]:
    """The nodes that have children, children before parents, root last (an iterative
    post-order depth-first search: no recursion, so any depth works); and the leaves that
    already hold a gradient, which backward must set aside.

    A node is pushed on the way down and placed when met again on the way up, after all the
    nodes pushed above it (its descendants). Leaves are not pushed: backward has nothing to do
    at a leaf, and most children are leaves (weights), so skipping them is most of the speed.
    """
    order: list[Value] = []
    entered: set[Value] = set()
    done: set[Value] = set()
    carrying: set[Value] = set()
    shared_seen: set[int] = set()
    # The neurons of a layer share one inputs tuple. Once the node that first looked through a
    # tuple is placed, every member is placed too: later nodes with that tuple can skip it.
    first_reader: dict[int, Value] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if node in entered:
            if node not in done:
                done.add(node)
                order.append(node)
            continue
        entered.add(node)
        stack.append(node)
        ctx = node._ctx
        reader = first_reader.setdefault(id(ctx), node)
        if reader is not node and reader in done:
            ctx = ()
        for child in ctx:
            if child._ctx:
                if child not in entered:
                    stack.append(child)
            else:
                try:
                    if child.grad:
                        carrying.add(child)
                except ValueError:  # an array's truth is ambiguous: set it aside all the same
                    carrying.add(child)
        params = node._params
        # An all-leaf group needs looking at once; one with a computed Value in it is looked at
        # by every node that uses it, so that Value is placed before each of them.
        if (
            params
            and id(params) not in shared_seen
            and _visit_group(params, entered, stack, carrying)
        ):
            shared_seen.add(id(params))
    return order, carrying


def _visit_group(
    params: tuple[Value, ...], entered: set[Value], stack: list[Value], carrying: set[Value]
) -> bool:
    """`_backward_order`'s visit of a node's shared parameters; True if all are leaves."""
    all_leaves = True
    for p in params:
        if p._ctx or p._params:
            all_leaves = False
            if p not in entered:
                stack.append(p)
        elif p.grad.__class__ is not float or p.grad:
            carrying.add(p)
    return all_leaves


def affine(w: Sequence[Value], x: Sequence[Value], b: Value) -> Value:
    """One fused node for `b + w[0]*x[0] + ... + w[n-1]*x[n-1]` (a neuron before activation)."""
    if len(w) != len(x) or not x:
        raise ValueError(f"affine: needs as many weights as inputs, at least one; got {len(w)} "
                         f"weights and {len(x)} inputs")
    return _affine_node((*w, b), tuple(x))


def _affine_node(wb: tuple[Value, ...], x: tuple[Value, ...], act: str = "linear") -> Value:
    """The node for `act(w.x + b)`, `wb` being (w..., b): pass the same `wb` tuple for every
    call of one neuron, so backward looks at its parameters once per graph."""
    data = _affine(wb, x)
    if act == "linear":
        return _node(data, x, "affine", _affine_backward, None, wb)
    forward, slope, op = _ACTIVATIONS[act]
    return _node(forward(data), x, op, _affine_act_backward, slope, wb)


def linear(x: Value, w: Sequence[Value], b: Sequence[Value]) -> Value:
    """One fused node for a whole layer on a batch: `x @ W.T + b`.

    `x` holds a (samples x nin) array; `w` the nout*nin weights row by row (neuron by neuron);
    `b` the nout biases. The result holds (samples x nout), or (samples,) when nout is 1.
    """
    nout = len(b)
    nin = len(w) // nout if nout else 0
    if nout == 0 or nin * nout != len(w):
        raise ValueError(f"linear: {len(w)} weights do not fill {nout} rows")
    xd = x._data
    width = 1 if xd.ndim == 1 else xd.shape[1]
    if width != nin:
        raise ValueError(f"linear: expected {nin} input features, got {width}")
    W = _numpy().array(list(map(_data_of, w))).reshape(nout, nin)
    data = _linear(xd, W, list(map(_data_of, b)))
    return _node(data, (x, *w, *b), "linear", _linear_backward, W)
