"""Backpropagation one node at a time: the lecture's central moment, as data a page can step.

`trace_program("a = 2.0, b = -3.0, c = 10.0; L = (a*b + c).tanh()")` builds the expression's
graph with the engine (through the safe parser of `expression`, never `eval`) and records:

- the nodes in topological order (label, op, data, children), which is also the forward order;
- the backward steps: the output seeded with grad 1, then each node's own rule run by the engine,
  one node per step, in reverse topological order, with what it added to each child and the rule
  written out with its numbers (`d(a*b)/da = b = -3`, `a.grad += 1 x -3 -> -3`);
- each named input's finite-difference estimate `(L(x+h) - L(x-h)) / 2h`, beside its grad;
- the naive order (run a node's rule, then recurse into each child, without a topological sort),
  whose wrong gradients show why backward() sorts first.

The grads are the engine's own: each step runs the node's rule (`node._backward()`), so after
the last step every node holds what `Value.backward()` gives.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .engine import Value
from .expression import ExpressionError, parse_assignments, parse_expression
from .numeric import ieee_pow

__all__ = ["MAX_NODES", "StepperError", "trace", "trace_program"]

MAX_NODES = 200  # a graph a learner can step through by hand
_H = 1e-5


class StepperError(ValueError):
    """A program the stepper cannot run; the text says what is wrong and what to write."""


Program = tuple[dict[str, float], list[tuple[str, str]]]


def _parse_program(text: str) -> Program:
    """`"a = 2.0, b = -3.0; e = a*b; L = (e + 1).tanh()"` -> the inputs {"a": 2.0, "b": -3.0}
    and the statements [("e", "a*b"), ("L", "(e + 1).tanh()")], the last one the output."""
    if not isinstance(text, str) or not text.strip():
        raise StepperError("write the inputs, then the output: a = 2.0, b = -3.0; L = a*b + 1")
    inputs: dict[str, float] = {}
    statements: list[tuple[str, str]] = []
    names: set[str] = set()  # every name given or defined so far
    for part in (p.strip() for p in text.replace("\n", ";").split(";")):
        if not part:
            continue
        items = [item.strip() for item in part.split(",")]
        if all(_is_number(item.partition("=")[2]) for item in items):
            try:
                given = parse_assignments(items)
            except ExpressionError as e:
                raise StepperError(str(e)) from None
            for name, value in given.items():
                if name in names:
                    raise StepperError(f"{name!r} is given twice: give each name one value")
                inputs[name] = value
                names.add(name)
            continue
        name, eq, source = part.partition("=")
        name = name.strip()
        if not eq or not name.isidentifier() or not source.strip() or "," in part:
            raise StepperError(
                f"write name = expression, one per part between semicolons, e.g. "
                f"L = (a*b + c).tanh(); got {part!r}"
            )
        if name in names:
            raise StepperError(f"{name!r} is defined twice: give each result its own name")
        statements.append((name, source.strip()))
        names.add(name)
    if not statements:
        raise StepperError("after the inputs, name the output: e.g. L = (a*b + c).tanh()")
    return inputs, statements


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _run(program: Program, inputs: dict[str, float] | None = None) -> Value:
    """The program's output Value, its inputs as shared leaves labelled by name."""
    given, statements = program
    values = given if inputs is None else inputs
    bound: dict[str, Value] = {name: Value(x, label=name) for name, x in values.items()}
    out = None
    for name, source in statements:
        try:
            out = parse_expression(source, {}, bound)
        # ExpressionError (a ValueError) for the text; the math itself: log(-1), 1/0, ...
        except (ArithmeticError, ValueError) as e:
            raise StepperError(f"{name} = {source}: {e}") from None
        if out.label and out.label in bound and bound[out.label] is out:
            out = out + 0.0  # `b = a` names a node that has a name already: give b its own
        out.label = name
        bound[name] = out
    assert out is not None
    return out


def trace_program(text: str) -> dict[str, Any]:
    """Parse and run a program; the steps of its forward and backward passes (see `trace`)."""
    program = _parse_program(text)
    root = _run(program)
    return trace(root, program[0], lambda values: float(_run(program, values).data))


def trace(
    root: Value,
    inputs: dict[str, float] | None = None,
    evaluate: Callable[[dict[str, float]], float] | None = None,
) -> dict[str, Any]:
    """The forward and backward steps of `root`'s graph, as plain data (numbers and strings).

    `inputs` and `evaluate` (the output as a function of the named inputs) give each named leaf
    its finite-difference estimate; without them the column is left out.
    """
    order = root.topo_sort()
    if len(order) > MAX_NODES:
        raise StepperError(
            f"the graph has {len(order)} nodes; stepping by hand works up to {MAX_NODES}"
        )
    ids = {v: i for i, v in enumerate(order)}
    nodes = [
        {
            "id": ids[v],
            "label": v.label or _auto_label(v, ids),
            "op": v._op,
            "data": float(v.data),
            "children": [ids[c] for c in v.children],
        }
        for v in order
    ]
    steps = _backward_steps(root, order, ids)
    grads = [float(v.grad) for v in order]
    naive = _naive(root, order, ids)
    for v in order:  # leave the graph as backward() would: every grad filled in
        v.grad = grads[ids[v]]
    estimates = {}
    if inputs is not None and evaluate is not None:
        for v in order:
            if not v.children and v.label in inputs:
                up = {**inputs, v.label: inputs[v.label] + _H}
                down = {**inputs, v.label: inputs[v.label] - _H}
                try:
                    estimates[ids[v]] = (evaluate(up) - evaluate(down)) / (2 * _H)
                except (ArithmeticError, ValueError, StepperError):  # x - h outside the domain
                    estimates[ids[v]] = math.nan
    return {
        "output": ids[root],
        "nodes": nodes,
        "forward": [ids[v] for v in order],
        "backward": steps,
        "grads": grads,
        "finite_differences": {str(k): v for k, v in estimates.items()},
        "naive": naive,
    }


