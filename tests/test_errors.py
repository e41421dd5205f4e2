"""Bad input raises a precise exception that names the operation and the operand, never a NaN."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from micrograd import MLP, Layer, Neuron, Value, gradcheck
from micrograd.batched import BatchedMLP


@pytest.mark.parametrize(
    ("data", "type_name"),
    [
        ("x", "str"),
        (None, "NoneType"),
        ([1, 2], "list"),
        ((1.0,), "tuple"),
        ({"a": 1}, "dict"),
        (1 + 2j, "complex"),
        (True, "bool"),
    ],
)
def test_value_rejects_non_real_data_naming_its_type(data: Any, type_name: str) -> None:
    with pytest.raises(TypeError, match=rf"real number.*\b{type_name}\b"):
        Value(data)


def test_value_rejects_a_value_as_data() -> None:
    with pytest.raises(TypeError, match=r"\bValue\b"):
        Value(Value(1.0))


def test_value_rejects_non_numeric_arrays() -> None:
    with pytest.raises(TypeError, match="dtype"):
        Value(np.array(["a", "b"]))
    with pytest.raises(TypeError, match="dtype"):
        Value(np.array([True, False]))


def _raises(exc: type[Exception], pattern: str, fn: Callable[[], object]) -> None:
    with pytest.raises(exc, match=pattern):
        fn()


@pytest.mark.parametrize(
    ("exc", "pattern", "fn"),
    [
        (ValueError, r"log.*positive.*\b0\.0\b", lambda: Value(0.0).log()),
        (ValueError, r"log.*positive.*-1\.0\b", lambda: Value(-1).log()),
        (ZeroDivisionError, r"^/: division by zero \(1\.0 / 0\.0\)", lambda: Value(1.0) / 0),
        (ZeroDivisionError, r"^/: division by zero \(1\.0 / 0\.0\)", lambda: Value(1.0) / Value(0)),
        (ZeroDivisionError, r"^/: division by zero \(2\.0 / 0\.0\)", lambda: 2 / Value(0.0)),
        (ZeroDivisionError, r"^//: division by zero \(1\.0 // 0\.0\)", lambda: Value(1.0) // 0),
        (ZeroDivisionError, r"^//: division by zero \(3\.0 // 0\.0\)", lambda: 3 // Value(0)),
        (
            ValueError,
            r"^\*\*: a negative base to the fractional power 0\.333.*base -8\.0",
            lambda: Value(-8) ** (1 / 3),
        ),
        (
            ValueError,
            r"^sqrt: the operand must not be negative, got -4\.0",
            lambda: Value(-4.0).sqrt(),
        ),
        (ZeroDivisionError, r"^\*\*: zero .*negative power -1\b", lambda: Value(0) ** -1),
        (ZeroDivisionError, r"^\*\*: zero .*negative power -2\.5", lambda: Value(0.0) ** -2.5),
        (
            ValueError,
            r"^\*\*: the base must be positive.*Value.*base -2\.0",
            lambda: Value(-2) ** Value(1.5),
        ),
        (ValueError, r"^\*\*: the base must be positive.*base 0\.0", lambda: 0 ** Value(2.0)),
        (ValueError, r"^\*\*: the base must be positive.*base -2\.0", lambda: (-2) ** Value(2.0)),
        (OverflowError, r"^exp: overflow.*\b1000\.0\b", lambda: Value(1000).exp()),
        (OverflowError, r"^exp: overflow.*\b710\.0\b", lambda: Value(710.0).exp()),
    ],
    ids=[
        "log-0",
        "log-negative",
        "div-0",
        "div-Value-0",
        "rdiv-0",
        "floordiv-0",
        "rfloordiv-0",
        "cube-root-of-negative",
        "sqrt-of-negative",
        "zero-to-minus-1",
        "zero-to-negative-fraction",
        "negative-base-Value-exponent",
        "zero-base-Value-exponent",
        "negative-number-rpow",
        "exp-overflow",
        "exp-overflow-just-past-limit",
    ],
)
def test_invalid_math_raises_naming_op_and_operand(
    exc: type[Exception], pattern: str, fn: Callable[[], object]
) -> None:
    _raises(exc, pattern, fn)


def test_pow_const_overflow_names_the_op_and_operand() -> None:
    with pytest.raises(OverflowError, match=r"^\*\*: 10\.0 \*\* 400 overflows"):
        Value(10.0) ** 400


@pytest.mark.parametrize(
    "fn",
    [lambda: 2 ** Value(2000.0), lambda: Value(10.0) ** Value(400.0)],
    ids=["rpow", "pow-value"],
)
def test_pow_value_exponent_overflow_names_the_op_and_operand(fn: Callable[[], object]) -> None:
    with pytest.raises(OverflowError, match=r"\*\*.*(10\.0|2\.0)"):
        fn()


@pytest.mark.parametrize(
    "fn",
    [
        lambda: Value(0.0).log(),
        lambda: Value(1.0) / 0,
        lambda: Value(-8.0) ** (1 / 3),
        lambda: Value(-2.0) ** Value(0.5),
        lambda: Value(800.0).exp(),
    ],
)
def test_no_silent_nan(fn: Callable[[], Value]) -> None:
    """The invalid operations raise rather than return NaN or infinity."""
    try:
        out = fn()
    except (ValueError, ZeroDivisionError, OverflowError):
        return
    pytest.fail(f"returned {out!r} instead of raising")  # pragma: no cover


def test_errors_in_batched_mode_name_the_first_bad_element() -> None:
    with pytest.raises(ValueError, match=r"log.*-2\.0"):
        Value(np.array([1.0, -2.0, 0.0])).log()
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        Value(np.array([1.0, 2.0])) / Value(np.array([1.0, 0.0]))
    with pytest.raises(ZeroDivisionError, match="//: division by zero"):
        Value(np.array([1.0, 2.0])) // Value(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"fractional power.*-3\.0"):
        Value(np.array([1.0, -3.0])) ** 0.5
    with pytest.raises(ZeroDivisionError, match="negative power"):
        Value(np.array([1.0, 0.0])) ** -1
    with pytest.raises(ValueError, match=r"base must be positive.*-1\.0"):
        Value(np.array([2.0, -1.0])) ** Value(2.0)
    with pytest.raises(OverflowError, match=r"exp: overflow.*900\.0"):
        Value(np.array([1.0, 900.0])).exp()


def test_backward_on_array_value_asks_for_a_reduction() -> None:
    v = Value(np.array([1.0, 2.0])) * 2
    with pytest.raises(ValueError, match=r"backward\(\).*scalar.*shape \(2,\).*sum\(\)"):
        v.backward()


def test_item_on_array_value() -> None:
    with pytest.raises(TypeError, match=r"item\(\).*shape \(3,\)"):
        Value(np.zeros(3)).item()


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda v: v + "a", "for +: 'Value' and 'str'"),
        (lambda v: v - "a", "for -: 'Value' and 'str'"),
        (lambda v: v * None, "for *: 'Value' and 'NoneType'"),
        (lambda v: v / "2", "for /: 'Value' and 'str'"),
        (lambda v: "2" / v, "for /: 'str' and 'Value'"),
        (lambda v: v // None, "for //: 'Value' and 'NoneType'"),
        (lambda v: None // v, "for //: 'NoneType' and 'Value'"),
        (lambda v: v ** "2", "for ** or pow(): 'Value' and 'str'"),
        (lambda v: "2" ** v, "for ** or pow(): 'str' and 'Value'"),
        (lambda v: v + True, "for +: 'Value' and 'bool'"),
        # str's own + answers str + Value ("can only concatenate str"), so use None there.
        (lambda v: None + v, "for +: 'NoneType' and 'Value'"),
        (lambda v: "a" - v, "for -: 'str' and 'Value'"),
        (lambda v: None * v, "for *: 'NoneType' and 'Value'"),
    ],
    ids=[
        "add",
        "sub",
        "mul",
        "truediv",
        "rtruediv",
        "floordiv",
        "rfloordiv",
        "pow",
        "rpow",
        "add-bool",
        "radd",
        "rsub",
        "rmul",
    ],
)
def test_operators_refuse_non_numbers(fn: Callable[[Value], object], message: str) -> None:
    expected = re.escape(f"unsupported operand type(s) {message}")
    with pytest.raises(TypeError, match=f"^{expected}$"):
        fn(Value(2.0))


def test_value_exponent_error_message_suggests_why() -> None:
    with pytest.raises(ValueError) as info:
        Value(-2) ** Value(1.5)
    assert "exponent is a Value" in str(info.value)


@pytest.mark.parametrize(
    ("make", "call", "lengths"),
    [
        (lambda: Neuron(3), lambda m: m([1.0, 2.0]), ("3", "2")),
        (lambda: Neuron(2), lambda m: m([1.0, 2.0, 3.0]), ("2", "3")),
        (lambda: Layer(3, 2), lambda m: m([1.0]), ("3", "1")),
        (lambda: MLP(3, [4, 1]), lambda m: m([1.0, 2.0, 3.0, 4.0]), ("3", "4")),
        (lambda: MLP(3, [4, 1]), lambda m: m([]), ("3", "0")),
    ],
)
def test_wrong_input_length_names_both_lengths(
    make: Callable[[], Any], call: Callable[[Any], object], lengths: tuple[str, str]
) -> None:
    expected, got = lengths
    with pytest.raises(ValueError, match=rf"\b{expected}\b.*\b{got}\b"):
        call(make())


def test_wrong_batch_width_names_both_widths() -> None:
    with pytest.raises(ValueError, match=r"\b3\b.*\b2\b"):
        BatchedMLP(3, [4, 1])(np.zeros((5, 2)))


@pytest.mark.parametrize(
    "make",
    [
        lambda: Neuron(3, "softmax"),
        lambda: Layer(3, 2, activation="gelu"),
        lambda: MLP(3, [4, 1], activation="Relu"),
        lambda: MLP(3, [4, 1], output_activation="exp"),
    ],
)
def test_unknown_activation_lists_the_choices(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match=r"unknown activation.*relu, tanh, sigmoid, linear"):
        make()


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda: Neuron(0), r"nin.*positive.*0"),
        (lambda: Neuron(-2), r"nin.*positive.*-2"),
        (lambda: Neuron(2.5), r"nin.*positive.*2\.5"),
        (lambda: Layer(3, 0), r"nout.*positive.*0"),
        (lambda: MLP(3, []), r"nouts.*non-empty"),
        (lambda: MLP(3, 4), r"nouts.*non-empty.*4"),
    ],
)
def test_bad_sizes(make: Callable[[], object], pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        make()


def test_gradcheck_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"eps must be positive.*0"):
        gradcheck(lambda x: x * x, [1.0], eps=0)
    with pytest.raises(TypeError, match=r"f must return a Value.*float"):
        gradcheck(lambda x: 1.0, [1.0])


def test_error_message_is_specific_not_generic() -> None:
    """A regression guard against messages like 'math domain error'."""
    for fn in (lambda: Value(-1.0).log(), lambda: Value(-8.0) ** 0.5):
        with pytest.raises(ValueError) as info:
            fn()
        assert "math domain error" not in str(info.value)
        assert re.search(r"-?\d", str(info.value)), "the operand should appear in the message"
    assert math.isfinite(Value(-8.0).__pow__(3).data)
