"""The fast path: what exists only for speed, beside the engine that learners read.

Importing this module registers its primitives in the engine's table and swaps in a faster way
to run `backward()`. Each trick keeps one invariant, stated where it is defined, and is checked
against the plain way by the tests (`tests/test_fused.py`, `tests/test_kernels.py`):

- A neuron is one node, `activation(w.x + b)`, instead of 2n+1 `*`/`+` nodes and an activation
  node: the same numbers, summed in the same order as the chain of `Value` operations.
- A layer on a batch is one `linear` node, `X @ W.T + b`, summed input by input so every
  output is bit for bit the per-sample neuron's: in C (`_kernels.c`, many sums side by side,
  each in order) when it was built at install, else with numpy a block of inputs at a time.
  Its backward is one kernel call for a small layer (numpy's three past a million
  multiply-adds), and ReLU's gate on a batch one pass (`relu_gate`).
- A neuron's weights and bias are one tuple shared by all its nodes, and a layer's neurons share
  one inputs tuple: the traversal looks at each shared tuple once per graph, not once per node.
- A rule whose output gradient is exactly zero is skipped when it can only add zeros.
- Python's cycle collector is paused while a large graph's rules run: graphs hold no cycles
  to collect.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from operator import attrgetter
from types import ModuleType

from .activations import ACTIVATIONS
from .backprop import run_rule
from .engine import (
    CUSTOM,
    LOG,
    POW,
    POW_CONST,
    RECIPROCAL,
    Value,
    define,
    make_node,
    relu_chain,
    use_backprop,
)
from .numeric import Array, is_array, numpy
from .numeric import relu as relu_forward

KERNELS: ModuleType | None  # the compiled forward (src/micrograd/_kernels.c), if it was built
try:
    from . import _kernels as KERNELS
except ImportError:  # installed without a C compiler: numpy gives the same numbers, slower
    KERNELS = None

__all__ = [
    "FastBackprop",
    "affine",
    "check_features",
    "gather",
    "gc_paused",
    "linear",
    "linear_forward",
    "linear_forward_numpy",
    "linear_gradients",
    "linear_gradients_numpy",
    "neuron",
    "relu_gate",
    "scatter",
    "sum_of_squares",
]

_data_of = attrgetter("_data")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector: micrograd graphs hold no reference cycles, so reference
    counting frees them and the collector would only walk the live graph over and over.

    On the way out the objects made meanwhile are handed to the oldest generation (freeze, then
    unfreeze: two list splices), or the first allocation after re-enabling would walk them all.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()


# -- one node per neuron ---------------------------------------------------------------------
# Invariant: its data is bit for bit w[0]*x[0] + w[1]*x[1] + ... + b (then the activation), and
# its gradients are the chain rule through that chain of nodes.


def _affine(wb: Sequence[Value], x: Sequence[Value]) -> Array:
    """w[0]*x[0] + w[1]*x[1] + ... + b with `wb` = (w..., b), in the workshop's order. It reads
    the nodes' data directly: building lists of floats first costs more than the sum itself."""
    s = 0.0  # as `sum(w*x for ...)` starts, so -0.0 products sum the same way too
    for wi, xi in zip(wb, x):  # noqa: B905 (wb holds one more, the bias; a keyword costs time here)
        s = s + wi._data * xi._data
    return s + wb[-1]._data


def _affine_backward(out: Value, g: Array = None) -> None:
    # _params is (w..., b) and _ctx is x: each weight gets g*x, each input g*w, the bias g.
    wb = out._params
    if g is None:
        g = out.grad
    for w, x in zip(wb, out._ctx):  # noqa: B905 (wb holds one more, the bias; a keyword costs time here)
        w.grad += g * x._data
        x.grad += g * w._data
    wb[-1].grad += g


def _neuron_backward(out: Value) -> None:
    """activation(affine): chain the activation first (`_saved` is its chain function)."""
    _affine_backward(out, out._saved(out.grad, out._data))


_FUSED = {name: (a.forward, a.chain, f"{a.op}(affine)") for name, a in ACTIVATIONS.items()}
AFFINE = define("affine", "affine", _affine, _affine_backward, keeps_shape=False)
NEURON = define("neuron", "act(affine)", _affine, _neuron_backward, keeps_shape=False)


def neuron(wb: tuple[Value, ...], x: tuple[Value, ...], activation: str = "linear") -> Value:
    """The node for `activation(w.x + b)`, `wb` being (w..., b). Pass the same `wb` tuple for
    every call of one neuron (and one `x` tuple for every neuron of a layer): backward then looks
    at each once per graph."""
    z = _affine(wb, x)
    if activation == "linear":
        return make_node(z, x, AFFINE, None, None, wb)
    forward, chain, op = _FUSED[activation]
    return make_node(forward(z), x, NEURON, chain, op, wb)


