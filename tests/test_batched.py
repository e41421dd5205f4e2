"""Batched mode: a `BatchedMLP` called on a (samples x features) array equals its `MLP` called
on each sample, in values and gradients, to rounding (1e-12 relative: a matrix product sums in
another order); conversions keep every weight exactly; array Values broadcast and reduce like
numpy/PyTorch."""

from __future__ import annotations

import json
import random
from typing import Any

import numpy as np
import pytest
from helpers import assert_close, check_op, require_torch

from micrograd import MLP, Value
from micrograd.batched import (
    BatchedMLP,
    Linear,
    Spare,
    batched,
    dense,
    flat_parameters,
    per_sample,
)
from micrograd.losses import cross_entropy, hinge_loss, l2_penalty
from micrograd.nn import ACTIVATIONS
from micrograd.optim import SGD, Adam

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


def _flat_grads(model: BatchedMLP) -> list[float]:
    """The batched gradients in `MLP.parameters()` order: row by row, weights then bias."""
    return [
        g
        for layer in model.layers
        for g in np.hstack([layer.weight.grad, layer.bias.grad[:, None]]).ravel().tolist()
    ]


@pytest.mark.parametrize(("nin", "nouts", "activation"), ARCHITECTURES)
def test_batched_forward_equals_per_sample(nin: int, nouts: list[int], activation: str) -> None:
    model = MLP(nin, nouts, activation, rng=random.Random(1))
    X = make_data(nin=nin)
    out = BatchedMLP.from_mlp(model)(X)
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
    bm = BatchedMLP.from_mlp(model)
    X = make_data(nin=nin, seed=1)
    weights = np.linspace(0.5, 1.5, nouts[-1])

    out = bm(X)
    loss = (out * Value(weights)).sum() if nouts[-1] > 1 else out.sum()
    loss.backward()
    for p in bm.parameters():
        assert p.grad.shape == p.data.shape

    for row in X:
        o = model(list(row))
        if isinstance(o, list):
            sample_loss = sum(w * oi for w, oi in zip(weights, o, strict=True))
        else:
            sample_loss = o
        sample_loss.backward()  # leaves accumulate: this sums the per-sample gradients
    per_sample = [p.grad for p in model.parameters()]
    assert_close(_flat_grads(bm), per_sample, "parameter gradients", 1e-10, TOL)


def test_batched_mse_loss_and_input_gradients_equal_per_sample() -> None:
    model = MLP(3, [4, 4, 1], "tanh", rng=random.Random(3))
    bm = BatchedMLP.from_mlp(model)
    X = make_data(n=5, seed=2)
    y = np.array([1.0, -1.0, -1.0, 1.0, 0.5])
    Xv = Value(X)
    loss = ((bm(Xv) - Value(y)) ** 2).mean()
    loss.backward()

    rows = [[Value(v) for v in row] for row in X]
    per_sample = sum((model(r) - t) ** 2 for r, t in zip(rows, y, strict=True)) / len(y)
    per_sample.backward()
    assert_close(loss.data, per_sample.data, "loss", TOL, TOL)
    assert_close(_flat_grads(bm), [p.grad for p in model.parameters()], "grads", 1e-10, TOL)
    assert Xv.grad.shape == X.shape
    assert_close(Xv.grad, [[v.grad for v in r] for r in rows], "input gradients", 1e-10, TOL)


def test_multi_output_shape_and_rows() -> None:
    model = MLP(3, [4, 2], rng=random.Random(4))
    X = make_data(n=6)
    out = BatchedMLP.from_mlp(model)(X)
    assert out.data.shape == (6, 2)
    for i in range(6):
        assert_close(out.data[i], _per_sample(model, X[i]), f"row {i}", TOL, TOL)


def test_a_batch_of_one_and_a_list_of_rows() -> None:
    model = MLP(3, [4, 1], rng=random.Random(5))
    bm = BatchedMLP.from_mlp(model)
    X = make_data(n=1)
    assert bm(X).data.shape == (1,)
    assert_close(bm(X).data[0], model(X[0]).data, "batch of one", TOL, TOL)
    assert_close(bm(X.tolist()).data, bm(X).data, "list of rows", 0.0, 0.0)


def test_a_per_sample_model_refuses_a_batch_and_says_what_to_use() -> None:
    with pytest.raises(TypeError, match=r"shape \(4, 3\).*micrograd\.batched"):
        MLP(3, [4, 1])(make_data(n=4))
    with pytest.raises(TypeError, match=r"list of rows.*micrograd\.batched"):
        MLP(3, [4, 1])(make_data(n=4).tolist())


