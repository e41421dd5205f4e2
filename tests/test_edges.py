"""The engine at the edges, with PyTorch (float64) as the judge: infinite and undefined
derivatives, NaN, a backward() that fails part-way, leaves called twice, array leaves, and
the messages a user reads when an input is wrong."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import numpy as np
import pytest

from micrograd import MLP, Value
from micrograd.batched import BatchedMLP
from micrograd.metrics import accuracy

torch = pytest.importorskip("torch")


def grads_of(fn: Callable[..., object], *xs: float) -> tuple[list[float], list[float]]:
    """d fn / d x for each x, from micrograd and from PyTorch."""
    values = [Value(x) for x in xs]
    out = fn(*values)
    assert isinstance(out, Value)
    out.backward()
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    fn(*tensors).backward()
    return [v.grad for v in values], [t.grad.item() for t in tensors]


def same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b or math.isclose(a, b, rel_tol=1e-12)


@pytest.mark.parametrize(
    ("fn", "xs"),
    [
        (lambda x: x.sqrt(), [0.0]),
        (lambda x: x**0.5, [0.0]),
        (lambda x: x.relu() ** 0.5, [-2.0]),
        (lambda x: x / x, [1e-200]),
        (lambda x: x**-1.0, [1e-200]),
        (lambda x, y: x * y**-1.0, [1.0, 1e-200]),
        (lambda x: x.log(), [5e-324]),
        (lambda x: x ** 0.5 * 0.0, [0.0]),
        (lambda x, y: x**y, [1e-200, -1.0]),
    ],
    ids=[
        "sqrt-at-0", "pow-half-at-0", "relu-then-sqrt", "tiny-over-itself", "inverse-of-tiny",
        "times-inverse-of-tiny", "log-of-subnormal", "infinite-slope-times-zero", "pow-overflows",
    ],
)  # fmt: skip
def test_backward_never_raises_where_forward_succeeded(
    fn: Callable[..., Value], xs: list[float]
) -> None:
    ours, theirs = grads_of(fn, *xs)
    for a, b in zip(ours, theirs, strict=True):
        assert same_float(a, b), (ours, theirs)


def test_relu_of_nan_is_nan_and_passes_its_gradient_as_pytorch_does() -> None:
    assert math.isnan(Value(math.nan).relu().data)
    ours, theirs = grads_of(lambda x: x.relu(), math.nan)
    assert ours == theirs == [1.0]
    batched = Value(np.array([math.nan, -1.0, 2.0])).relu()
    assert np.isnan(batched.data[0]) and list(batched.data[1:]) == [0.0, 2.0]


def test_a_failing_backward_leaves_every_gradient_as_it_was() -> None:
    a, b = Value(2.0), Value(3.0)
    (a * b).backward()  # leaves now hold 3.0 and 2.0
    c = a * b
    d = c + a

    def broken() -> None:
        c._children[0].grad += 100.0  # part of the work is done ...
        raise RuntimeError("a hand-written rule fails")  # ... then it fails

    c._backward = broken
    before = (a.grad, b.grad, c.grad, d.grad)
    with pytest.raises(RuntimeError, match="hand-written"):
        d.backward()
    assert (a.grad, b.grad, c.grad, d.grad) == before


def test_a_failing_backward_restores_leaves_that_held_nothing() -> None:
    a = Value(2.0)
    c = a * 3.0

    def broken() -> None:
        a.grad += 5.0
        raise KeyboardInterrupt

    c._backward = broken
    with pytest.raises(KeyboardInterrupt):
        c.backward()
    assert a.grad == 0.0


def test_a_leaf_backward_twice_gives_two() -> None:
    x = Value(3.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


def test_an_array_leaf_with_zero_gradient_gets_zeros_of_its_shape() -> None:
    x = Value(np.array([1.5, 2.5, 3.5]))
    (x // 2.0).sum().backward()
    assert isinstance(x.grad, np.ndarray) and x.grad.shape == (3,)
    assert not x.grad.any()


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda: Value(-4.0).sqrt(), r"^sqrt: .*-4\.0"),
        (lambda: Value(1.0) / Value(0.0), r"^/: division by zero \(1\.0 / 0\.0\)"),
        (lambda: 2.0 / Value(0.0), r"^/: division by zero \(2\.0 / 0\.0\)"),
    ],
    ids=["sqrt", "div", "rdiv"],
)
def test_messages_name_what_the_user_wrote(fn: Callable[[], object], message: str) -> None:
    with pytest.raises((ValueError, ZeroDivisionError), match=message):
        fn()


def test_a_bare_number_into_a_model_says_what_to_pass() -> None:
    model = MLP(2, [4, 1])
    with pytest.raises(TypeError, match=r"list of 2 numbers.*micrograd\.batched"):
        model(1.0)
    with pytest.raises(TypeError, match=r"a batch, a 2-D array of shape \(samples, 2\)"):
        BatchedMLP(2, [4, 1])(1.0)


def test_a_one_input_model_accepts_a_bare_number() -> None:
    model = MLP(1, [4, 1])
    assert model(0.5).data == model([0.5]).data  # type: ignore[union-attr]


def test_a_list_of_lists_is_a_batch() -> None:
    model = BatchedMLP(2, [4, 1], rng=random.Random(0))
    rows = [[0.5, 1.0], [-1.0, 2.0], [0.0, 0.0]]
    out = model(rows)
    assert isinstance(out, Value) and out.data.shape == (3,)
    per_sample = model.to_mlp()
    expected = [per_sample(r).data for r in rows]  # type: ignore[union-attr]
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


def test_a_ragged_list_of_lists_says_the_rows_differ() -> None:
    with pytest.raises(ValueError, match=r"same length, got \[1, 2\]"):
        BatchedMLP(2, [4, 1])([[0.5, 1.0], [2.0]])


def test_accuracy_refuses_scores_that_are_not_labels() -> None:
    with pytest.raises(ValueError, match=r"y_pred\[0\] is 0\.7.*labels"):
        accuracy([1, 0], [0.7, -0.2])
    assert accuracy([1, -1], [1.0, 1.0]) == 0.5


@pytest.mark.parametrize("activation", ["relu", "linear", "tanh", "sigmoid"])
def test_batched_forward_agrees_with_the_per_sample_one(activation: str) -> None:
    """To rounding: a matrix product sums in another order than a neuron's w.x + b, and numpy's
    tanh and sigmoid differ from the math module's in the last bit at times."""
    rng = np.random.default_rng(0)
    for trial in range(10):
        nin, width = int(rng.integers(1, 20)), int(rng.integers(1, 20))
        model = MLP(nin, [width, width, 3], activation=activation, rng=random.Random(trial))
        X = rng.normal(size=(int(rng.integers(1, 40)), nin))
        batched = BatchedMLP.from_mlp(model)(X).data
        per_sample = np.array([[v.data for v in model(list(x))] for x in X])  # type: ignore[union-attr]
        np.testing.assert_allclose(batched, per_sample, rtol=1e-12, atol=1e-12)