def affine(w: Sequence[Value], x: Sequence[Value], b: Value) -> Value:
    """One fused node for `w[0]*x[0] + ... + w[n-1]*x[n-1] + b` (a neuron before activation)."""
    if len(w) != len(x) or not x:
        raise ValueError(
            f"affine: needs as many weights as inputs, at least one; got {len(w)} weights "
            f"and {len(x)} inputs"
        )
    return neuron((*w, b), tuple(x))


# -- one node for sum(p * p) ------------------------------------------------------------------
# Invariant: its data is bit for bit `sum(p * p for p in ps)` (the original demo's L2 penalty)
# and each p gets g*p added twice, as the two operands of its `*` node would give it.


def _sum_of_squares(ps: Sequence[Value]) -> float:
    s = 0.0
    for p in ps:
        s = s + p._data * p._data
    return s


def _sum_of_squares_backward(out: Value) -> None:
    g = out.grad
    for p in out._params:
        d = g * p._data
        p.grad += d
        p.grad += d


SUM_OF_SQUARES = define(
    "sum_of_squares", "sum(p*p)", _sum_of_squares, _sum_of_squares_backward, keeps_shape=True
)


def sum_of_squares(ps: Sequence[Value]) -> Value:
    """One node for `sum(p * p for p in ps)` over scalar Values; its children are one tuple, so
    the traversal looks at each once."""
    group = tuple(ps)
    return make_node(_sum_of_squares(group), (), SUM_OF_SQUARES, None, None, group)


# -- one node per layer on a batch -----------------------------------------------------------
# Invariant: out[s, j] is bit for bit what neuron j gives for sample s, because the sum runs
# over the inputs in the same order with the same roundings (no matrix product, which may fuse
# multiply-adds or reorder the sum); the gradients use matrix products. A block of inputs is
# summed in one `add.reduce` over its first axis: with more than one output per input its
# inner loop runs over the outputs, adding the slices in order (with one output it would be a
# pairwise sum, so that case goes one input at a time).

_MEMORY_KEPT = False
_BLOCK_BYTES = 1 << 19  # products held at once: a block stays in the cache


def check_features(x: Value, nin: int) -> Array:
    """The batch `x` holds, after checking it has `nin` features (columns)."""
    xd = x._data
    width = 1 if xd.ndim == 1 else xd.shape[1]
    if width != nin:
        raise ValueError(f"linear: expected {nin} input features, got {width}")
    return xd


def linear_forward(x: Array, W: Array, b: Array, relu: bool = False) -> Array:
    """A whole layer on a batch: x (samples x nin) @ W.T + b, W being (nout x nin), then ReLU
    (as `numeric.relu`) if `relu`.

    With the compiled kernel (`micrograd._kernels`, built at install) W and b are read in place
    (a layer's matrix and its bias column need no copy) and the result is laid out outputs x
    samples and returned transposed: the next layer reads it as its inputs x samples without a
    copy. Without it, numpy sums input by input (`linear_forward_numpy`)."""
    global _MEMORY_KEPT
    if KERNELS is None:
        z = linear_forward_numpy(x, W, b)
        return relu_forward(z) if relu else z
    if not _MEMORY_KEPT:  # once, on the first batched forward (see _kernels.c)
        _MEMORY_KEPT = True
        KERNELS.keep_freed_memory()
    np = numpy()
    x2 = x.reshape(-1, 1) if x.ndim == 1 else x
    xt = np.ascontiguousarray(x2.T, dtype=np.float64)
    zt = np.empty((len(W), len(x2)))
    try:
        KERNELS.linear_t(xt, W, b, zt, relu)
    except TypeError:  # not float64: read as float64, as numpy's sum would
        KERNELS.linear_t(xt, np.asarray(W, np.float64), np.asarray(b, np.float64), zt, relu)
    return zt[0] if len(W) == 1 else zt.T


