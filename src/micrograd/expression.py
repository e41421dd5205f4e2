"""A safe parser that turns an arithmetic expression such as `"(a*b + c).tanh()"` into a graph of
`Value`s, so the command line can draw and differentiate expressions typed by a user.

The text is parsed with Python's `ast` module and walked against a whitelist: numbers, the
variables given, `+ - * / ** //`, unary `-` and `+`, and the functions tanh relu sigmoid exp log
sqrt abs, called either as `f(x)` or as `x.f()`. Nothing is ever handed to `eval`, `exec` or
`compile`, and everything outside the whitelist raises `ExpressionError` naming what is not
allowed and what is. Walking is iterative, so a long chain such as `a + a + ... + a` costs no
Python recursion.
"""

from __future__ import annotations

import ast
import keyword
import math
import operator
import unicodedata
from collections.abc import Callable, Mapping
from numbers import Real
from typing import Any

from .engine import Value

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "ExpressionError",
    "parse_assignments",
    "parse_expression",
]

MAX_LENGTH = 10_000
# Nesting a human would see: parentheses, function calls, unary signs, right operands. The left
# operand of a binary operator stays at its parent's level, so `a + b + ... + z` is flat.
MAX_DEPTH = 200

Number = int | float
Operand = Number | Value

FUNCTIONS: dict[str, Callable[[Value], Value]] = {
    "tanh": Value.tanh,
    "relu": Value.relu,
    "sigmoid": Value.sigmoid,
    "exp": Value.exp,
    "log": Value.log,
    "sqrt": Value.sqrt,
    "abs": Value.__abs__,
}

_BINARY: dict[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv),
    ast.Pow: ("**", operator.pow),
    ast.FloorDiv: ("//", operator.floordiv),
}
_OTHER_BINARY = {
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
}


def _identity(x: Any) -> Any:
    return x


# Unary + means the operand itself (a Value has no __pos__ of its own).
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: _identity,
}
_OTHER_UNARY = {ast.Not: "not", ast.Invert: "~"}

_FUNCTION_LIST = ", ".join(FUNCTIONS)
_ALLOWED = (
    f"use numbers, variables, + - * / ** //, and the functions {_FUNCTION_LIST} as f(x) or x.f()"
)
_EXAMPLE = "e.g. (a*b + c).tanh() or relu(x*w + b) ** 2 / 2"

# What to call constructs outside the whitelist in an error message.
_CONSTRUCTS: dict[type[ast.AST], str] = {
    ast.List: "lists [...]",
    ast.Tuple: "tuples (a, b)",
    ast.Set: "sets {...}",
    ast.Dict: "dicts {...}",
    ast.ListComp: "list comprehensions",
    ast.SetComp: "set comprehensions",
    ast.DictComp: "dict comprehensions",
    ast.GeneratorExp: "generator expressions",
    ast.Lambda: "lambda functions",
    ast.IfExp: "conditional expressions (a if b else c)",
    ast.Compare: "comparisons (< > == ...)",
    ast.BoolOp: "the operators 'and' / 'or'",
    ast.Subscript: "subscripts x[...]",
    ast.Slice: "slices",
    ast.Starred: "starred arguments *x",
    ast.JoinedStr: "f-strings",
    ast.FormattedValue: "f-strings",
    ast.NamedExpr: "assignment expressions (:=)",
    ast.Await: "await expressions",
    ast.Yield: "yield expressions",
    ast.YieldFrom: "yield expressions",
}


class ExpressionError(ValueError):
    """The expression (or a variable assignment) is not one this parser accepts."""


def parse_expression(
    source: str, variables: Mapping[str, float], bound: Mapping[str, Value] | None = None
) -> Value:
    """Evaluate `source` into a `Value` graph; each variable used becomes a leaf labelled by name.

    `bound` names Values that already exist (earlier results, shared inputs): the expression
    uses those very nodes, so several expressions can build one graph.

    Arithmetic on plain numbers alone is done at once, as Python would do it when writing the
    expression by hand with `Value`s, so `x * (2 + 1)` has one constant leaf, 3. Errors of the
    math itself (log of a negative number, division by zero) propagate from the engine as they
    are; everything else that is wrong raises `ExpressionError`.
    """
    if not isinstance(source, str):
        raise ExpressionError(f"the expression must be a string, got {type(source).__name__}")
    if len(source) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is {len(source)} characters long; the limit is {MAX_LENGTH}"
        )
    if not source.strip():
        raise ExpressionError(f"the expression is empty: write one, {_EXAMPLE}")
    given = dict(bound or {})
    values = _check_variables({**variables, **{k: float(v.data) for k, v in given.items()}})
    tree = _parse(source)
    _validate(tree, source, values)
    return _evaluate(tree, values, {_normal(k): v for k, v in given.items()})