def test_bad_batches_are_named() -> None:
    bm = BatchedMLP(3, [2])
    with pytest.raises(ValueError, match=r"\(samples, 3\).*\(4, 2\)"):
        bm(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"same length.*\[2, 3\]"):
        bm([[1.0, 2.0, 3.0], [1.0, 2.0]])
    with pytest.raises(TypeError, match="2-D array"):
        bm("abc")
    with pytest.raises(ValueError, match=r"\(nout, nin\)"):
        Linear(np.zeros((2, 3)), np.zeros(3))


def test_same_arguments_draw_the_same_weights_as_the_per_sample_model() -> None:
    a = MLP(2, [8, 3], "tanh", output_activation="sigmoid", rng=random.Random(9))
    b = BatchedMLP(2, [8, 3], "tanh", output_activation="sigmoid", rng=random.Random(9))
    assert flat_parameters(a) == flat_parameters(b)
    assert [layer.activation for layer in b.layers] == ["tanh", "sigmoid"]
    assert b.layer_sizes == a.layer_sizes == [2, 8, 3]


def test_conversions_keep_every_weight_exactly_both_ways() -> None:
    model = MLP(3, [5, 4, 2], "tanh", output_activation="sigmoid", rng=random.Random(10))
    bm = BatchedMLP.from_mlp(model)
    assert flat_parameters(bm) == flat_parameters(model)
    back = bm.to_mlp()
    assert flat_parameters(back) == flat_parameters(model)
    assert (back.activation, back.output_activation) == ("tanh", "sigmoid")
    assert [layer.activation for layer in back.layers] == ["tanh", "tanh", "sigmoid"]
    # a copy, not a view: training one leaves the other as it was
    bm.layers[0].weight.data = bm.layers[0].weight.data + 1.0
    assert flat_parameters(back) == flat_parameters(model)
    assert batched(bm) is bm and isinstance(batched(model), BatchedMLP)
    assert per_sample(model) is model
    assert flat_parameters(per_sample(bm)) == flat_parameters(bm)


def test_array_data_is_kept_as_float64_without_a_copy() -> None:
    a = np.array([[1.0, 2.0]])
    assert Value(a).data is a  # already float64: the very array
    ints = Value(np.array([1, 2])).data
    assert ints.dtype == np.float64 and ints.tolist() == [1.0, 2.0]
    masked = Value(np.ma.array([1.0, 2.0])).data
    assert type(masked) is np.ndarray  # a subclass becomes a plain array
    assert Value(np.float32(0.5)).data == 0.5 and type(Value(np.float32(0.5)).data) is float


def test_parameter_order_maps_to_the_per_sample_order() -> None:
    """[W0, b0, W1, b1, ...]; each layer's [W | b] read row by row is MLP.parameters()."""
    model = MLP(2, [3, 1], rng=random.Random(11))
    bm = BatchedMLP.from_mlp(model)
    assert [p.data.shape for p in bm.parameters()] == [(3, 2), (3,), (1, 3), (1,)]
    n = model.layers[0].neurons[1]
    assert bm.layers[0].weight.data[1].tolist() == [w.data for w in n.w]
    assert bm.layers[0].bias.data[1] == n.b.data


def test_a_step_of_batched_training_matches_per_sample_training() -> None:
    """Hinge + L2 with SGD, and cross-entropy with Adam: the same losses, step by step."""
    X = make_data(n=8, nin=2, seed=3)
    y = np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)
    classes = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)

    def run(batch: bool, loss_name: str) -> list[float]:
        nout = 3 if loss_name == "ce" else 1
        model: Any = MLP(2, [6, nout], "tanh", rng=random.Random(12))
        if batch:
            model = BatchedMLP.from_mlp(model)
        params = model.parameters()
        opt: Any = Adam(params, lr=0.05) if loss_name == "ce" else SGD(params, lr=0.1)
        losses = []
        for _ in range(8):
            out = model(X) if batch else [model(list(x)) for x in X]
            if loss_name == "ce":
                loss = cross_entropy(out, classes)
            else:
                loss = hinge_loss(out, y) + 1e-3 * l2_penalty(params)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.data)
        return losses

    for loss_name in ("hinge", "ce"):
        assert_close(run(True, loss_name), run(False, loss_name), loss_name, 1e-10, TOL)


