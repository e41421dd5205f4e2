"""Layer buffers: a layer's parameters kept in two flat lists, so that batched mode, the L2
penalty and the optimizers work on whole layers at once (the fast path, beside the engine).

A `ParameterBuffer` holds a layer's weights and biases in `data`, a list of floats in the order
of `parameters()` (neuron by neuron, weights then bias), and their gradients in `grad`. Each
parameter is still a `Value`, a `Parameter`, whose `data` and `grad` read and write its element,
so `p.data -= lr * p.grad` works as on any Value. The lists are mutated in place, never replaced,
so whoever holds one always sees the current numbers. Three readers use them directly:

- a neuron on one sample reads its weights and adds its gradients by index (`neuron_node`):
  indexing a list is as fast as a Value's own fields, so per-sample mode pays nothing;
- a layer on a batch is one `linear` node whose child is the whole buffer as one leaf, the
  `ParameterBlock` (`block_linear`): backward looks at, sets aside and restores one leaf per
  layer instead of one per parameter;
- the L2 penalty (`block_sum_of_squares`) and the optimizers turn each list into one numpy array.

Invariant: a Parameter's `grad`, its element of `buffer.grad` and its element of the block's
`grad` are one number seen three ways. A graph that holds both the block and some of its
Parameters has the block set aside alone (`Value._group`): its gradient holds theirs.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

from .activations import ACTIVATIONS
from .engine import LEAF, Value, define, make_node
from .fused import check_features, linear_forward
from .numeric import Array, fmt, is_array, numpy

__all__ = [
    "Parameter",
    "ParameterBlock",
    "ParameterBuffer",
    "ParameterList",
    "block_linear",
    "block_sum_of_squares",
    "neuron_node",
    "neuron_spec",
    "whole_buffers",
]


class ParameterBuffer:
    """A layer's parameters: `data` and `grad`, flat lists of floats in `parameters()` order,
    and `block`, all of them as one leaf. `rows` is the number of neurons; each row holds its
    weights then its bias. It keeps no reference to its Parameters (each refers to it), so a
    model holds no reference cycle and is freed as soon as the last reference goes."""

    __slots__ = ("_members", "block", "data", "grad", "rows")

    def __init__(self, values: Sequence[float], rows: int = 1) -> None:
        if rows < 1 or len(values) % rows:
            raise ValueError(f"{len(values)} parameters do not fill {rows} rows")
        self.data: list[float] = [float(v) for v in values]
        self.grad: list[Any] = [0.0] * len(self.data)
        self.rows = rows
        self.block = ParameterBlock(self.grad, rows)
        self._members: Callable[[], ParameterList | None] = _nobody

    def parameters(self) -> ParameterList:
        """A new Parameter for each element (a model makes them once and keeps the list)."""
        return self._adopt([Parameter(self, i) for i in range(len(self.data))])

    def _adopt(self, params: list[Parameter]) -> ParameterList:
        members = ParameterList(params)
        self.claim(members)
        return members

    def claim(self, members: ParameterList) -> None:
        """Record the list of Parameters that reads this buffer (a copied model's owner calls
        this again). A weak reference: the buffer must not keep its Parameters alive, since
        each refers to it."""
        self._members = weakref.ref(members)

    def members(self) -> ParameterList | None:
        """The list of this buffer's Parameters its owner keeps, if it still lives."""
        return self._members()

    @property
    def cols(self) -> int:
        return len(self.data) // self.rows

    def zero_grad(self) -> None:
        self.grad[:] = [0.0] * len(self.grad)

    def matrix(self) -> Array:
        """The data as a (rows x cols) float64 array (a copy)."""
        return numpy().array(self.data, dtype=float).reshape(self.rows, self.cols)

    def __reduce__(self) -> tuple[Any, ...]:
        return ParameterBuffer, (self.data, self.rows), self.grad

    def __setstate__(self, grad: list[Any]) -> None:
        self.grad[:] = grad  # pickle and deepcopy: the state is the gradient list

    @staticmethod
    def join(
        parts: Sequence[tuple[ParameterBuffer, Sequence[Value]]],
    ) -> tuple[ParameterBuffer, ParameterList]:
        """One buffer holding the rows of each (buffer, its parameters) one after the other,
        and its members: the same Parameter objects, now reading the joined lists (a Layer joins
        its neurons' and keeps the list)."""
        rows = sum(b.rows for b, _ in parts)
        joined = ParameterBuffer([x for b, _ in parts for x in b.data], rows)
        params: list[Parameter] = []
        for _, part in parts:
            for p in part:
                if not isinstance(p, Parameter):
                    raise TypeError(f"join: {p!r} is not a Parameter")
                p._buffer, p._index = joined, len(params)
                params.append(p)
        return joined, joined._adopt(params)


