"""Named regression tests for bugs that autograd engines commonly have (or once had)."""

from __future__ import annotations

import gc
import random
import warnings
from collections.abc import Callable

import numpy as np

from micrograd import MLP, Value, gradcheck
from micrograd.batched import BatchedMLP


def test_reused_node_accumulates_gradient() -> None:
    """`b = a + a` must add both contributions, not overwrite one with the other."""
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0
    assert b.grad == 2.0


def test_reused_node_in_a_product() -> None:
    a = Value(3.0)
    b = a * a
    b.backward()
    assert a.grad == 6.0


def test_node_reused_across_branches() -> None:
    a = Value(-2.0)
    b = a * 3
    out = b * b + b.tanh() + b
    out.backward()
    t = np.tanh(-6.0)
    assert abs(a.grad - 3 * (2 * -6.0 + (1 - t * t) + 1)) < 1e-12


def test_million_node_chain_forward_backward_and_topo_sort() -> None:
    """Deep graphs must not hit Python's recursion limit in topo_sort, backward or freeing."""
    n = 1_000_000
    a = Value(0.5)
    nodes = [a]
    x = a
    for _ in range(n):
        x = x.relu()
        nodes.append(x)
    assert x.data == 0.5

    topo = x.topo_sort()
    assert len(topo) == n + 1
    assert topo[0] is a
    assert topo[-1] is x
    # A chain has exactly one topological order: the order the nodes were made in.
    assert all(t is v for t, v in zip(topo, nodes, strict=True))
    del topo

    x.backward()
    assert a.grad == 1.0
    assert nodes[n // 2].grad == 1.0
    del nodes, x  # freeing a million-deep chain must not overflow the C stack either


def test_backward_twice_leaves_double_intermediates_do_not() -> None:
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    d = c + a
    d.backward()
    assert (a.grad, b.grad, c.grad, d.grad) == (-2.0, 2.0, 1.0, 1.0)
    d.backward()
    assert (a.grad, b.grad) == (-4.0, 4.0)
    assert (c.grad, d.grad) == (1.0, 1.0)


def test_backward_twice_doubles_leaf_gradient_bitwise() -> None:
    x = Value(0.5)
    out = x * 1e-17 + (x - x)
    out.backward()
    first = x.grad
    assert first == 1e-17
    out.backward()
    # Each call adds its own total, as in PyTorch; a running sum would give 1e-17 here, the +1
    # and -1 of the second call swallowing the first call's gradient.
    assert x.grad == 2 * first


def test_backward_twice_doubles_every_parameter_gradient_exactly() -> None:
    model = MLP(3, [4, 4, 1], rng=_rng())
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    loss = sum((model(x) - y) ** 2 for x, y in zip(xs, [1.0, -1.0, -1.0, 1.0], strict=True))
    loss.backward()
    first = [p.grad for p in model.parameters()]
    loss.backward()
    assert [p.grad for p in model.parameters()] == [2 * g for g in first]


def test_zero_grad_then_backward_gives_single_gradient() -> None:
    model = MLP(3, [4, 4, 1], rng=_rng())
    x = [2.0, 3.0, -1.0]
    model(x).backward()
    first = [p.grad for p in model.parameters()]
    assert any(g != 0.0 for g in first)
    model(x).backward()
    assert [p.grad for p in model.parameters()] == [2 * g for g in first]
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    model(x).backward()
    assert [p.grad for p in model.parameters()] == first


def test_original_readme_example() -> None:
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    assert f"{g.data:.4f}" == "24.7041"
    g.backward()
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"


def _live_values() -> int:
    # isinstance on every live object touches torch's deprecated module aliases when an earlier
    # test imported torch: their FutureWarning says nothing about this test
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return sum(1 for o in gc.get_objects() if isinstance(o, Value))


def _graph_is_freed(build: Callable[[], object]) -> tuple[int, int]:
    """With the cycle collector off, build a graph, let it go, and count the Values still alive:
    anything kept alive only by a reference cycle would still be there."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        before = _live_values()
        out = build()
        built = _live_values() - before
        del out
        left = _live_values() - before
    finally:
        if was_enabled:
            gc.enable()
    return built, left


def test_no_reference_cycles_scalar_graph() -> None:
    def build() -> object:
        a, b = Value(1.5), Value(-0.5)
        out = ((a * b + a) ** 2 / (abs(b) + 1)).tanh() + 2**a + (a - b).relu().exp().log()
        out.backward()
        _ = out._backward  # looking at the contract's attribute must not create a cycle
        return out

    built, left = _graph_is_freed(build)
    assert built > 10
    assert left == 0


def test_no_reference_cycles_mlp_training_step() -> None:
    def build() -> object:
        model = MLP(3, [4, 4, 1], rng=_rng())
        loss = sum((model(x) - y) ** 2 for x, y in [([1.0, 2.0, 3.0], 1.0), ([0.5, -1, 2], -1)])
        loss.backward()
        model.update_parameters()
        return loss

    built, left = _graph_is_freed(build)
    assert built > 41
    assert left == 0


def test_no_reference_cycles_batched_graph() -> None:
    def build() -> object:
        model = BatchedMLP(3, [4, 1], rng=_rng())
        X = np.arange(12.0).reshape(4, 3) / 10
        loss = ((model(X) - Value(np.ones(4))) ** 2).mean()
        loss.backward()
        return loss

    built, left = _graph_is_freed(build)
    assert built >= 10  # per layer a product, a transpose, a sum and an activation; the loss
    assert left == 0


def test_workshop_style_custom_backward() -> None:
    """The workshop builds nodes by hand and assigns `out._backward = fn`; that must still work,
    alone and mixed with built-in operations, and backward() twice must not double count it."""
    a, b = Value(2.0), Value(-3.0)
    out = Value(a.data * b.data, (a, b), "*")

    def _backward() -> None:
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad

    out._backward = _backward
    assert out._prev == {a, b}
    assert out._op == "*"
    y = (out + 1).tanh()
    y.backward()
    dy = 1 - np.tanh(-5.0) ** 2
    assert abs(a.grad - dy * -3.0) < 1e-12
    assert abs(b.grad - dy * 2.0) < 1e-12
    assert abs(out.grad - dy) < 1e-12
    y.backward()
    assert abs(a.grad - 2 * dy * -3.0) < 1e-12
    assert abs(out.grad - dy) < 1e-12


def _cube(self: Value) -> Value:
    out = Value(self.data**3, (self,), "**3")

    def _backward() -> None:
        self.grad += 3 * self.data**2 * out.grad

    out._backward = _backward
    return out


def test_workshop_style_new_operation_passes_gradcheck() -> None:
    def f(x: Value, y: Value) -> Value:
        return _cube(x * y) + x

    report = gradcheck(f, [Value(0.7, label="x"), Value(-1.2, label="y")])
    assert report, str(report)
    x = Value(0.7)
    _cube(x).backward()
    assert abs(x.grad - 3 * 0.49) < 1e-12


def test_custom_backward_called_once_per_backward() -> None:
    calls = []
    a = Value(1.0)
    out = Value(a.data, (a,), "id")

    def _backward() -> None:
        calls.append(1)
        a.grad += out.grad

    out._backward = _backward
    y = out * out + out
    y.backward()
    assert len(calls) == 1
    assert a.grad == 3.0


def test_custom_backward_in_a_batched_graph() -> None:
    x = Value(np.array([1.0, 2.0, 3.0]))
    out = Value(x.data * 2, (x,), "double")

    def _backward() -> None:
        x.grad += 2 * out.grad

    out._backward = _backward
    (out * Value(0.5)).sum().backward()
    assert np.array_equal(x.grad, np.ones(3))


def test_gradient_flows_into_constants_without_affecting_results() -> None:
    a = Value(2.0)
    out = 3 * a + 1
    out.backward()
    out.backward()
    assert a.grad == 6.0
    assert out.data == 7.0


def test_a_step_keeps_data_a_float() -> None:
    p = Value(1.0)
    p.grad = 0.5
    p.data -= 0.1 * p.grad
    assert type(p.data) is float


def test_backward_on_a_leaf() -> None:
    a = Value(2.0)
    a.backward()
    assert a.grad == 1.0


def _rng() -> random.Random:
    return random.Random(7)


def test_zero_gradient_skips_rules_but_not_hand_written_backward() -> None:
    a, b = Value(-1.0), Value(3.0)
    dead = (a * b).relu()  # relu is off: its input's rule sees a zero gradient
    calls = []
    custom = Value(0.0, (a,), "custom")
    custom._backward = lambda: calls.append(custom.grad)
    out = dead * 2.0 + custom * 0.0
    out.backward()
    assert (a.grad, b.grad) == (0.0, 0.0)
    assert calls == [0.0]  # ran although its gradient was zero


def test_neuron_uses_replaced_and_computed_weights_across_samples() -> None:
    from micrograd import Neuron

    n = Neuron(2, activation="linear", rng=_rng())
    a = Value(0.5)
    n.w[0] = a * 2.0  # a computed weight, shared by every sample's node
    total = n([1.0, 1.0]) + n([2.0, 1.0])
    total.backward()
    assert a.grad == 2.0 * (1.0 + 2.0)
    order = total.topo_sort()
    assert order.index(n.w[0]) < min(i for i, v in enumerate(order) if v._op == "w·x+b")
    n.w[1] = Value(3.0)  # replaced in place: the next call must use it
    assert n([0.0, 1.0]).data == 3.0 + n.b.data


def test_shared_inputs_reached_again_through_a_computed_weight() -> None:
    """Two neuron nodes read the same inputs, and one's weight is computed from the other: the
    order must place the inner node and its inputs before the outer one."""
    from micrograd.engine import neuron

    def f(a: Value, b: Value) -> Value:
        inputs = [a * 1.0, b * 1.0]  # non-leaf inputs, read by both nodes
        inner = neuron(inputs, [Value(0.5), Value(-1.0)], Value(0.1))
        weight = inner * 2.0
        return neuron(inputs, [weight, Value(1.0)], Value(0.0))

    out = f(Value(2.0), Value(3.0))
    order = out.topo_sort()
    position = {v: i for i, v in enumerate(order)}
    assert all(position[c] < position[v] for v in order for c in v._prev)
    assert gradcheck(f, [2.0, 3.0])
