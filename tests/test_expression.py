"""Tests for the safe expression parser: values and gradients match hand-written Value code, and
everything outside the whitelist is refused with a clear one-line ExpressionError."""

from __future__ import annotations

import builtins
from collections.abc import Callable

import pytest

from micrograd.engine import Value
from micrograd.expression import (
    MAX_DEPTH,
    MAX_LENGTH,
    ExpressionError,
    parse_assignments,
    parse_expression,
)

VARS = {"a": 2.0, "b": -3.0, "c": 10.0, "x": 0.5, "w": 1.5}


def leaves_of(root: Value) -> dict[str, Value]:
    return {v.label: v for v in root.topo_sort() if not v._prev and v.label}


# Each expression beside the same computation written by hand with Values.
CASES: list[tuple[str, Callable[..., Value]]] = [
    ("(a*b + c).tanh()", lambda a, b, c, x, w: (a * b + c).tanh()),
    ("relu(x*w + b) ** 2 / 2", lambda a, b, c, x, w: (x * w + b).relu() ** 2 / 2),
    ("relu(x*w + a) ** 2 / 2", lambda a, b, c, x, w: (x * w + a).relu() ** 2 / 2),
    ("-a + +b - 2*c", lambda a, b, c, x, w: -a + b - 2 * c),
    ("2 ** a + a ** x", lambda a, b, c, x, w: 2**a + a**x),
    ("a // 3 + a", lambda a, b, c, x, w: a // 3 + a),
    ("7 // a * b", lambda a, b, c, x, w: 7 // a * b),
    ("sigmoid(a) * exp(b) / log(c)", lambda a, b, c, x, w: a.sigmoid() * b.exp() / c.log()),
    ("sqrt(c) + abs(b) + b.abs() + c.sqrt()", lambda a, b, c, x, w: c.sqrt() * 2 + abs(b) * 2),
    ("a.tanh().relu().sigmoid()", lambda a, b, c, x, w: a.tanh().relu().sigmoid()),
    ("a*a*a - a", lambda a, b, c, x, w: a * a * a - a),
    ("3 - a / (b - 1)", lambda a, b, c, x, w: 3 - a / (b - 1)),
    ("x ** -1 + x ** 0.5 + (1 + 2) * x", lambda a, b, c, x, w: x**-1 + x**0.5 + 3 * x),
    ("(w.exp() - 1) / (w.exp() + 1)", lambda a, b, c, x, w: (w.exp() - 1) / (w.exp() + 1)),
    ("tanh(\n  a * x\n)", lambda a, b, c, x, w: (a * x).tanh()),
]


@pytest.mark.parametrize(("source", "by_hand"), CASES, ids=[c[0] for c in CASES])
def test_matches_hand_written_values(source: str, by_hand: Callable[..., Value]) -> None:
    root = parse_expression(source, VARS)
    root.backward()
    hand = {name: Value(value, label=name) for name, value in VARS.items()}
    expected = by_hand(**hand)
    expected.backward()
    assert root.data == pytest.approx(expected.data, rel=1e-12)
    got = leaves_of(root)
    for name, leaf in hand.items():
        if name in got:
            assert got[name].grad == pytest.approx(leaf.grad, rel=1e-12, abs=1e-15), name
        else:
            assert leaf.grad == 0.0, f"{name} is not in the expression but has a gradient"


def test_variables_are_single_labelled_leaves_and_ops_are_unlabelled() -> None:
    root = parse_expression("a*a + b", VARS)
    nodes = root.topo_sort()
    named = [v for v in nodes if v.label]
    assert sorted(v.label for v in named) == ["a", "b"]
    assert all(not v._prev for v in named)
    assert all(v.label == "" for v in nodes if v._prev)
    root.backward()
    assert leaves_of(root)["a"].grad == 2 * VARS["a"]


def test_unused_variables_stay_out_of_the_graph() -> None:
    root = parse_expression("a + 1", VARS)
    assert set(leaves_of(root)) == {"a"}


def test_numbers_alone_give_a_constant_value() -> None:
    root = parse_expression("1 + 2 * 3", {})
    assert isinstance(root, Value)
    assert root.data == 7.0
    assert not root._prev
    assert parse_expression("tanh(0)", {}).data == 0.0


def test_a_lone_variable_is_its_leaf() -> None:
    root = parse_expression(" a ", VARS)
    assert root.label == "a" and root.data == 2.0 and not root._prev


def test_integer_exponents_keep_the_engine_op_name() -> None:
    assert parse_expression("x ** 2", VARS)._op == "**2"
    assert parse_expression("x ** -1", VARS)._op == "**-1"


def test_a_long_flat_sum_is_not_too_deep() -> None:
    n = 600
    root = parse_expression(" + ".join(["x"] * n), VARS)
    root.backward()
    assert root.data == pytest.approx(n * VARS["x"])
    assert leaves_of(root)["x"].grad == pytest.approx(n)


def test_never_uses_eval_or_exec(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("eval/exec must not be used")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    assert parse_expression("(a*b + c).tanh()", VARS).data == pytest.approx(0.9993292997)


# -- errors ---------------------------------------------------------------------------------

FORBIDDEN = [
    ("__import__('os')", "calling '__import__' is not allowed"),
    ("__import__('os').system('true')", "is not allowed"),
    ("a.__class__", "'__class__' is not allowed"),
    ("a.__class__.__bases__", "'__bases__' is not allowed"),
    ("().__class__", "'__class__' is not allowed"),
    ("a.tanh.__self__", "'__self__' is not allowed"),
    ("a.data", "'data' is not allowed"),
    ("a.tanh", "must be called"),
    ("[1,2]", "lists"),
    ("{1: 2}", "dicts"),
    ("(a, b)", "tuples"),
    ("[i for i in a]", "list comprehensions"),
    ("lambda: 1", "lambda"),
    ('"s"', "strings are not allowed"),
    ("b'x'", "strings are not allowed"),
    ("f'{a}'", "f-strings"),
    ("a if b else c", "conditional expressions"),
    ("a < b", "comparisons"),
    ("a and b", "'and' / 'or'"),
    ("not a", "'not' is not allowed"),
    ("~a", "'~' is not allowed"),
    ("a % 2", "'%' is not allowed"),
    ("a @ b", "'@' is not allowed"),
    ("a[0]", "subscripts"),
    ("(y := 1)", "assignment expressions"),
    ("f(x)", "calling 'f' is not allowed"),
    ("x.tanh(1)", ".tanh() takes no arguments"),
    ("tanh(x, a)", "tanh() takes exactly one argument"),
    ("tanh()", "tanh() takes exactly one argument"),
    ("tanh(*x)", "tanh() takes exactly one argument"),
    ("tanh(x=1)", "keyword arguments are not allowed"),
    ("x.tanh()()", "only named functions can be called"),
    ("a.mean()", "'mean' is not allowed"),
    ("open('f')", "calling 'open' is not allowed"),
    ("eval('1')", "calling 'eval' is not allowed"),
    ("tanh", "'tanh' is a function"),
    ("os", "unknown name 'os' (at column 1): define it with a value, e.g. os=1.0"),
    ("a + zz", "unknown name 'zz'"),
    ("True", "True is not a number"),
    ("None", "None is not a number"),
    ("...", "Ellipsis is not a number"),
    ("1j", "complex numbers"),
    ("1e999", "too large"),
    ("1" * 400, "too large"),
    ("a +", "syntax error"),
    ("import os", "syntax error"),
    ("a = 1", "syntax error"),
    ("a\x00", "null bytes"),
    ("", "empty"),
    ("   \n ", "empty"),
    ("x" * (MAX_LENGTH + 1), f"the limit is {MAX_LENGTH}"),
    ("-" * (MAX_DEPTH + 5) + "x", f"nested more than {MAX_DEPTH} levels"),
    ("tanh(" * (MAX_DEPTH + 5) + "x" + ")" * (MAX_DEPTH + 5), "nested"),
    ("-" * 9000 + "x", "nested too deeply"),
]


@pytest.mark.parametrize(("source", "fragment"), FORBIDDEN, ids=[f[0][:30] for f in FORBIDDEN])
def test_forbidden_constructs_raise_a_clear_error(source: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression(source, VARS)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_messages_say_what_is_allowed() -> None:
    with pytest.raises(ExpressionError, match=r"only the methods tanh, relu, sigmoid"):
        parse_expression("a.__class__", VARS)
    with pytest.raises(ExpressionError, match=r"use numbers, variables, \+ - \* / \*\* //"):
        parse_expression("[1, 2]", VARS)
    with pytest.raises(ExpressionError, match=r"only \+ - \* / \*\* // may be used"):
        parse_expression("a % b", VARS)


def test_messages_point_at_the_offending_place() -> None:
    with pytest.raises(ExpressionError, match=r"at column 7"):
        parse_expression("a + a.__class__", VARS)
    with pytest.raises(ExpressionError, match=r"at column 9"):
        parse_expression("  a + a.__class__", VARS)
    with pytest.raises(ExpressionError, match=r"at line 3, column 8"):
        parse_expression("\n\n  (a + zz)", VARS)
    with pytest.raises(ExpressionError, match=r"syntax error at column 7: unmatched '\)'"):
        parse_expression("  a + )", VARS)
    with pytest.raises(ExpressionError, match=r"at line 2, column 3"):
        parse_expression("(a +\n  zz)", VARS)


def test_expression_error_is_a_value_error() -> None:
    assert issubclass(ExpressionError, ValueError)


def test_errors_are_found_before_anything_is_computed() -> None:
    # The math error on the left must not hide the forbidden construct on the right.
    with pytest.raises(ExpressionError, match="__class__"):
        parse_expression("log(-1) + a.__class__", VARS)


@pytest.mark.parametrize(
    ("source", "error", "fragment"),
    [
        ("log(-a)", ValueError, "log"),
        ("1 / (a - 2)", ZeroDivisionError, "division by zero"),
        ("1 / 0", ZeroDivisionError, "division by zero"),
        ("(-8) ** (1/3)", ValueError, "fractional power"),
        ("b ** 0.5", ValueError, "fractional power"),
    ],
)
def test_engine_errors_propagate_as_they_are(
    source: str, error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error, match=fragment) as info:
        parse_expression(source, VARS)
    assert not isinstance(info.value, ExpressionError)


@pytest.mark.parametrize(
    ("variables", "fragment"),
    [
        ({"a": "2"}, "must be a real number, got str"),
        ({"a": True}, "must be a real number, got bool"),
        ({"a": None}, "must be a real number"),
        ({"2a": 1.0}, "not a valid variable name"),
        ({"if": 1.0}, "not a valid variable name"),
        ({"tanh": 1.0}, "is the name of a function"),
        ({1: 1.0}, "variable names must be strings"),
    ],
)
def test_bad_variables_are_refused(variables: dict[str, float], fragment: str) -> None:
    with pytest.raises(ExpressionError, match=fragment):
        parse_expression("1", variables)


def test_source_must_be_a_string() -> None:
    with pytest.raises(ExpressionError, match="must be a string"):
        parse_expression(3, VARS)  # type: ignore[arg-type]


# -- assignments ------------------------------------------------------------------------------


def test_parse_assignments() -> None:
    assert parse_assignments(["a=2", "b=-3.5", " c = 1e-3 ", "x_1=4"]) == {
        "a": 2.0,
        "b": -3.5,
        "c": 0.001,
        "x_1": 4.0,
    }
    assert parse_assignments([]) == {}
    values = parse_assignments(["a=2", "b=-3"])
    assert parse_expression("a*b", values).data == -6.0


@pytest.mark.parametrize(
    ("items", "fragment"),
    [
        (["a"], "expected name=number"),
        (["=2"], "expected name=number"),
        (["a="], "expected name=number"),
        (["2a=1"], "'2a' is not a valid variable name"),
        (["a-b=1"], "not a valid variable name"),
        (["if=1"], "not a valid variable name"),
        (["tanh=1"], "is the name of a function"),
        (["a=x"], "'x' is not a number"),
        (["a=b=2"], "is not a number"),
        (["a=nan"], "finite"),
        (["a=inf"], "finite"),
        (["a=1", "b=2", "a=3"], "'a' is given twice"),
        ([3], "must be a string"),
    ],
)
def test_bad_assignments(items: list[str], fragment: str) -> None:
    with pytest.raises(ExpressionError, match=fragment) as info:
        parse_assignments(items)
    assert "\n" not in str(info.value)