class ParameterList(list["Parameter"]):
    """A buffer's Parameters in order, kept by the model (a list a buffer can refer to weakly)."""

    __slots__ = ("__weakref__",)


def _nobody() -> None:
    return None


def _leaf(v: Value, label: str) -> None:
    """The fields of a leaf, but data and grad (`Value.__init__` would set them; these
    subclasses keep them elsewhere)."""
    v._ctx = ()
    v._params = ()
    v._op = ""
    v._rule = LEAF.backward
    v._saved = None
    v.label = label


class Parameter(Value):
    """A `Value` whose data and grad are element `_index` of a `ParameterBuffer`."""

    __slots__ = ("_buffer", "_index")

    def __init__(self, buffer: ParameterBuffer, index: int) -> None:
        self._buffer = buffer
        self._index = index
        _leaf(self, "")

    @property
    def _data(self) -> Array:
        return self._buffer.data[self._index]

    @_data.setter
    def _data(self, value: Array) -> None:
        if value.__class__ is not float:
            raise TypeError(f"a parameter holds one float, got {type(value).__name__} {fmt(value)}")
        self._buffer.data[self._index] = value

    @property
    def grad(self) -> Array:
        return self._buffer.grad[self._index]

    @grad.setter
    def grad(self, value: Array) -> None:
        if value.__class__ is not float and not is_array(value):
            if isinstance(value, bool) or not isinstance(value, Real):
                raise TypeError(
                    f"a parameter's grad must be a number, got {type(value).__name__}: "
                    f"{value!r} (set it to 0.0 to clear it)"
                )
            value = float(value)
        self._buffer.grad[self._index] = value

    @property  # a class-wide None on Value, the buffer's block here
    def _group(self) -> Value:  # type: ignore[override]
        return self._buffer.block

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle and deepcopy: the copy reads the copied buffer (copied once per memo)
        return _parameter, (self._buffer, self._index, self.label)


def _parameter(buffer: ParameterBuffer, index: int, label: str) -> Parameter:
    p = Parameter(buffer, index)
    p.label = label
    return p


class ParameterBlock(Value):
    """A whole `ParameterBuffer` as one leaf. `data` is its (rows x cols) matrix as the last
    batched forward used it; `grad` is the gradient list as an array (a copy; setting it writes
    the list), or 0.0 while every gradient is zero."""

    __slots__ = ("_grads", "_rows")

    def __init__(self, grad: list[Any], rows: int) -> None:
        self._grads = grad
        self._rows = rows
        self._data = 0.0
        _leaf(self, "parameters")

    @property
    def grad(self) -> Array:
        grads = self._grads
        if not any(grads):
            return 0.0  # as a Value's grad starts: no gradient yet (backward turns it into zeros)
        return numpy().array(grads, dtype=float).reshape(self._rows, -1)

    @grad.setter
    def grad(self, value: Array) -> None:
        grads = self._grads
        if is_array(value):
            if value.size != len(grads):
                raise ValueError(f"a gradient of {value.size} numbers for {len(grads)} parameters")
            grads[:] = value.ravel().tolist()
        else:
            grads[:] = [float(value)] * len(grads)


def whole_buffers(params: Sequence[Value]) -> list[ParameterBuffer] | None:
    """The buffers `params` is made of, when it is whole buffers in order (as `parameters()`
    gives them); None otherwise. Python work per buffer; each comparison with the buffer's
    members is one pass in C, by identity (Values define no equality)."""
    buffers = []
    i = 0
    while i < len(params):
        p = params[i]
        if not isinstance(p, Parameter):
            return None
        buffer = p._buffer
        members = buffer.members()
        if members is None or params[i : i + len(members)] != members:
            return None
        buffers.append(buffer)
        i += len(members)
    return buffers if len({id(b) for b in buffers}) == len(buffers) else None


# -- a neuron on one sample ------------------------------------------------------------------
# Invariant: the same sums in the same order as `fused.neuron` over the same Values (so bit for
# bit the workshop's chain of nodes), reading and writing the buffer's lists by index.


