"""Layer buffers: a layer's parameters kept together, so that batched mode, the L2 penalty and
the optimizers work on whole layers at once (the fast path, beside the engine).

A `ParameterBuffer` holds a layer's weights and biases in the order of `parameters()` (neuron by
neuron, weights then bias), and their gradients, each in two views kept in step lazily:

- two flat lists of floats, `data` and `grad`, which a neuron on one sample reads and adds to by
  index (`neuron_node`: indexing a list is as fast as a Value's own fields, so per-sample mode
  pays nothing) and which each parameter, a `Parameter`, reads and writes: every parameter is
  still a `Value`, so `p.data -= lr * p.grad` works as on any Value;
- two (rows x cols) float64 arrays, `matrix()` and `grad_matrix()`, which a layer on a batch
  (`block_linear`, whose one leaf is the whole buffer, the `ParameterBlock`), the L2 penalty
  (`block_sum_of_squares`) and the optimizers read and replace whole.

Invariant: each view is either current or rebuilt from the other before anyone reads it. A write
to a list drops the array (it is made again when next asked for); a new array marks the lists
`stale` (they are refreshed, in place, when next read). So a batched training loop never turns
lists into arrays and back, and per-sample mode only checks one flag per neuron. The lists are
mutated in place, never replaced, so whoever holds one sees the current numbers once synced. The
data array is never changed in place (a new one replaces it), so a forward pass may keep it.

A Parameter's `grad`, its element of `buffer.grad` and its element of the block's `grad` are one
number seen three ways. A graph that holds both the block and some of its Parameters has the
block set aside alone (`Value._group`): its gradient holds theirs.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any, cast

from .activations import ACTIVATIONS
from .engine import LEAF, Value, define, make_node
from .fused import KERNELS, check_features, linear_forward, linear_gradients, relu_gate
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
    """A layer's parameters: their data and gradients as lists (`data`, `grad`) and as arrays
    (`matrix()`, `grad_matrix()`), and `block`, all of them as one leaf. `rows` is the number of
    neurons; each row holds its weights then its bias. It keeps no reference to its Parameters
    (each refers to it), so a model holds no reference cycle and is freed as soon as the last
    reference goes."""

    __slots__ = (
        "_block",
        "_grad_matrix",
        "_grads",
        "_matrix",
        "_members",
        "_values",
        "rows",
        "stale",
    )

    def __init__(self, values: Sequence[float], rows: int = 1) -> None:
        if rows < 1 or len(values) % rows:
            raise ValueError(f"{len(values)} parameters do not fill {rows} rows")
        self._values: list[float] = [float(v) for v in values]
        self._grads: list[Any] = [0.0] * len(self._values)
        self._matrix: Array | None = None  # None: make it from the list when asked
        self._grad_matrix: Array | None = 0.0  # 0.0: every gradient is zero
        self.stale = False  # True: a list is older than its array (see `sync`)
        self.rows = rows
        self._block: Callable[[], ParameterBlock | None] = _nobody
        self._members: Callable[[], ParameterList | None] = _nobody

    @property
    def block(self) -> ParameterBlock:
        """The whole buffer as one leaf, the same object while any graph holds it (the buffer
        refers to it weakly: it refers to the buffer, and a model holds no reference cycle)."""
        block = self._block()
        if block is None:
            block = ParameterBlock(self)
            self._block = weakref.ref(block)
        return block

    def sync(self) -> None:
        """Bring the lists up to date with the arrays that replaced them. (An array that is
        not None is never older than its list: a write to a list drops it.)"""
        if self.stale:
            self.stale = False
            if self._matrix is not None:
                self._values[:] = self._matrix.ravel().tolist()
            g = self._grad_matrix
            if g is not None:
                self._grads[:] = (
                    [g] * len(self._grads) if g.__class__ is float else g.ravel().tolist()
                )

    @property
    def data(self) -> list[float]:
        """The parameters' data, a list in `parameters()` order (to read: a write must also drop
        the array, as `Parameter` does)."""
        self.sync()
        return self._values

    @property
    def grad(self) -> list[Any]:
        """The gradients, a list in `parameters()` order (to read: a write must also drop the
        array, as `Parameter` and the per-sample rule do)."""
        self.sync()
        return self._grads

    def matrix(self) -> Array:
        """The data as a read-only (rows x cols) float64 array (replaced, never changed)."""
        m = self._matrix
        if m is None:
            m = numpy().array(self._values, dtype=float).reshape(self.rows, -1)
            m.setflags(write=False)
            self._matrix = m
        return m

    def set_matrix(self, m: Array) -> None:
        """Replace every parameter's data by the float64 array `m` (rows x cols, or flat)."""
        if m.size != len(self._values):
            raise ValueError(f"{m.size} numbers for {len(self._values)} parameters")
        m = m.reshape(self.rows, -1)
        m.setflags(write=False)
        self._matrix = m
        self.stale = True

    def grad_matrix(self) -> Array:
        """The gradients as a (rows x cols) float64 array, or 0.0 while all are zero. Raises
        TypeError if a gradient is not a float (set by hand to something else)."""
        g = self._grad_matrix
        if g is None:
            grads = self._grads
            if set(map(type, grads)) != {float}:
                bad = next(x for x in grads if x.__class__ is not float)
                raise TypeError(f"a gradient of type {type(bad).__name__}, expected a float")
            g = numpy().array(grads).reshape(self.rows, -1) if any(grads) else 0.0
            self._grad_matrix = g
        return g

    def set_grad_matrix(self, g: Array) -> None:
        """Replace every gradient: by the float64 array `g` (rows x cols, or flat; kept, not
        copied), or by one float for all."""
        if is_array(g):
            if g.size != len(self._grads):
                raise ValueError(
                    f"a gradient of {g.size} numbers for {len(self._grads)} parameters"
                )
            g = g.reshape(self.rows, -1)
            if g.dtype.kind != "f" or g.dtype.itemsize != 8:
                g = g.astype(float)
        else:
            g = float(g)
            if g:
                g = numpy().full((self.rows, self.cols), g)
        self._grad_matrix = g
        self.stale = True

    def descend(self, lr: float) -> bool:
        """`p.data -= lr * p.grad` for every parameter, the same float operations at once: with
        numpy when the gradients are an array (batched mode), else over the lists. False, and
        nothing done, if a gradient is not a float."""
        g = self._grad_matrix
        if g is not None and g.__class__ is not float:
            self.set_matrix(self.matrix() - lr * g)
            return True
        grads = self.grad
        if set(map(type, grads)) != {float}:
            return False
        values = self.data
        values[:] = [x - lr * gi for x, gi in zip(values, grads, strict=True)]
        self._matrix = None
        return True

    def parameters(self) -> ParameterList:
        """A new Parameter for each element (a model makes them once and keeps the list)."""
        return self._adopt([Parameter(self, i) for i in range(len(self._values))])

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
        return len(self._values) // self.rows

    def zero_grad(self) -> None:
        self.set_grad_matrix(0.0)

    def __reduce__(self) -> tuple[Any, ...]:
        return ParameterBuffer, (self.data, self.rows), self.grad

    def __setstate__(self, grad: list[Any]) -> None:
        self._grads[:] = grad  # pickle and deepcopy: the state is the gradient list
        self._grad_matrix = None

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
        buffer = self._buffer
        if buffer.stale:
            buffer.sync()
        return buffer._values[self._index]

    @_data.setter
    def _data(self, value: Array) -> None:
        if value.__class__ is not float:
            raise TypeError(f"a parameter holds one float, got {type(value).__name__} {fmt(value)}")
        buffer = self._buffer
        if buffer.stale:
            buffer.sync()
        buffer._values[self._index] = value
        buffer._matrix = None

    @property
    def grad(self) -> Array:
        buffer = self._buffer
        if buffer.stale:
            buffer.sync()
        return buffer._grads[self._index]

    @grad.setter
    def grad(self, value: Array) -> None:
        if value.__class__ is not float and not is_array(value):
            if isinstance(value, bool) or not isinstance(value, Real):
                raise TypeError(
                    f"a parameter's grad must be a number, got {type(value).__name__}: "
                    f"{value!r} (set it to 0.0 to clear it)"
                )
            value = float(value)
        buffer = self._buffer
        if buffer.stale:
            buffer.sync()
        buffer._grads[self._index] = value
        buffer._grad_matrix = None

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
    batched forward used it; `grad` is its gradient array (setting it replaces every gradient),
    or 0.0 while every gradient is zero."""

    __slots__ = ("__weakref__", "_buffer")

    def __init__(self, buffer: ParameterBuffer) -> None:
        self._buffer = buffer
        self._data = 0.0
        _leaf(self, "parameters")

    @property
    def grad(self) -> Array:
        return self._buffer.grad_matrix()

    @grad.setter
    def grad(self, value: Array) -> None:
        self._buffer.set_grad_matrix(value)

    def add_grad(self, g: Array) -> None:
        """`self.grad += g` for a new (rows x cols) float64 array `g` that nobody else holds:
        kept as it is when the gradient was 0.0, else added into a new array (a gradient array,
        once handed out, is never changed in place)."""
        buffer = self._buffer
        before = buffer._grad_matrix
        if before is None:
            before = buffer.grad_matrix()
        buffer._grad_matrix = g if before.__class__ is float else before + g  # a float is 0.0
        buffer.stale = True


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


def _stored_affine(saved: tuple[Any, ...], x: Sequence[Value]) -> float:
    data: list[float] = saved[1]
    k: int = saved[3]
    s = 0.0
    for xi in x:
        s = s + data[k] * xi._data
        k += 1
    return s + data[k]


def _stored_backward(out: Value) -> None:
    chain, data, grad, k, buffer = out._saved
    if buffer.stale:
        buffer.sync()
    buffer._grad_matrix = None  # the lists are written: the array is made anew when asked for
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
    return (chain, buffer._values, buffer._grads, offset, buffer), act.forward, op


def neuron_node(spec: tuple[Any, ...], wb: tuple[Value, ...], x: tuple[Value, ...]) -> Value:
    """`activation(w.x + b)` on one sample for the neuron `spec` describes, whose weights and
    bias are `wb` (pass the same `wb` tuple every call: backward looks at it once)."""
    saved, forward, op = spec
    if saved[4].stale:
        saved[4].sync()
    return make_node(forward(_stored_affine(saved, x)), x, STORED_NEURON, saved, op, wb)


# -- a layer on a batch ----------------------------------------------------------------------
# Invariant: the data is `fused.linear`'s (bit for bit the per-sample neurons'), then the
# activation, as a per-sample neuron node applies it; the block gets the gradient of every
# weight and bias at once.


def _block_linear_backward(out: Value) -> None:
    x, block = out._ctx
    M, chain = out._saved  # the (nout x nin+1) weights and biases the forward used; activation
    g = out.grad if chain is None else chain(out.grad, out._data)
    dx, G = linear_gradients(g, M[:, :-1], x._data)
    if x.grad.__class__ is float and x.grad == 0.0:
        x.grad = dx  # the first gradient to reach x: dx itself (new), as PyTorch keeps it
    else:
        x.grad += dx
    cast(ParameterBlock, block).add_grad(G)


BLOCK_LINEAR = define(
    "block_linear", "act(linear)", linear_forward, _block_linear_backward, keeps_shape=True
)


def block_linear(x: Value, buffer: ParameterBuffer, activation: str = "linear") -> Value:
    """A whole layer on a batch, `activation(x @ W.T + b)` with W and b the rows of `buffer`, as
    one node (per sample, a neuron is one node too); `x` holds a (samples x nin) array. The
    result holds (samples x nout), or (samples,) for one row."""
    xd = check_features(x, buffer.cols - 1)
    M = buffer.matrix()
    block = buffer.block
    block._data = M
    relu = activation == "relu"
    z = linear_forward(xd, M[:, :-1], M[:, -1], relu)
    if activation == "linear":
        return make_node(z, (x, block), BLOCK_LINEAR, (M, None), "linear")
    act = ACTIVATIONS[activation]
    op = f"{act.op}(linear)"
    if relu:  # applied by linear_forward; its gate in one pass
        return make_node(z, (x, block), BLOCK_LINEAR, (M, relu_gate), op)
    return make_node(act.forward(z), (x, block), BLOCK_LINEAR, (M, act.chain), op)


# -- the L2 penalty over whole buffers -------------------------------------------------------
# Invariant: bit for bit `sum(p * p for p in params)` (numpy's running sum adds in order, where
# its `sum` would pair the terms up), and each parameter gets g*p added twice, as the two
# operands of its `*` node would give it.


def _blocks_sum_of_squares(*matrices: Array) -> float:
    if KERNELS is not None:
        try:
            total: float = KERNELS.sum_of_squares(matrices)
        except ValueError:  # a matrix set by hand that is not C-contiguous: numpy's way
            pass
        else:
            return total
    np = numpy()
    squares = np.concatenate([m.ravel() for m in matrices]) ** 2
    return float(np.cumsum(squares)[-1]) if squares.size else 0.0


def _blocks_sum_of_squares_backward(out: Value) -> None:
    g = out.grad
    for block, M in zip(out._ctx, out._saved, strict=True):
        d = g * M
        cast(ParameterBlock, block).add_grad(d)
        cast(ParameterBlock, block).add_grad(d)


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
