"""Batched mode: a model called on a (samples x features) array equals the model called on each
sample, in values and in gradients; array Values broadcast and reduce like numpy/PyTorch."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from helpers import assert_close, check_op, require_torch

from micrograd import MLP, Layer, Neuron, Value

TOL = 1e-12


def make_data(n: int = 7, nin: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-2.0, 2.0, size=(n, nin))


ARCHITECTURES = [
    (3, [4, 4, 1], "relu"),
    (3, [4, 4, 1], "tanh"),
    (3, [5, 1], "sigmoid"),
    (3, [1], "relu"),
    (3, [4, 3], "tanh"),
    (3, [2, 4, 2], "relu"),
]


def _per_sample(model: MLP, row: np.ndarray) -> list[float]:
    out = model(list(row))
    return [o.data for o in out] if isinstance(out, list) else [out.data]


@pytest.mark.parametrize(("nin", "nouts", "activation"), ARCHITECTURES)
def test_batched_forward_equals_per_sample(nin: int, nouts: list[int], activation: str) -> None:
    model = MLP(nin, nouts, activation, rng=random.Random(1))
    X = make_data(nin=nin)
    out = model(X)
    assert isinstance(out, Value)
    expected_shape = (len(X),) if nouts[-1] == 1 else (len(X), nouts[-1])
    assert out.data.shape == expected_shape
    for i in range(len(X)):
        row = out.data[i] if nouts[-1] > 1 else [out.data[i]]
        assert_close(row, _per_sample(model, X[i]), f"sample {i}", TOL, TOL)


@pytest.mark.parametrize(("nin", "nouts", "activation"), ARCHITECTURES)
def test_batched_gradients_equal_sum_of_per_sample_gradients(
    nin: int, nouts: list[int], activation: str
) -> None:
    model = MLP(nin, nouts, activation, rng=random.Random(2))
    X = make_data(nin=nin, seed=1)
    weights = np.linspace(0.5, 1.5, nouts[-1])

    out = model(X)
    loss = (out * Value(weights)).sum() if nouts[-1] > 1 else out.sum()
    loss.backward()
    batched = [p.grad for p in model.parameters()]
    assert all(type(g) is float for g in batched), "a scalar parameter's gradient is summed"

    model.zero_grad()
    for row in X:
        o = model(list(row))
        if isinstance(o, list):
            sample_loss = sum(w * oi for w, oi in zip(weights, o, strict=True))
        else:
            sample_loss = o
        sample_loss.backward()  # leaves accumulate: this sums the per-sample gradients
    assert_close(batched, [p.grad for p in model.parameters()], "parameter gradients", 1e-10, TOL)


def test_batched_mse_loss_and_input_gradients_equal_per_sample() -> None:
    model = MLP(3, [4, 4, 1], "tanh", rng=random.Random(3))
    X = make_data(n=5, seed=2)
    y = np.array([1.0, -1.0, -1.0, 1.0, 0.5])
    Xv = Value(X)
    loss = ((model(Xv) - Value(y)) ** 2).mean()
    loss.backward()
    grads = [p.grad for p in model.parameters()]

    model.zero_grad()
    rows = [[Value(v) for v in row] for row in X]
    per_sample = sum((model(r) - t) ** 2 for r, t in zip(rows, y, strict=True)) / len(y)
    per_sample.backward()
    assert_close(loss.data, per_sample.data, "loss", TOL, TOL)
    assert_close(grads, [p.grad for p in model.parameters()], "parameter gradients", 1e-10, TOL)
    assert Xv.grad.shape == X.shape
    assert_close(Xv.grad, [[v.grad for v in r] for r in rows], "input gradients", 1e-10, TOL)


def test_multi_output_shape_and_rows() -> None:
    model = MLP(3, [4, 2], rng=random.Random(4))
    X = make_data(n=6)
    out = model(X)
    assert out.data.shape == (6, 2)
    for i in range(6):
        assert_close(out.data[i], _per_sample(model, X[i]), f"row {i}", TOL, TOL)


def test_batch_of_one_and_a_one_dimensional_array_is_one_sample() -> None:
    model = MLP(3, [4, 1], rng=random.Random(5))
    X = make_data(n=1)
    assert model(X).data.shape == (1,)
    single = model(X[0])
    assert isinstance(single, Value) and type(single.data) is float
    assert_close(model(X).data[0], single.data, "batch of one", TOL, TOL)


def test_neuron_and_layer_in_batched_mode() -> None:
    X = make_data(n=4)
    neuron = Neuron(3, "tanh", rng=random.Random(6))
    out = neuron(X)
    assert out.data.shape == (4,)
    for i in range(4):
        assert_close(out.data[i], neuron(list(X[i])).data, f"neuron sample {i}", TOL, TOL)
    layer = Layer(3, 2, "linear", rng=random.Random(7))
    lout = layer(X)
    assert isinstance(lout, Value)
    assert lout._op == "linear"  # one fused node for the whole layer
    assert lout.data.shape == (4, 2)
    assert isinstance(Layer(3, 1)(X), Value)


def test_batched_training_matches_per_sample_training() -> None:
    X = np.array([[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]])
    y = np.array([1.0, -1.0, -1.0, 1.0])

    def train(batched: bool) -> list[float]:
        model = MLP(3, [4, 4, 1], rng=random.Random(0))
        losses = []
        for _ in range(10):
            if batched:
                loss = ((model(X) - Value(y)) ** 2).mean()
            else:
                loss = sum((model(list(x)) - t) ** 2 for x, t in zip(X, y, strict=True)) / len(y)
            model.zero_grad()
            loss.backward()
            model.update_parameters()
            losses.append(loss.data)
        return losses

    assert_close(train(True), train(False), "losses", 1e-10, TOL)


def test_backward_twice_accumulates_array_leaves() -> None:
    x = Value(np.array([1.0, 2.0, 3.0]))
    w = Value(0.5)
    out = (x * w).sum()
    out.backward()
    assert np.array_equal(x.grad, [0.5, 0.5, 0.5])
    assert w.grad == 6.0
    out.backward()
    assert np.array_equal(x.grad, [1.0, 1.0, 1.0])
    assert w.grad == 12.0


def test_reductions_shapes() -> None:
    X = make_data(n=4)
    assert Value(X).sum(axis=1).data.shape == (4,)
    assert Value(X).sum(axis=0).data.shape == (3,)
    assert type(Value(X).sum().data) is float
    assert type(Value(X).mean().data) is float
    assert type(Value(X).sum(axis=1).mean().data) is float
    assert Value(2.0).sum().data == 2.0 and Value(2.0).mean().data == 2.0


X23 = np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.1]])


def same(fn: Any, inputs: list[Any], case_id: str) -> Any:
    return pytest.param(fn, fn, inputs, id=case_id)


@pytest.mark.parametrize(
    ("fn_mg", "fn_torch", "inputs"),
    [
        same(lambda x, w: (x * w).sum(), [X23, 1.5], "scalar-times-array"),
        same(lambda x, w: (x + w).tanh().mean(), [X23, -0.4], "scalar-plus-array"),
        same(lambda x, w: (w / (x * x + 1)).sum(axis=1), [X23, 0.7], "scalar-over-array"),
        same(
            lambda x, w: (x * w).sum(axis=1).mean(),
            [X23, np.array([0.5, -1.0, 2.0])],
            "row-vector-broadcast",
        ),
        same(
            lambda x, w: (x * w).sigmoid().sum(axis=0),
            [X23, np.array([[2.0], [-0.5]])],
            "column-vector-broadcast",
        ),
        same(
            lambda x, w: ((x - w) ** 2).mean(axis=0),
            [X23, np.array([0.1, 0.2, 0.3])],
            "mse-per-column",
        ),
        same(lambda x, w: (abs(x) + w).log().sum() + (x * 2).exp().mean(), [X23, 1.2], "log-exp"),
        same(lambda x, w: (abs(x) ** w).sum(), [X23, 0.8], "array-to-scalar-power"),
        same(lambda x, w: (w**x).sum(), [X23, 1.7], "scalar-to-array-power"),
        same(lambda x, w: (1 - x / w).relu().sum(), [X23, 2.0], "relu-rsub-div"),
        pytest.param(
            lambda x, w: (x * w - x // 0.7).sum(),
            lambda x, w: (x * w - (x / 0.7).floor()).sum(),
            [X23, 2.0],
            id="floordiv",
        ),
    ],
)
def test_broadcasting_ops_match_pytorch(fn_mg: Any, fn_torch: Any, inputs: list[Any]) -> None:
    """A scalar (or smaller array) used with a bigger array gets its gradient summed back."""
    check_op(fn_mg, fn_torch, inputs)


def test_batched_mlp_input_gradient_matches_pytorch() -> None:
    torch = require_torch()
    model = MLP(3, [4, 2], "tanh", rng=random.Random(8))
    X = make_data(n=3)

    def fn_torch(x: Any) -> Any:
        h = x
        for layer in model.layers:
            W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64)
            b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64)
            h = h @ W.T + b
            if layer.activation == "tanh":
                h = h.tanh()
        return h

    check_op(model, fn_torch, [X])
