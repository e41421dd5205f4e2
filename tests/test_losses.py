"""Loss functions: values and gradients against torch.nn.functional in both modes, stability at
extreme logits, bit-identity with the original micrograd demo, and input validation."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from micrograd import MLP, Value
from micrograd.batched import BatchedMLP
from micrograd.losses import (
    LOSSES,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    l1_penalty,
    l2_penalty,
    mse_loss,
)

TOL = 1e-9
MODES = ("per_sample", "batched")
Loss = Callable[[Any, Any], Value]


@pytest.fixture
def torch() -> Any:
    return pytest.importorskip("torch", reason="torch is not installed: comparisons need it")


def ours(loss: Loss, data: np.ndarray, target: Any, mode: str) -> tuple[float, np.ndarray]:
    """The loss and its gradient with respect to the predictions, in the given mode."""
    if mode == "batched":
        v = Value(data.copy())
        out = loss(v, target)
        out.backward()
        return out.item(), np.asarray(v.grad)
    if data.ndim == 1:
        vs = [Value(float(x)) for x in data]
        out = loss(vs, list(target))
        out.backward()
        return out.item(), np.array([v.grad for v in vs])
    rows = [[Value(float(x)) for x in row] for row in data]
    out = loss(rows, target.tolist())
    out.backward()
    return out.item(), np.array([[v.grad for v in row] for row in rows])


def theirs(torch: Any, name: str, data: np.ndarray, target: np.ndarray) -> tuple[float, Any]:
    f = torch.nn.functional
    x = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    if name == "cross_entropy":
        out = f.cross_entropy(x, torch.tensor(target, dtype=torch.long))
    else:
        t = torch.tensor(target, dtype=torch.float64)
        out = {
            "mse": lambda: f.mse_loss(x, t),
            "hinge": lambda: torch.clamp(1 - t * x, min=0).mean(),
            "bce": lambda: f.binary_cross_entropy_with_logits(x, t),
        }[name]()
    out.backward()
    return out.item(), x.grad.numpy()


def case(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Predictions and targets for a loss, from a fixed seed."""
    rng = np.random.default_rng(42)
    if name == "mse":
        return rng.normal(size=7) * 2, rng.normal(size=7)
    if name == "mse_rows":
        return rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    if name == "hinge":
        return rng.normal(size=8) * 2, rng.choice([-1, 1], size=8)
    if name == "bce":
        x = rng.normal(size=8) * 3
        x[0] = 0.0  # where relu and abs have kinks: the gradient must still be sigmoid(x) - y
        return x, rng.choice([0.0, 1.0], size=8)
    assert name == "cross_entropy"
    return rng.normal(size=(6, 4)) * 2, rng.integers(0, 4, size=6)