def parse_assignments(items: list[str]) -> dict[str, float]:
    """Parse `["a=2", "b=-3.5"]` into `{"a": 2.0, "b": -3.5}`.

    Each item must be `name=number` with a valid, unused variable name and a finite number.
    """
    result: dict[str, float] = {}
    for item in items:
        if not isinstance(item, str):
            raise ExpressionError(
                f"a variable assignment must be a string like a=2.0, got {type(item).__name__}"
            )
        name, sep, text = item.partition("=")
        name, text = name.strip(), text.strip()
        if not sep or not name or not text:
            raise ExpressionError(f"bad assignment {item!r}: expected name=number, e.g. a=2.0")
        _check_name(name, f"bad assignment {item!r}")
        try:
            number = float(text)
        except ValueError:
            raise ExpressionError(
                f"bad assignment {item!r}: {text!r} is not a number; expected name=number, "
                "e.g. a=2.0"
            ) from None
        if not math.isfinite(number):
            raise ExpressionError(f"bad assignment {item!r}: the value must be a finite number")
        if name in result:
            raise ExpressionError(
                f"variable {name!r} is given twice ({name}={result[name]!r}, then {item!r}): "
                "give each variable one value"
            )
        result[name] = number
    return result


# -- checking the inputs --------------------------------------------------------------------


def _check_name(name: str, context: str) -> None:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ExpressionError(
            f"{context}: {name!r} is not a valid variable name; use letters, digits and _, "
            "not starting with a digit, e.g. x1"
        )
    if _normal(name) in FUNCTIONS:
        raise ExpressionError(
            f"{context}: {name!r} is the name of a function; choose another variable name"
        )


def _normal(name: str) -> str:
    # Python's parser folds identifiers to NFKC, so the lookup must too.
    return unicodedata.normalize("NFKC", name)


def _check_variables(variables: Mapping[str, float]) -> dict[str, tuple[str, float]]:
    """The variables by their NFKC-normal name, as (name as given, value)."""
    if not isinstance(variables, Mapping):
        raise ExpressionError(
            f"variables must be a mapping of names to numbers, got {type(variables).__name__}"
        )
    found: dict[str, tuple[str, float]] = {}
    for name, value in variables.items():
        if not isinstance(name, str):
            raise ExpressionError(f"variable names must be strings, got {name!r}")
        _check_name(name, "bad variable")
        if isinstance(value, bool) or not isinstance(value, Real):
            raise ExpressionError(
                f"variable {name!r} must be a real number, got {type(value).__name__} {value!r}"
            )
        key = _normal(name)
        if key in found:
            raise ExpressionError(
                f"variables {found[key][0]!r} and {name!r} are the same name to Python"
            )
        found[key] = (name, float(value))
    return found