def test_batched_training_matches_per_sample_training() -> None:
    X = np.array([[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]])
    y = np.array([1.0, -1.0, -1.0, 1.0])

    def train(batch: bool) -> list[float]:
        model: Any = MLP(3, [4, 4, 1], rng=random.Random(0))
        if batch:
            model = BatchedMLP.from_mlp(model)
        losses = []
        for _ in range(10):
            if batch:
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
    model = BatchedMLP(3, [4, 2], "tanh", rng=random.Random(8))
    X = make_data(n=3)

    def fn_torch(x: Any) -> Any:
        h = x
        for layer in model.layers:
            W = torch.tensor(layer.weight.data, dtype=torch.float64)
            b = torch.tensor(layer.bias.data, dtype=torch.float64)
            h = h @ W.T + b
            if layer.activation == "tanh":
                h = h.tanh()
        return h

    check_op(model, fn_torch, [X])


@pytest.mark.parametrize(
    ("fn", "inputs"),
    [
        pytest.param(lambda a, b: (a @ b).sum(), [X23, X23.T * 0.5], id="matmul"),
        pytest.param(lambda a, b: (a @ b.T).tanh().sum(), [X23, X23[::-1] + 0.3], id="matmul-T"),
    ],
)
def test_array_primitives_match_pytorch(fn: Any, inputs: list[Any]) -> None:
    check_op(fn, fn, inputs)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_a_layer_on_a_batch_is_one_node_matching_pytorch(activation: str) -> None:
    """`dense(x, W, b, act)` is `act(torch.nn.functional.linear(x, W, b))`, as one node."""
    torch = require_torch()
    W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    b = np.array([0.1, -0.2])
    torch_act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}
    act = torch_act.get(activation, lambda t: t)
    check_op(
        lambda x, w, c: dense(x, w, c, activation),
        lambda x, w, c: act(torch.nn.functional.linear(x, w, c)),
        [X23, W, b],
    )
    layer = Linear(W, b, activation)
    out = layer(Value(X23))
    assert out.children == (out.children[0], layer.weight, layer.bias)
    assert "x@W.T+b" in out._op


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_the_one_node_layer_equals_the_plain_way(activation: str) -> None:
    """The fast path (activation in place, its derivative read from the output) against the
    plain way: the engine's `@`, `+` and activation nodes, in values and every gradient."""
    rng = np.random.default_rng(1)
    xd, Wd, bd = rng.normal(size=(6, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)

    def run(fast: bool) -> tuple[Any, ...]:
        x, W, b = Value(xd.copy()), Value(Wd.copy()), Value(bd.copy())
        y = dense(x, W, b, activation) if fast else ACTIVATIONS[activation](x @ W.T + b)
        (y * Value(rng_weights)).sum().backward()
        return y.data, x.grad, W.grad, b.grad

    rng_weights = rng.normal(size=(6, 4))
    for fast, plain in zip(run(True), run(False), strict=True):
        np.testing.assert_array_equal(fast, plain)


def test_spare_arrays_are_lent_only_when_nothing_else_holds_them() -> None:
    """A layer reuses a large output array of an earlier step only once it is free: outputs and
    gradients a caller still holds are never written over (named after the danger)."""
    rng = np.random.default_rng(3)
    layer = Linear(rng.normal(size=(200, 200)), rng.normal(size=200), "tanh")
    first = layer(Value(rng.normal(size=(100, 200))))  # 100 x 200 floats (160 KB): lent
    first_data = first.data.copy()
    held = []
    for k in range(6):
        h = Value(rng.normal(size=(100, 200)))
        y = layer(h)  # its input's gradient is lent too
        (y * float(k)).sum().backward()
        held.append((y, y.data.copy(), h, h.grad.copy()))
    np.testing.assert_array_equal(first.data, first_data)
    for y, data, h, grad in held:  # each still held: its arrays are its own
        np.testing.assert_array_equal(y.data, data)
        np.testing.assert_array_equal(h.grad, grad)
    assert 0 < len(layer.spare.arrays) <= Spare.KEPT
    del first, held, y, h
    lent = layer.spare.take((100, 200))
    assert lent is not None and any(lent is a for a in layer.spare.arrays)  # free again
    assert Spare().take((10, 20)) is None  # small arrays: numpy's own


def test_a_batched_model_json_is_the_per_sample_models() -> None:
    """A saved model loads into either form (serialization writes one format for both)."""
    from micrograd.serialization import state_dict

    model = MLP(2, [3, 1], rng=random.Random(13))
    a = json.dumps(state_dict(model), sort_keys=True)
    b = json.dumps(state_dict(BatchedMLP.from_mlp(model)), sort_keys=True)
    assert a == b