# -- against PyTorch ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("name", "data_case"),
    [
        ("mse", "mse"),
        ("mse", "mse_rows"),
        ("hinge", "hinge"),
        ("bce", "bce"),
        ("cross_entropy", "cross_entropy"),
    ],
)
def test_matches_torch(torch: Any, name: str, data_case: str, mode: str) -> None:
    data, target = case(data_case)
    value, grad = ours(LOSSES[name], data, target, mode)
    ref_value, ref_grad = theirs(torch, name, data, target)
    assert value == pytest.approx(ref_value, rel=TOL, abs=TOL)
    np.testing.assert_allclose(grad, ref_grad, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("mode", MODES)
def test_bce_is_stable_at_extreme_logits(torch: Any, mode: str) -> None:
    data = np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0])
    target = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    value, grad = ours(binary_cross_entropy_with_logits, data, target, mode)
    assert math.isfinite(value) and np.isfinite(grad).all()
    assert value == pytest.approx((0 + 0 + 1000 + 1000 + math.log(2)) / 5, rel=1e-15)
    np.testing.assert_allclose(grad, np.array([0.0, 0.0, 1.0, -1.0, -0.5]) / 5, atol=1e-15)
    ref_value, ref_grad = theirs(torch, "bce", data, target)
    assert value == pytest.approx(ref_value, rel=TOL)
    np.testing.assert_allclose(grad, ref_grad, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("mode", MODES)
def test_cross_entropy_is_stable_at_extreme_logits(torch: Any, mode: str) -> None:
    data = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0], [1000.0, 1000.0, -1000.0]])
    target = np.array([0, 0, 1])
    value, grad = ours(cross_entropy, data, target, mode)
    assert math.isfinite(value) and np.isfinite(grad).all()
    assert value == pytest.approx((0 + 2000 + math.log(2)) / 3, rel=1e-15)
    expected = np.array([[0.0, 0.0, 0.0], [-1.0, 1.0, 0.0], [0.5, -0.5, 0.0]]) / 3
    np.testing.assert_allclose(grad, expected, atol=1e-15)
    ref_value, ref_grad = theirs(torch, "cross_entropy", data, target)
    assert value == pytest.approx(ref_value, rel=TOL)
    np.testing.assert_allclose(grad, ref_grad, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_bce_gradient_at_zero_is_sigmoid_minus_target(mode: str, y: float) -> None:
    _, grad = ours(binary_cross_entropy_with_logits, np.array([0.0]), np.array([y]), mode)
    assert grad[0] == 0.5 - y


@pytest.mark.parametrize(("penalty", "name"), [(l1_penalty, "l1"), (l2_penalty, "l2")])
def test_penalties_match_torch(torch: Any, penalty: Callable[[Any], Value], name: str) -> None:
    data = np.random.default_rng(3).normal(size=9)
    data[0] = 0.0
    params = [Value(float(x)) for x in data]
    out = penalty(params)
    out.backward()
    x = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    ref = x.abs().sum() if name == "l1" else (x * x).sum()
    ref.backward()
    assert out.item() == pytest.approx(ref.item(), rel=TOL, abs=TOL)
    np.testing.assert_allclose([p.grad for p in params], x.grad.numpy(), rtol=TOL, atol=TOL)


def test_penalties_take_model_parameters_and_array_values() -> None:
    model = MLP(2, [3, 1], rng=random.Random(0))
    ps = model.parameters()
    assert l1_penalty(ps).item() == pytest.approx(sum(abs(p.data) for p in ps), rel=1e-15)
    assert l2_penalty(iter(ps)).item() == pytest.approx(sum(p.data**2 for p in ps), rel=1e-15)
    assert l2_penalty([Value(np.array([1.0, 2.0])), Value(3.0)]).item() == 14.0
    assert l1_penalty([Value(np.array([-1.0, 2.0]))]).item() == 3.0


# -- the original micrograd demo ---------------------------------------------------------------


def test_hinge_and_l2_are_bit_identical_to_the_demo() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(12, 2))
    yb = rng.integers(0, 2, size=12) * 2 - 1  # integer labels, as make_moons gives the demo
    model = MLP(2, [8, 8, 1], rng=random.Random(1337))
    alpha = 1e-4

    def demo() -> Value:
        scores = [model(list(map(Value, xrow))) for xrow in X]
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(yb, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = alpha * sum(p * p for p in model.parameters())
        return data_loss + reg_loss  # type: ignore[no-any-return]

    def ours_() -> Value:
        scores = [model(list(map(Value, xrow))) for xrow in X]
        return hinge_loss(scores, yb) + alpha * l2_penalty(model.parameters())

    grads = []
    values = []
    for f in (demo, ours_):
        model.zero_grad()
        loss = f()
        loss.backward()
        values.append(loss.data)
        grads.append([p.grad for p in model.parameters()])
    assert values[0] == values[1]
    assert grads[0] == grads[1]


# -- both modes agree on a model ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["mse", "hinge", "bce", "cross_entropy"])
def test_per_sample_and_batched_agree_on_a_model(name: str) -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(10, 3))
    outputs = 4 if name == "cross_entropy" else 1
    targets = {
        "mse": rng.normal(size=10),
        "hinge": rng.choice([-1.0, 1.0], size=10),
        "bce": rng.choice([0.0, 1.0], size=10),
        "cross_entropy": rng.integers(0, 4, size=10),
    }[name]
    model = MLP(3, [5, outputs], activation="tanh", rng=random.Random(2))
    loss = LOSSES[name]

    per_sample = loss([model(list(x)) for x in X], targets)
    per_sample.backward()
    grads = [p.grad for p in model.parameters()]
    bm = BatchedMLP.from_mlp(model)
    batched = loss(bm(X), targets)
    batched.backward()

    assert batched.item() == pytest.approx(per_sample.item(), rel=1e-12, abs=1e-12)
    got = [
        g
        for layer in bm.layers
        for g in np.hstack([layer.weight.grad, layer.bias.grad[:, None]]).ravel().tolist()
    ]
    np.testing.assert_allclose(got, grads, rtol=1e-9, atol=1e-12)