def _auto_label(v: Value, ids: dict[Value, int]) -> str:
    return "" if not v.children else f"n{ids[v] + 1}"


def _name(v: Value, ids: dict[Value, int]) -> str:
    return v.label or _auto_label(v, ids) or f"{v.data:g}"


def _backward_steps(root: Value, order: list[Value], ids: dict[Value, int]) -> list[dict[str, Any]]:
    """Seed the output, then run each node's rule in reverse topological order, recording what
    each child's grad was before and after."""
    for v in order:
        v.grad = 0.0
    root.grad = 1.0
    steps: list[dict[str, Any]] = [{"node": ids[root], "seed": True, "grad": 1.0, "updates": []}]
    for v in reversed(order):
        if not v.children:
            continue
        before = [float(c.grad) for c in v.children]
        v._backward()
        updates: list[dict[str, Any]] = []
        last: dict[int, dict[str, Any]] = {}
        for k, (c, was) in enumerate(zip(v.children, before, strict=True)):
            local = _local(v, k)
            earlier = last.get(ids[c])  # the same child again (b + b): its second contribution
            start = was if earlier is None else earlier["after"]
            update = {
                "child": ids[c],
                "before": start,
                "after": start + float(v.grad) * local,
                "local": local,
                "again": earlier is not None,
                "text": f"{_name(c, ids)}.grad += {_g(v.grad)} x {_g(local)}",
            }
            updates.append(update)
            last[ids[c]] = update
        for c in v.children:  # the engine's own number, whatever the display computed
            last[ids[c]]["after"] = float(c.grad)
        steps.append(
            {
                "node": ids[v],
                "grad": float(v.grad),
                "rule": _rule_text(v, ids),
                "updates": updates,
            }
        )
    return steps


def _g(x: float) -> str:
    return f"{x:.6g}"


def _local(v: Value, k: int) -> float:
    """d(v)/d(child k), the local derivative the rule multiplies v.grad by."""
    c = v.children
    op, x = v._op, float(c[k].data)
    y = float(v.data)
    if op == "+":
        return 1.0
    if op == "*":
        return float(c[1 - k].data)
    if op.startswith("**") and len(op) > 2:  # a number exponent
        n = float(op[2:])
        return 0.0 if n == 0 else n * float(ieee_pow(x, n - 1))
    if op == "**":
        a, b = float(c[0].data), float(c[1].data)
        return b * float(ieee_pow(a, b - 1)) if k == 0 else y * math.log(a)
    return {
        "exp": lambda: y,
        "log": lambda: 1.0 / x,
        "tanh": lambda: 1.0 - y * y,
        "ReLU": lambda: 1.0 if y > 0 else 0.0,
        "sigmoid": lambda: y * (1.0 - y),
        "abs": lambda: float((x > 0) - (x < 0)),
        "//": lambda: 0.0,
    }.get(op, lambda: math.nan)()


def _rule_text(v: Value, ids: dict[Value, int]) -> str:
    """The rule with its numbers, as the lecture writes it."""
    c = [_name(x, ids) for x in v.children]
    out = _name(v, ids)
    op = v._op
    if op == "+":
        return f"d({c[0]} + {c[1]})/d{c[0]} = 1, d/d{c[1]} = 1"
    if op == "*":
        a, b = (float(x.data) for x in v.children)
        return f"d({c[0]}*{c[1]})/d{c[0]} = {c[1]} = {_g(b)}, d/d{c[1]} = {c[0]} = {_g(a)}"
    if op.startswith("**") and len(op) > 2:
        n = op[2:]
        return f"d({c[0]}**{n})/d{c[0]} = {n}*{c[0]}**({n}-1) = {_g(_local(v, 0))}"
    if op == "**":
        return (
            f"d({c[0]}**{c[1]})/d{c[0]} = {c[1]}*{c[0]}**({c[1]}-1) = {_g(_local(v, 0))}, "
            f"d/d{c[1]} = {out}*ln({c[0]}) = {_g(_local(v, 1))}"
        )
    if op == "//":
        return f"{c[0]} // {c[1]} is flat: derivative 0"
    texts = {
        "exp": f"d(exp {c[0]})/d{c[0]} = exp {c[0]} = {out}",
        "log": f"d(log {c[0]})/d{c[0]} = 1/{c[0]}",
        "tanh": f"d(tanh {c[0]})/d{c[0]} = 1 - {out}**2",
        "ReLU": f"d(relu {c[0]})/d{c[0]} = 1 if {out} > 0 else 0",
        "sigmoid": f"d(sigmoid {c[0]})/d{c[0]} = {out}*(1 - {out})",
        "abs": f"d|{c[0]}|/d{c[0]} = sign({c[0]})",
    }
    text = texts.get(op)
    return f"{op}: the engine's rule" if text is None else f"{text} = {_g(_local(v, 0))}"


def _naive(root: Value, order: list[Value], ids: dict[Value, int]) -> dict[str, Any]:
    """The order many first try: run a node's rule, then recurse into each child (no sort).
    A node then passes its gradient on before all of it has arrived, and a node reached
    twice passes it on twice. Iterative, so it never meets Python's recursion limit."""
    for v in order:
        v.grad = 0.0
    root.grad = 1.0
    visits: list[int] = []
    stack = [root]
    while stack and len(visits) < 10 * MAX_NODES:
        v = stack.pop()
        visits.append(ids[v])
        v._backward()
        stack.extend(reversed(v.children))  # children in order, the first one next
    return {"visits": visits, "grads": [float(v.grad) for v in order]}
