"""The fast path against the plain way: each trick in `micrograd.fused` keeps its invariant.

Random graphs mix plain operations with fused neuron nodes that share their weight tuples and
their input tuples (as a layer's neurons do), with computed Values among the weights and the
inputs, so the shared-tuple traversal meets every case it skips work in.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import MLP, Value, engine
from micrograd.activations import ACTIVATIONS
from micrograd.fused import FastBackprop, affine, linear, neuron

ACTS = ["linear", "relu", "tanh", "sigmoid"]


def build(seed: int, steps: int) -> tuple[list[Value], Value]:
    """A random graph over four leaves; returns (leaves, scalar output)."""
    rng = random.Random(seed)
    leaves = [Value(rng.uniform(-2, 2), label=f"x{i}") for i in range(4)]
    nodes: list[Value] = list(leaves)
    shared_inputs: list[tuple[Value, ...]] = []
    shared_weights: list[tuple[Value, ...]] = []
    for _ in range(steps):
        kind = rng.random()
        if kind < 0.35:
            a, b = rng.choice(nodes), rng.choice(nodes)
            nodes.append(rng.choice([a + b, a * b, a - b, (a * a + 1).log(), a.tanh(), a.relu()]))
        else:
            n = rng.randint(1, 3)
            if shared_inputs and rng.random() < 0.6:
                xs = rng.choice(shared_inputs)  # the same tuple object: a layer's shared inputs
            else:
                xs = tuple(rng.choice(nodes) for _ in range(n))
                shared_inputs.append(xs)
            fits = [wb for wb in shared_weights if len(wb) == len(xs) + 1]
            if fits and rng.random() < 0.6:
                wb = rng.choice(fits)  # the same (w..., b) tuple: one neuron, many samples
            else:
                wb = tuple(
                    rng.choice(nodes) if rng.random() < 0.2 else Value(rng.uniform(-1, 1))
                    for _ in range(len(xs) + 1)
                )
                shared_weights.append(wb)
            nodes.append(neuron(wb, xs, rng.choice(ACTS)))
    out = nodes[-1]
    for v in nodes[-4:-1]:
        out = out + v * 0.5
    return leaves, out


def backprop_with(backprop: engine.Backprop, seed: int, steps: int) -> list[float]:
    before = engine.use_backprop(backprop)
    try:
        leaves, out = build(seed, steps)
        out.backward()
        return [v.grad for v in leaves]
    finally:
        engine.use_backprop(before)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 10**6), steps=st.integers(1, 25))
def test_fast_traversal_places_the_same_nodes_in_a_valid_order(seed: int, steps: int) -> None:
    _, out = build(seed, steps)
    order, _ = FastBackprop().order(out)
    plain = [v for v in out.topo_sort() if v._ctx or v._params]
    assert sorted(map(id, order)) == sorted(map(id, plain))
    position = {id(v): i for i, v in enumerate(order)}
    assert order[-1] is out
    assert all(
        position[id(c)] < position[id(v)] for v in order for c in v.children if id(c) in position
    )


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 10**6), steps=st.integers(1, 25))
def test_fast_backward_gives_the_plain_gradients(seed: int, steps: int) -> None:
    fast = backprop_with(FastBackprop(), seed, steps)
    plain = backprop_with(engine.PlainBackprop(), seed, steps)
    for f, p in zip(fast, plain, strict=True):
        assert math.isclose(f, p, rel_tol=1e-12, abs_tol=1e-12), (fast, plain)


def test_skipping_zero_gradients_keeps_pytorchs_nan_for_an_infinite_slope() -> None:
    x = Value(0.0)
    (x.sqrt() * 0.0).backward()  # 0 * d sqrt/dx at 0 is 0 * inf: NaN, as PyTorch gives
    assert math.isnan(x.grad)


@pytest.mark.parametrize("activation", ACTS)
def test_a_neuron_node_is_the_chain_of_value_operations(activation: str) -> None:
    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(1, 8)
        w = [Value(rng.uniform(-1, 1)) for _ in range(n)]
        b = Value(rng.uniform(-1, 1))
        x = [Value(rng.uniform(-3, 3)) for _ in range(n)]
        fused = neuron((*w, b), tuple(x), activation)
        products = (wi * xi for wi, xi in zip(w, x, strict=True))
        chain = ACTIVATIONS[activation].apply(sum(products, Value(0.0)) + b)
        assert fused.data == chain.data
        fused.backward()
        fast = [v.grad for v in (*w, b, *x)]
        for v in (*w, b, *x):
            v.grad = 0.0
        chain.backward()
        for f, c in zip(fast, [v.grad for v in (*w, b, *x)], strict=True):
            assert math.isclose(f, c, rel_tol=1e-14, abs_tol=1e-15)


def test_affine_refuses_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="2 weights and 3 inputs"):
        affine([Value(1.0)] * 2, [Value(1.0)] * 3, Value(0.0))


def test_a_linear_node_is_each_neuron_on_each_sample_bit_for_bit() -> None:
    rng = np.random.default_rng(1)
    model = MLP(5, [7, 3], activation="linear", rng=random.Random(1))
    layer = model.layers[0]
    X = rng.normal(size=(40, 5))
    out = linear(Value(X), [w for n in layer.neurons for w in n.w], [n.b for n in layer.neurons])
    expected = [[n(list(x)).data for n in layer.neurons] for x in X]
    assert np.array_equal(out.data, np.array(expected))


def test_linear_gradients_are_the_sum_of_per_sample_gradients() -> None:
    rng = np.random.default_rng(2)
    model = MLP(3, [4, 2], activation="tanh", rng=random.Random(2))
    X = rng.normal(size=(6, 3))
    model(X).sum().backward()  # type: ignore[union-attr]
    batched = [p.grad for p in model.parameters()]
    model.zero_grad()
    total = sum((sum(model(list(x))) for x in X), Value(0.0))  # type: ignore[arg-type]
    total.backward()
    for b, s in zip(batched, [p.grad for p in model.parameters()], strict=True):
        assert math.isclose(b, s, rel_tol=1e-12, abs_tol=1e-12)