def linear_forward_numpy(x: Array, W: Array, b: Array) -> Array:
    """`linear_forward` with numpy alone: the same numbers, by blocks of inputs."""
    x2 = x.reshape(-1, 1) if x.ndim == 1 else x
    np = numpy()
    xt, wt = np.ascontiguousarray(x2.T), np.ascontiguousarray(W.T)
    nin, samples, nout = len(xt), len(x2), len(W)
    block = min(nin, _BLOCK_BYTES // (8 * samples * nout) - 1)
    if block < 4 or samples * nout < 2:  # blocks would not pay, or not keep the order
        z = np.zeros((samples, nout))
        term = np.empty_like(z)
        for xi, wi in zip(xt, wt, strict=True):
            np.multiply.outer(xi, wi, out=term)
            z += term
    else:  # outputs x samples, so numpy's inner loops run along the samples
        zt = np.zeros((nout, samples))
        terms = np.empty((block + 1, nout, samples))  # [0]: the sum so far; then products
        for k in range(0, nin, block):
            m = min(block, nin - k)
            terms[0] = zt
            np.multiply(wt[k : k + m, :, None], xt[k : k + m, None, :], out=terms[1 : m + 1])
            zt = np.add.reduce(terms[: m + 1], axis=0)
        z = zt.T
    z += b
    return z[:, 0] if W.shape[0] == 1 else z


# Multiply-adds past which the matrix library's products win (they may use several threads);
# below, its calls cost more than the kernel's work.
_BLAS_FROM = 1 << 20


def linear_gradients(g: Array, W: Array, x: Array) -> tuple[Array, Array]:
    """For `x @ W.T + b` (x samples x nin, W nout x nin, float64) and the gradient `g` at its
    output: the gradient at x, and the (nout x nin+1) gradient of each row's weights then bias.

    With the compiled kernel, for a layer of up to about a million multiply-adds: all three in
    one call, the gradient at x laid out as a kernel's output is (outputs x samples, seen
    transposed: what comes next reads it in its forward's order). Otherwise numpy's
    (`linear_gradients_numpy`). The two agree to rounding: their sums run in other orders."""
    if KERNELS is None or W.size * len(x) > _BLAS_FROM:
        return linear_gradients_numpy(g, W, x)
    np = numpy()
    x2 = x.reshape(-1, 1) if x.ndim == 1 else x
    g2 = g.reshape(-1, 1) if W.shape[0] == 1 else g
    xt = np.ascontiguousarray(x2.T, dtype=np.float64)  # no copy for a kernel's output
    gt = np.ascontiguousarray(g2.T, dtype=np.float64)
    dxt = np.empty(xt.shape)
    G = np.empty((W.shape[0], W.shape[1] + 1))
    KERNELS.linear_backward(gt, xt, W, dxt, G)
    return dxt.T.reshape(x.shape), G


def linear_gradients_numpy(g: Array, W: Array, x: Array) -> tuple[Array, Array]:
    """`linear_gradients` with numpy alone: two matrix products and a sum, the gradient at x
    laid out as x is."""
    np = numpy()
    x2 = x.reshape(-1, 1) if x.ndim == 1 else x
    g2 = g.reshape(-1, 1) if W.shape[0] == 1 else g
    if x2.flags.f_contiguous and not x2.flags.c_contiguous:
        dx = (W.T @ g2.T).T.reshape(x.shape)
    else:
        dx = (g2 @ W).reshape(x.shape)
    G = np.empty((W.shape[0], W.shape[1] + 1))
    np.matmul(g2.T, x2, out=G[:, :-1])
    np.add.reduce(g2, axis=0, out=G[:, -1])
    return dx, G


# Invariant: bit for bit `engine.relu_chain(g, r)`, numpy's where(r <= 0.0, 0.0, g), in one
# pass instead of numpy's several (the compiled kernel, for float64 arrays laid out alike).


def relu_gate(g: Array, r: Array) -> Array:
    """ReLU's backward on a batch: g where the ReLU's output r let its input through, else 0."""
    if (
        KERNELS is not None
        and g.__class__ is r.__class__
        and is_array(g)
        and g.shape == r.shape
        and g.strides == r.strides
    ):
        out = numpy().empty_like(g)
        try:
            KERNELS.relu_gate(g, r, out)
        except (TypeError, ValueError):  # not float64, or not contiguous: the plain way
            pass
        else:
            return out
    return relu_chain(g, r)


def _linear_backward(out: Value) -> None:
    W = out._saved  # the weights as they were in the forward pass
    x, *params = out._ctx
    dx, G = linear_gradients(out.grad, W, x._data)
    x.grad += dx
    grads = [*G[:, :-1].ravel().tolist(), *G[:, -1].tolist()]
    for p, gp in zip(params, grads, strict=True):
        p.grad += gp


LINEAR = define("linear", "linear", linear_forward, _linear_backward, keeps_shape=True)


def linear(x: Value, w: Sequence[Value], b: Sequence[Value]) -> Value:
    """One fused node for a whole layer on a batch: `x @ W.T + b`.

    `x` holds a (samples x nin) array; `w` the nout*nin weights row by row (neuron by neuron);
    `b` the nout biases. The result holds (samples x nout), or (samples,) when nout is 1.
    """
    nout = len(b)
    nin = len(w) // nout if nout else 0
    if nout == 0 or nin * nout != len(w):
        raise ValueError(f"linear: {len(w)} weights do not fill {nout} rows")
    xd = check_features(x, nin)
    np = numpy()
    W = np.array(list(map(_data_of, w))).reshape(nout, nin)
    data = linear_forward(xd, W, np.array(list(map(_data_of, b))))
    return make_node(data, (x, *w, *b), LINEAR, W)


# -- reading and writing many parameters ------------------------------------------------------
# Invariant: the same as reading `p.data` and setting `p.data = x` for each parameter, when every
# x is a float (the optimizers check their gradients first), without a property call each.


def gather(params: Sequence[Value]) -> list[Array]:
    """Every parameter's data, in order."""
    return list(map(_data_of, params))


def scatter(params: Sequence[Value], values: Sequence[float]) -> None:
    """Set every parameter's data to the float at its position."""
    for p, x in zip(params, values, strict=True):
        p._data = x


# -- backward(), faster ----------------------------------------------------------------------

# Rules whose local derivative may be infinite although the forward succeeded (0 ** -0.5, the
# reciprocal of a tiny number): 0 times it is NaN, not 0, so they run even for a zero gradient.
_MAY_BE_INFINITE = frozenset(p.backward for p in (POW_CONST, POW, RECIPROCAL, LOG, CUSTOM))


class FastBackprop:
    """The engine's `backward()` steps, with the same results as `engine.PlainBackprop`."""

    def order(self, root: Value) -> tuple[list[Value], set[Value]]:
        """The nodes that have children, children before parents, root last (an iterative
        post-order depth-first search); and the leaves that hold a gradient or an array.

        Invariant: the same nodes as `topo_sort()` without the leaves, in an order that is also
        topological. Leaves are not pushed (most children are weights, with nothing to run), and
        a shared tuple is looked through once: a layer's inputs tuple once its first reader is
        placed, a neuron's all-leaf (w..., b) tuple once per graph.
        """
        if not root._ctx and not root._params:
            return [], {root}
        order: list[Value] = []
        entered: set[Value] = set()
        done: set[Value] = set()
        carrying: set[Value] = set()
        shared_seen: set[int] = set()
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
                if child._ctx or child._params:
                    if child not in entered:
                        stack.append(child)
                elif child._data.__class__ is not float:
                    carrying.add(child)  # an array leaf (a batch, a layer's parameter block)
                else:
                    g = child.grad
                    if g.__class__ is not float or g:
                        carrying.add(child)  # it holds a gradient or an array: set it aside
            params = node._params
            if (
                params
                and id(params) not in shared_seen
                and _visit_group(params, entered, stack, carrying)
            ):
                shared_seen.add(id(params))
        return order, carrying

    def run_rules(self, nodes: list[Value]) -> None:
        """Invariant: a skipped rule would have added exactly 0 to every child: its gradient is
        0, every value in the graph is finite, and its local derivatives cannot be infinite."""
        if len(nodes) < _PAUSE_FROM:
            self._run(nodes)
        else:
            with gc_paused():
                self._run(nodes)

    def _run(self, nodes: list[Value]) -> None:
        data = list(map(_data_of, nodes))
        if set(map(type, data)) == {float} and math.isfinite(sum(data)):
            may_be_infinite = _MAY_BE_INFINITE
            for node in reversed(nodes):
                if node.grad or node._rule in may_be_infinite:
                    node._rule(node)
        else:
            propagate = run_rule
            for node in reversed(nodes):
                propagate(node)


# Pausing the collector costs about a microsecond: a graph of fewer nodes (a batched one) makes
# too few objects in its rules to set it off.
_PAUSE_FROM = 256


def _visit_group(
    params: tuple[Value, ...], entered: set[Value], stack: list[Value], carrying: set[Value]
) -> bool:
    """The traversal's visit of a node's shared parameters; True if all are leaves (then no
    other node needs to look at them again)."""
    all_leaves = True
    for p in params:
        if p._ctx or p._params:
            all_leaves = False
            if p not in entered:
                stack.append(p)
        elif p._data.__class__ is not float or p.grad.__class__ is not float or p.grad:
            carrying.add(p)  # it holds a gradient or an array: set it aside
    return all_leaves


use_backprop(FastBackprop())