def test_the_seed_training_loop_drives_the_loss_down() -> None:
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    model = MLP(3, [4, 4, 1], rng=random.Random(0))
    history = []
    for _ in range(40):
        loss = mse_loss([model(x) for x in xs], ys)
        model.zero_grad()
        loss.backward()
        model.update_parameters()
        history.append(loss.item())
    assert history[-1] < 0.5 * history[0]


# -- conveniences ------------------------------------------------------------------------------


def test_registry() -> None:
    expected = {
        "mse": mse_loss,
        "hinge": hinge_loss,
        "bce": binary_cross_entropy_with_logits,
        "cross_entropy": cross_entropy,
    }
    assert expected == LOSSES


def test_accepts_a_single_value_numbers_and_array_targets() -> None:
    assert mse_loss(Value(3.0), 1.0).item() == 4.0
    assert mse_loss([1.0, 3.0], [0, 0]).item() == 5.0
    assert hinge_loss([Value(0.5), Value(-2.0)], np.array([1, -1])).item() == 0.25
    assert cross_entropy([[Value(0.0), Value(0.0)]], np.array([1])).item() == math.log(2)
    assert mse_loss(np.array([1.0, 3.0]), np.array([1.0, 1.0])).item() == 2.0


def test_losses_return_scalar_values() -> None:
    for name in LOSSES:
        data, target = case(name)
        for mode in MODES:
            v: Any = Value(data)
            if mode == "per_sample":
                v = [[Value(x) for x in row] if data.ndim == 2 else Value(row) for row in data]
            out = LOSSES[name](v, target)
            assert isinstance(out, Value) and isinstance(out.data, float)


# -- validation --------------------------------------------------------------------------------