def _parse(source: str) -> ast.Expression:
    """Parse, allowing leading whitespace, with positions that refer to `source` as given."""
    # Python refuses an indented first line; parse without the indent, then shift positions.
    text = source.lstrip()
    skipped = source[: len(source) - len(text)]
    lines_skipped = skipped.count("\n")
    indent = len(skipped) - (skipped.rfind("\n") + 1)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        line = (e.lineno or 1) + lines_skipped
        column = (e.offset or 1) + (indent if (e.lineno or 1) == 1 else 0)
        where = f"line {line}, column {column}" if line > 1 else f"column {column}"
        raise ExpressionError(
            f"syntax error at {where}: {e.msg}; expected an expression, {_EXAMPLE}"
        ) from None
    except (RecursionError, MemoryError):
        raise ExpressionError(
            "the expression is nested too deeply (or chains too many operations) for Python's "
            "parser; write a shorter one"
        ) from None
    except ValueError as e:  # e.g. null bytes, on Python versions that do not say SyntaxError
        raise ExpressionError(f"the expression cannot be parsed: {e}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.expr):
            if node.lineno == 1:
                node.col_offset += indent
            if node.end_lineno == 1 and node.end_col_offset is not None:
                node.end_col_offset += indent
            node.lineno += lines_skipped
            if node.end_lineno is not None:
                node.end_lineno += lines_skipped
    return tree


# -- validation -------------------------------------------------------------------------------


def _snippet(source: str, node: ast.AST) -> str:
    text = ast.get_source_segment(source, node) or ""
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "..."


def _at(node: ast.AST) -> str:
    """Where `node` starts, for messages: its column, and its line if not the first."""
    line = getattr(node, "lineno", 1)
    column = getattr(node, "col_offset", 0) + 1
    if isinstance(node, ast.Attribute) and node.end_col_offset is not None:
        # Point at the attribute's name, not at the `x` before its dot.
        line = node.end_lineno or line
        column = node.end_col_offset - len(node.attr) + 1
    return _position(line, column)


def _position(line: int, column: int) -> str:
    return f" (at line {line}, column {column})" if line > 1 else f" (at column {column})"


def _operator_at(source: str, node: ast.BinOp) -> str:
    """Where a binary operator is, for messages: the first character after its left operand
    (and the operand's closing brackets)."""
    lines = source.splitlines() or [""]
    line = node.left.end_lineno or node.lineno
    column = node.left.end_col_offset or 0
    while line <= len(lines):
        text = lines[line - 1]
        while column < len(text) and text[column] in " \t)":
            column += 1
        if column < len(text):
            return _position(line, column + 1)
        line, column = line + 1, 0
    return _at(node)


def _check_operator(
    where: str, op: ast.AST, allowed: Mapping[Any, Any], names: Mapping[Any, str], only: str
) -> None:
    if type(op) not in allowed:
        symbol = names.get(type(op), type(op).__name__)
        raise ExpressionError(
            f"the operator {symbol!r} is not allowed{where}: only {only} may be used"
        )


def _validate(tree: ast.Expression, source: str, values: Mapping[str, object]) -> None:
    """Reject everything outside the whitelist before anything is computed."""
    stack: list[tuple[ast.expr, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"the expression is nested more than {MAX_DEPTH} levels deep{_at(node)}; "
                "write a flatter one"
            )
        if isinstance(node, ast.Constant):
            _check_constant(node)
        elif isinstance(node, ast.Name):
            _check_name_use(node, values)
        elif isinstance(node, ast.BinOp):
            where = _operator_at(source, node)
            _check_operator(where, node.op, _BINARY, _OTHER_BINARY, "+ - * / ** //")
            stack.append((node.right, depth + 1))
            stack.append((node.left, depth))
        elif isinstance(node, ast.UnaryOp):
            _check_operator(_at(node), node.op, _UNARY, _OTHER_UNARY, "unary - and +")
            stack.append((node.operand, depth + 1))
        elif isinstance(node, ast.Call):
            stack.append((_check_call(node, source), depth + 1))
        elif isinstance(node, ast.Attribute):
            _reject_attribute(node, source)
        else:
            what = _CONSTRUCTS.get(type(node), f"{type(node).__name__} expressions")
            raise ExpressionError(f"{what} are not allowed{_at(node)}: {_ALLOWED}")


def _check_constant(node: ast.Constant) -> None:
    value = node.value
    if isinstance(value, str | bytes):
        raise ExpressionError(f"strings are not allowed{_at(node)}: {_ALLOWED}")
    if isinstance(value, bool) or value is None or value is Ellipsis:
        raise ExpressionError(f"{value!r} is not a number{_at(node)}: {_ALLOWED}")
    if isinstance(value, complex):
        raise ExpressionError(
            f"complex numbers such as {value!r} are not supported{_at(node)}: only real numbers"
        )
    if not isinstance(value, int | float):
        raise ExpressionError(f"the constant {value!r} is not allowed{_at(node)}: {_ALLOWED}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ExpressionError(f"the number{_at(node)} is too large to represent")
    if isinstance(value, int):
        try:
            float(value)
        except OverflowError:
            raise ExpressionError(f"the number{_at(node)} is too large to represent") from None


def _check_name_use(node: ast.Name, values: Mapping[str, object]) -> None:
    name = node.id
    if name in values:
        return
    if name in FUNCTIONS:
        raise ExpressionError(
            f"{name!r} is a function{_at(node)}: call it, as {name}(x) or x.{name}()"
        )
    raise ExpressionError(
        f"unknown name {name!r}{_at(node)}: define it with a value, e.g. {name}=1.0"
    )


def _check_call(node: ast.Call, source: str) -> ast.expr:
    """Check a call of an allowed function or method and return the expression it applies to."""
    if node.keywords:
        raise ExpressionError(
            f"keyword arguments are not allowed{_at(node)}: the functions take one value, "
            "e.g. tanh(x)"
        )
    func = node.func
    if isinstance(func, ast.Attribute):
        if func.attr not in FUNCTIONS:
            raise ExpressionError(
                f"{func.attr!r} is not allowed{_at(func)}: only the methods {_FUNCTION_LIST} "
                "may be called, e.g. x.tanh()"
            )
        if node.args:
            raise ExpressionError(
                f".{func.attr}() takes no arguments, got {len(node.args)}{_at(node)}: "
                f"write x.{func.attr}() or {func.attr}(x)"
            )
        return func.value
    if isinstance(func, ast.Name):
        if func.id not in FUNCTIONS:
            raise ExpressionError(
                f"calling {func.id!r} is not allowed{_at(node)}: only the functions "
                f"{_FUNCTION_LIST} may be called, e.g. tanh(x)"
            )
        if len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise ExpressionError(
                f"{func.id}() takes exactly one argument, got {len(node.args)}{_at(node)}: "
                f"write {func.id}(x)"
            )
        return node.args[0]
    raise ExpressionError(
        f"only named functions can be called, not {_snippet(source, func)!r}{_at(node)}: "
        f"use one of {_FUNCTION_LIST}, e.g. tanh(x)"
    )


def _reject_attribute(node: ast.Attribute, source: str) -> None:
    if node.attr in FUNCTIONS:
        raise ExpressionError(
            f"the method {node.attr!r} must be called{_at(node)}: write "
            f"{_snippet(source, node.value)}.{node.attr}()"
        )
    raise ExpressionError(
        f"{node.attr!r} is not allowed{_at(node)}: attributes cannot be read; only the methods "
        f"{_FUNCTION_LIST} may be called, e.g. x.tanh()"
    )


# -- evaluation -------------------------------------------------------------------------------


def _fold(op: Callable[[Any, Any], Any], a: Number, b: Number) -> float:
    """Arithmetic on two plain numbers, through the engine so its checks and messages apply."""
    result = op(Value(a), b)
    return float(result.data)


def _evaluate(
    tree: ast.Expression,
    values: Mapping[str, tuple[str, float]],
    bound: Mapping[str, Value] | None = None,
) -> Value:
    """Post-order walk with an explicit stack; the tree was validated already."""
    leaves: dict[str, Value] = dict(bound or {})
    results: list[Operand] = []
    # (node, expanded): a node is pushed once to visit its operands, then again to combine them.
    stack: list[tuple[ast.expr, bool]] = [(tree.body, False)]
    while stack:
        node, expanded = stack.pop()
        if isinstance(node, ast.Constant):
            value = node.value
            assert isinstance(value, int | float)
            results.append(value)
        elif isinstance(node, ast.Name):
            if node.id not in leaves:
                label, value = values[node.id]
                leaves[node.id] = Value(value, label=label)
            results.append(leaves[node.id])
        elif not expanded:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(_operands(node)))
        elif isinstance(node, ast.BinOp):
            right = results.pop()
            left = results.pop()
            op = _BINARY[type(node.op)][1]
            if isinstance(left, Value) or isinstance(right, Value):
                results.append(op(left, right))
            else:
                results.append(_fold(op, left, right))
        elif isinstance(node, ast.UnaryOp):
            results.append(_UNARY[type(node.op)](results.pop()))
        else:
            assert isinstance(node, ast.Call)
            name = node.func.attr if isinstance(node.func, ast.Attribute) else _name(node.func)
            arg = results.pop()
            results.append(FUNCTIONS[name](arg if isinstance(arg, Value) else Value(arg)))
    (result,) = results
    return result if isinstance(result, Value) else Value(result)


def _name(func: ast.expr) -> str:
    assert isinstance(func, ast.Name)
    return func.id


def _operands(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    assert isinstance(node, ast.Call)
    return [node.func.value] if isinstance(node.func, ast.Attribute) else [node.args[0]]