def _stored_affine(saved: tuple[Any, list[float], list[Any], int], x: Sequence[Value]) -> float:
    data, k = saved[1], saved[3]
    s = 0.0
    for xi in x:
        s = s + data[k] * xi._data
        k += 1
    return s + data[k]


def _stored_backward(out: Value) -> None:
    chain, data, grad, k = out._saved
    g = out.grad if chain is None else chain(out.grad, out._data)
    for x in out._ctx:
        grad[k] += g * x._data
        x.grad += g * data[k]
        k += 1
    grad[k] += g


STORED_NEURON = define(
    "stored_neuron", "act(affine)", _stored_affine, _stored_backward, keeps_shape=False
)


def neuron_spec(buffer: ParameterBuffer, offset: int, activation: str) -> tuple[Any, ...]:
    """What `neuron_node` needs to know of one neuron, made once per neuron: its place in
    `buffer` (weights from `offset`, then the bias) and its activation."""
    act = ACTIVATIONS[activation]
    chain = None if activation == "linear" else act.chain
    op = "affine" if chain is None else f"{act.op}(affine)"
    return (chain, buffer.data, buffer.grad, offset), act.forward, op


def neuron_node(spec: tuple[Any, ...], wb: tuple[Value, ...], x: tuple[Value, ...]) -> Value:
    """`activation(w.x + b)` on one sample for the neuron `spec` describes, whose weights and
    bias are `wb` (pass the same `wb` tuple every call: backward looks at it once)."""
    saved, forward, op = spec
    return make_node(forward(_stored_affine(saved, x)), x, STORED_NEURON, saved, op, wb)


# -- a layer on a batch ----------------------------------------------------------------------
# Invariant: the data is `fused.linear`'s (bit for bit the per-sample neurons'); the block gets
# the gradient of every weight and bias at once.


def _block_linear_backward(out: Value) -> None:
    x, block = out._ctx
    M = out._saved  # the (nout x nin+1) weights and biases the forward used
    x2 = x._data.reshape(-1, 1) if x._data.ndim == 1 else x._data
    g = out.grad.reshape(-1, 1) if M.shape[0] == 1 else out.grad
    x.grad += (g @ M[:, :-1]).reshape(x._data.shape)
    G = numpy().empty_like(M)
    G[:, :-1] = g.T @ x2
    G[:, -1] = g.sum(axis=0)
    block.grad += G


BLOCK_LINEAR = define(
    "block_linear", "linear", linear_forward, _block_linear_backward, keeps_shape=True
)


def block_linear(x: Value, buffer: ParameterBuffer) -> Value:
    """A whole layer on a batch: `x @ W.T + b` with W and b the rows of `buffer`; `x` holds a
    (samples x nin) array. The result holds (samples x nout), or (samples,) for one row."""
    xd = check_features(x, buffer.cols - 1)
    M = buffer.matrix()
    block = buffer.block
    block._data = M
    return make_node(linear_forward(xd, M[:, :-1], M[:, -1]), (x, block), BLOCK_LINEAR, M)


# -- the L2 penalty over whole buffers -------------------------------------------------------
# Invariant: bit for bit `sum(p * p for p in params)` (numpy's running sum adds in order, where
# its `sum` would pair the terms up), and each parameter gets g*p added twice, as the two
# operands of its `*` node would give it.


def _blocks_sum_of_squares(*matrices: Array) -> float:
    np = numpy()
    squares = np.concatenate([m.ravel() for m in matrices]) ** 2
    return float(np.cumsum(squares)[-1]) if squares.size else 0.0


def _blocks_sum_of_squares_backward(out: Value) -> None:
    g = out.grad
    for block, M in zip(out._ctx, out._saved, strict=True):
        d = g * M
        total = block.grad
        total += d
        total += d
        block.grad = total


BLOCK_SUM_OF_SQUARES = define(
    "block_sum_of_squares",
    "sum(p*p)",
    _blocks_sum_of_squares,
    _blocks_sum_of_squares_backward,
    keeps_shape=True,
)


def block_sum_of_squares(buffers: Sequence[ParameterBuffer]) -> Value:
    """One node for `sum(p * p)` over every parameter of `buffers`."""
    matrices = [b.matrix() for b in buffers]
    blocks = tuple(b.block for b in buffers)
    for block, M in zip(blocks, matrices, strict=True):
        block._data = M
    data = _blocks_sum_of_squares(*matrices)
    return make_node(data, blocks, BLOCK_SUM_OF_SQUARES, matrices)
