"""Every primitive and composed operation of `Value`, checked against PyTorch and gradcheck.

Each case goes through `helpers.check_op`: forward value and the gradient of every input must
match PyTorch in float64 to ~1e-12 relative, and micrograd's gradients must match central
differences. Inputs sit away from kinks (ReLU and abs at 0, `//` at integer quotients).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from helpers import check_op

from micrograd import Value

Fn = Callable[..., Any]


def same(fn: Fn, inputs: list[Any], case_id: str) -> Any:
    """A case whose function is written once and runs on Values and on torch tensors alike."""
    return pytest.param(fn, fn, inputs, id=case_id)


def pair(fn_mg: Fn, fn_torch: Fn, inputs: list[Any], case_id: str) -> Any:
    return pytest.param(fn_mg, fn_torch, inputs, id=case_id)


def t_floordiv(a: Any, b: Any) -> Any:
    """PyTorch has no derivative for floor_divide; floor(a / b) has the same value here, and
    its derivative, 0, is the one `//` must have."""
    return (a / b).floor()


BINARY = [
    same(lambda a, b: a + b, [1.5, -2.25], "add"),
    same(lambda a, b: a - b, [1.5, -2.25], "sub"),
    same(lambda a, b: a * b, [1.5, -2.25], "mul"),
    same(lambda a, b: a / b, [1.5, -2.25], "truediv"),
    same(lambda a, b: a / b, [-0.3, 0.7], "truediv-small"),
    same(lambda a, b: a**b, [1.7, -0.6], "pow-value-exponent"),
    same(lambda a, b: a**b, [0.4, 2.3], "pow-value-exponent-base-below-1"),
    pair(lambda a, b: a // b, t_floordiv, [7.3, 2.1], "floordiv"),
    pair(lambda a, b: a // b, t_floordiv, [-7.3, 2.1], "floordiv-negative"),
    pair(lambda a, b: a // b, t_floordiv, [7.3, -2.1], "floordiv-negative-divisor"),
]

SAME_NODE_TWICE = [
    same(lambda a: a + a, [1.3], "a+a"),
    same(lambda a: a - a, [1.3], "a-a"),
    same(lambda a: a * a, [-1.3], "a*a"),
    same(lambda a: a / a, [-1.3], "a/a"),
    same(lambda a: a**a, [1.3], "a**a"),
    same(lambda a: a * a * a + a, [0.7], "a*a*a+a"),
]

RIGHT_CONSTANT = [
    same(lambda a: a + 2.5, [1.3], "add-const"),
    same(lambda a: a - 2.5, [1.3], "sub-const"),
    same(lambda a: a * 2.5, [1.3], "mul-const"),
    same(lambda a: a / 2.5, [1.3], "truediv-const"),
    same(lambda a: a + 2, [1.3], "add-int"),
    same(lambda a: a / 4, [1.3], "truediv-int"),
    pair(lambda a: a // 0.7, lambda a: t_floordiv(a, 0.7), [2.0], "floordiv-const"),
    same(lambda a: a**2, [-1.3], "pow-2"),
    same(lambda a: a**3, [-1.3], "pow-3"),
    same(lambda a: a**-1, [-1.3], "pow-minus-1"),
    same(lambda a: a**-2, [0.8], "pow-minus-2"),
    same(lambda a: a**0.5, [2.0], "pow-half"),
    same(lambda a: a**2.5, [1.2], "pow-2.5"),
    same(lambda a: a**-1.5, [1.2], "pow-minus-1.5"),
    same(lambda a: a**1, [-1.7], "pow-1"),
    same(lambda a: a**0, [-1.7], "pow-0"),
    same(lambda a: a**2.0, [-1.7], "pow-float-integer"),
    pair(lambda a: a * np.float64(2.5), lambda a: a * 2.5, [1.3], "mul-numpy-scalar"),
    pair(lambda a: a ** np.float64(3.0), lambda a: a**3.0, [-1.3], "pow-numpy-scalar"),
]

LEFT_CONSTANT = [
    same(lambda a: 2.5 + a, [1.3], "radd"),
    same(lambda a: 2.5 - a, [1.3], "rsub"),
    same(lambda a: 2.5 * a, [1.3], "rmul"),
    same(lambda a: 2.5 / a, [-1.6], "rtruediv"),
    same(lambda a: 3 * a, [1.3], "rmul-int"),
    same(lambda a: 1 - a, [1.3], "rsub-int"),
    pair(lambda a: 7.3 // a, lambda a: t_floordiv(7.3, a), [2.1], "rfloordiv"),
    pair(lambda a: -7.3 // a, lambda a: t_floordiv(-7.3, a), [2.1], "rfloordiv-negative"),
    same(lambda a: 2**a, [1.3], "rpow"),
    same(lambda a: 2**a, [-1.3], "rpow-negative-exponent"),
    same(lambda a: 0.5**a, [-0.7], "rpow-base-below-1"),
    same(lambda a: 2.0**a, [3.0], "rpow-float-base"),
    pair(lambda a: np.float64(2.5) * a, lambda a: 2.5 * a, [1.3], "rmul-numpy-scalar"),
    pair(lambda a: np.float64(2.5) + a, lambda a: 2.5 + a, [1.3], "radd-numpy-scalar"),
    pair(lambda a: np.float64(2.0) ** a, lambda a: 2.0**a, [1.3], "rpow-numpy-scalar"),
]

UNARY = [
    same(lambda a: -a, [1.3], "neg"),
    same(abs, [-1.3], "abs-negative"),
    same(abs, [0.7], "abs-positive"),
    same(lambda a: a.tanh(), [0.6], "tanh"),
    same(lambda a: a.tanh(), [-2.2], "tanh-negative"),
    same(lambda a: a.tanh(), [8.0], "tanh-saturated"),
    same(lambda a: a.relu(), [1.4], "relu-positive"),
    same(lambda a: a.relu(), [-1.4], "relu-negative"),
    same(lambda a: a.sigmoid(), [0.3], "sigmoid"),
    same(lambda a: a.sigmoid(), [-4.0], "sigmoid-negative"),
    same(lambda a: a.sigmoid(), [25.0], "sigmoid-large"),
    same(lambda a: a.sigmoid(), [-30.0], "sigmoid-very-negative"),
    same(lambda a: a.exp(), [1.1], "exp"),
    same(lambda a: a.exp(), [-3.0], "exp-negative"),
    same(lambda a: a.exp(), [700.0], "exp-near-overflow"),
    same(lambda a: a.log(), [0.35], "log"),
    same(lambda a: a.log(), [12.0], "log-large"),
    same(lambda a: a.sqrt(), [2.5], "sqrt"),
    same(lambda a: a.sqrt(), [0.04], "sqrt-small"),
]

REDUCTIONS = [
    same(lambda a: a.sum(), [1.2], "sum-of-scalar"),
    same(lambda a: a.mean(), [1.2], "mean-of-scalar"),
    same(lambda a, b, c: sum([a, b, c]), [1.2, -0.4, 2.5], "builtin-sum"),
    same(lambda a, b, c: (a + b + c) / 3, [1.2, -0.4, 2.5], "mean-by-hand"),
    same(lambda x: x.sum(), [np.array([1.0, -2.0, 0.5])], "sum-1d"),
    same(lambda x: x.mean(), [np.array([1.0, -2.0, 0.5])], "mean-1d"),
    same(lambda x: (x * x).sum(), [np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.1]])], "sum-sq"),
    same(lambda x: x.mean(), [np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.1]])], "mean-2d"),
    same(lambda x: x.sum(axis=0), [np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.1]])], "sum-axis0"),
    same(lambda x: x.sum(axis=1), [np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.1]])], "sum-axis1"),
    same(lambda x: x.mean(axis=0), [np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.1]])], "mean-ax0"),
    same(lambda x: x.mean(axis=1), [np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.1]])], "mean-ax1"),
]

COMPOSED = [
    same(
        lambda a, b, c: ((a * b).tanh() + (c / a).exp() - (b**2).log()).relu() + 2**c,
        [0.9, -1.7, 0.4],
        "mixed-expression",
    ),
    same(
        lambda a, b: (a.sigmoid() * b - (1 - a).sqrt()) / (abs(b) + 1),
        [0.2, -1.3],
        "sigmoid-sqrt-abs",
    ),
    same(
        lambda a, b: (a**b) * (b**a) + a.log() * b.exp(),
        [1.4, 0.6],
        "powers-both-ways",
    ),
    same(
        lambda a: ((a * 2 + 1).tanh() ** 2 + (3 - a) ** -1).sqrt(),
        [0.35],
        "chain-of-composites",
    ),
]


@pytest.mark.parametrize(("fn_mg", "fn_torch", "inputs"), BINARY)
def test_binary_ops(fn_mg: Fn, fn_torch: Fn, inputs: list[Any]) -> None:
    check_op(fn_mg, fn_torch, inputs)


@pytest.mark.parametrize(("fn_mg", "fn_torch", "inputs"), SAME_NODE_TWICE)
def test_same_node_used_twice(fn_mg: Fn, fn_torch: Fn, inputs: list[Any]) -> None:
    check_op(fn_mg, fn_torch, inputs)


@pytest.mark.parametrize(("fn_mg", "fn_torch", "inputs"), RIGHT_CONSTANT)
def test_constant_on_the_right(fn_mg: Fn, fn_torch: Fn, inputs: list[Any]) -> None:
    check_op(fn_mg, fn_torch, inputs)


@pytest.mark.parametrize(("fn_mg", "fn_torch", "inputs"), LEFT_CONSTANT)
def test_constant_on_the_left(fn_mg: Fn, fn_torch: Fn, inputs: list[Any]) -> None:
    check_op(fn_mg, fn_torch, inputs)


@pytest.mark.parametrize(("fn_mg", "fn_torch", "inputs"), UNARY)
def test_unary_ops(fn_mg: Fn, fn_torch: Fn, inputs: list[Any]) -> None:
    check_op(fn_mg, fn_torch, inputs)


@pytest.mark.parametrize(("fn_mg", "fn_torch", "inputs"), REDUCTIONS)
def test_reductions(fn_mg: Fn, fn_torch: Fn, inputs: list[Any]) -> None:
    check_op(fn_mg, fn_torch, inputs)


@pytest.mark.parametrize(("fn_mg", "fn_torch", "inputs"), COMPOSED)
def test_composed_expressions(fn_mg: Fn, fn_torch: Fn, inputs: list[Any]) -> None:
    check_op(fn_mg, fn_torch, inputs)


def test_floordiv_value_and_zero_gradient_on_both_sides() -> None:
    a, b = Value(7.3), Value(2.1)
    out = a // b
    assert out.data == 7.3 // 2.1 == 3.0
    out.backward()
    assert (a.grad, b.grad) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda v: v // 2, 3.0),
        (lambda v: 20 // v, 2.0),
        (lambda v: -v // 2, -4.0),
    ],
    ids=["floordiv-int", "rfloordiv-int", "floordiv-rounds-down"],
)
def test_floordiv_follows_python_semantics(make: Fn, expected: float) -> None:
    assert make(Value(7.0)).data == expected


def test_ops_return_new_values_and_leave_inputs_alone() -> None:
    a, b = Value(2.0), Value(3.0)
    for out in (
        a + b,
        a - b,
        a * b,
        a / b,
        a**b,
        a // b,
        -a,
        abs(a),
        2 + a,
        2 - a,
        2 * a,
        2 / a,
        2**a,
        7 // a,
        a**2,
        a.tanh(),
        a.relu(),
        a.sigmoid(),
        a.exp(),
        a.log(),
        a.sqrt(),
        a.sum(),
        a.mean(),
    ):
        assert isinstance(out, Value)
        assert out is not a and out is not b
    assert (a.data, b.data, a.grad, b.grad) == (2.0, 3.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda a: a + 1, 3.0),
        (lambda a: a - 1, 1.0),
        (lambda a: a * 3, 6.0),
        (lambda a: a / 4, 0.5),
        (lambda a: a**3, 8.0),
        (lambda a: 1 + a, 3.0),
        (lambda a: 1 - a, -1.0),
        (lambda a: 3 * a, 6.0),
        (lambda a: 1 / a, 0.5),
        (lambda a: 3**a, 9.0),
        (lambda a: 9 // a, 4.0),
        (lambda a: -a, -2.0),
        (lambda a: abs(-a), 2.0),
        (lambda a: a.sqrt() ** 2, 2.0000000000000004),
    ],
)
def test_exact_forward_values(make: Fn, expected: float) -> None:
    assert make(Value(2.0)).data == expected