V = [Value(0.5), Value(-0.5), Value(2.0)]
ROWS = [[Value(1.0), Value(2.0), Value(3.0)], [Value(0.0), Value(1.0), Value(-1.0)]]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: mse_loss(V, [1.0, 2.0]), ValueError, r"3 predictions but 2 targets"),
        (
            lambda: mse_loss(Value(np.zeros(3)), np.zeros(2)),
            ValueError,
            r"3 predictions but 2 targets",
        ),
        (
            lambda: mse_loss(Value(np.zeros(3)), np.zeros((3, 1))),
            ValueError,
            r"predictions have shape \(3,\) but targets have shape \(3, 1\)",
        ),
        (lambda: mse_loss([], []), ValueError, r"got no predictions: expected at least one"),
        (lambda: mse_loss(Value(np.zeros(0)), np.zeros(0)), ValueError, r"got no predictions"),
        (lambda: mse_loss(V, [1.0, 2.0, math.nan]), ValueError, r"target 2 must be a finite"),
        (
            lambda: mse_loss(Value(np.zeros(2)), np.array([1.0, np.inf])),
            ValueError,
            r"targets must be finite numbers, got inf",
        ),
        (lambda: mse_loss(V, [1.0, True, 2.0]), TypeError, r"target 1 must be a number"),
        (lambda: mse_loss(V, [1.0, Value(1.0), 2.0]), TypeError, r"not Values"),
        (lambda: mse_loss(V, "abc"), TypeError, r"targets must be a list or array"),
        (lambda: mse_loss(3.0, [1.0]), TypeError, r"predictions must be a list"),  # type: ignore[arg-type]
        (lambda: mse_loss([V[0], "x"], [1.0, 2.0]), TypeError, r"prediction 1 must be a Value"),
        (
            lambda: mse_loss([[V[0], V[1]], V[2]], [[1.0, 2.0], 3.0]),
            ValueError,
            r"prediction 1 has a single Value, but sample 0 has 2",
        ),
        (
            lambda: mse_loss([[V[0], V[1]]], [[1.0]]),
            ValueError,
            r"prediction 0 has 2 outputs but its target is 1 values: expected 2",
        ),
        (
            lambda: hinge_loss(V, [1, 0, -1]),
            ValueError,
            r"hinge_loss: targets must be -1 or \+1, got 0\.0 \(target 1\)",
        ),
        (
            lambda: hinge_loss([[V[0], V[1]], [V[2], V[0]]], [[1, -1], [-1, 3]]),
            ValueError,
            r"hinge_loss: targets must be -1 or \+1, got 3\.0 \(target 1\[1\]\)",
        ),
        (
            lambda: hinge_loss(Value(np.zeros((2, 2))), np.array([[1, -1], [-1, 3]])),
            ValueError,
            r"hinge_loss: targets must be -1 or \+1, got 3\.0 \(target 1\[1\]\)",
        ),
        (
            lambda: hinge_loss(Value(np.zeros(3)), np.array([1, -1, 2])),
            ValueError,
            r"hinge_loss: targets must be -1 or \+1, got 2\.0 \(target 2\)",
        ),
        (
            lambda: binary_cross_entropy_with_logits(V, [0, 1, 0.5]),
            ValueError,
            r"targets must be 0 or 1, got 0\.5 \(target 2\)",
        ),
        (
            lambda: binary_cross_entropy_with_logits(Value(np.zeros(2)), np.array([-1.0, 1.0])),
            ValueError,
            r"targets must be 0 or 1, got -1\.0 \(target 0\)",
        ),
        (
            lambda: cross_entropy(ROWS, [0, 3]),
            ValueError,
            r"target 1 is 3, out of range: expected a class index in 0\.\.2 \(3 classes\)",
        ),
        (
            lambda: cross_entropy(ROWS, [-1, 0]),
            ValueError,
            r"target 0 is -1, out of range",
        ),
        (
            lambda: cross_entropy(Value(np.zeros((2, 3))), np.array([0, 3])),
            ValueError,
            r"target 1 is 3, out of range: expected a class index in 0\.\.2 \(3 classes\)",
        ),
        (lambda: cross_entropy(ROWS, [0]), ValueError, r"2 samples of logits but 1 targets"),
        (
            lambda: cross_entropy(Value(np.zeros((2, 3))), np.array([0])),
            ValueError,
            r"2 samples of logits but 1 targets",
        ),
        (lambda: cross_entropy(ROWS, [0.0, 1.0]), TypeError, r"integer class index, got float"),
        (
            lambda: cross_entropy(Value(np.zeros((2, 3))), np.array([0.0, 1.0])),
            TypeError,
            r"integer class indices, got an array of dtype float64",
        ),
        (
            lambda: cross_entropy(Value(np.zeros(3)), np.array([0, 1, 0])),
            ValueError,
            r"batched logits must have shape \(N, C\), got shape \(3,\)",
        ),
        (lambda: cross_entropy([], []), ValueError, r"got no samples of logits"),
        (
            lambda: cross_entropy(Value(np.zeros((0, 3))), np.zeros(0, dtype=int)),
            ValueError,
            r"expected at least one sample",
        ),
        (lambda: cross_entropy(V, [0, 1, 0]), TypeError, r"sample 0 must be a row of C logits"),
        (
            lambda: cross_entropy([ROWS[0], ROWS[1][:2]], [0, 1]),
            ValueError,
            r"sample 1 has 2 logits but sample 0 has 3",
        ),
        (lambda: l1_penalty([]), ValueError, r"l1_penalty: got no parameters"),
        (lambda: l2_penalty(iter([])), ValueError, r"l2_penalty: got no parameters"),
        (
            lambda: l2_penalty([Value(1.0), 2.0]),  # type: ignore[list-item]
            TypeError,
            r"parameter 1 must be a Value",
        ),
    ],
)
def test_bad_input_raises_a_precise_error(
    call: Callable[[], Value], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        call()
