"""Property tests: random expression graphs agree with PyTorch, and graph invariants hold.

A strategy draws a small program: a few input numbers, then a list of steps, each applying an
operation to earlier nodes (so nodes get reused) with constants on either side. Every operation
keeps its operands in its domain by construction (`log` sees `x*x + 1`, divisors are `|y| + 1`,
`exp` sees `tanh(x)`), and a node growing past 1e3 is squashed with `log(x*x + 1)` so nothing
overflows. The program is realised once with micrograd, recording every step, and replayed on
torch tensors, so both engines build exactly the same graph.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from helpers import assert_close, require_torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from micrograd import Value

# Random graphs add up rounding in different orders in the two engines, so they are compared a
# little less tightly than single operations.
RTOL = 1e-9
ATOL = 1e-9
SQUASH_ABOVE = 1e3
KINK_MARGIN = 1e-9


def _floordiv(x: Any, c: Any) -> Any:
    """`x // c`, with a derivative of zero. PyTorch has no derivative for floor_divide, so on
    tensors the result is a constant holding the same value (and zero gradient)."""
    if isinstance(x, Value) or isinstance(c, Value):
        return x // c
    import torch

    x_ = x.detach() if torch.is_tensor(x) else x
    c_ = c.detach() if torch.is_tensor(c) else c
    return torch.floor_divide(torch.as_tensor(x_, dtype=torch.float64), c_)


def _squash(x: Any) -> Any:
    return (x * x + 1).log()


# name -> (arity, function of (operands..., constant)). Every function runs unchanged on Values
# and on float64 tensors, so one definition serves both engines.
OPS: dict[str, tuple[int, Callable[..., Any]]] = {
    "add": (2, lambda x, y, c: x + y),
    "sub": (2, lambda x, y, c: x - y),
    "mul": (2, lambda x, y, c: x * y),
    "div": (2, lambda x, y, c: x / (abs(y) + 1)),
    "pow": (2, lambda x, y, c: (abs(x) + 0.5) ** y.tanh()),
    "add_const": (1, lambda x, c: x + c),
    "radd_const": (1, lambda x, c: c + x),
    "sub_const": (1, lambda x, c: x - c),
    "rsub_const": (1, lambda x, c: c - x),
    "mul_const": (1, lambda x, c: x * c),
    "rmul_const": (1, lambda x, c: c * x),
    "div_const": (1, lambda x, c: x / c),
    "rdiv_const": (1, lambda x, c: c / (x * x + 1)),
    "floordiv_const": (1, lambda x, c: _floordiv(x, abs(c))),
    "rfloordiv_const": (1, lambda x, c: _floordiv(abs(c) * 3, abs(x) + 1)),
    "rpow_const": (1, lambda x, c: abs(c) ** x.tanh()),
    "square": (1, lambda x, c: x**2),
    "cube": (1, lambda x, c: x**3),
    "pow_frac": (1, lambda x, c: (abs(x) + 0.25) ** 1.5),
    "recip": (1, lambda x, c: (abs(x) + 1) ** -1),
    "neg": (1, lambda x, c: -x),
    "abs": (1, lambda x, c: abs(x)),
    "tanh": (1, lambda x, c: x.tanh()),
    "relu": (1, lambda x, c: x.relu()),
    "sigmoid": (1, lambda x, c: x.sigmoid()),
    "exp": (1, lambda x, c: x.tanh().exp()),
    "log": (1, lambda x, c: (x * x + 1).log()),
    "sqrt": (1, lambda x, c: (abs(x) + 1).sqrt()),
    # Not drawn: appended after a node that grew past SQUASH_ABOVE.
    "squash": (1, lambda x, c: _squash(x)),
}

CONSTANTS = [-2.5, -1.5, -0.75, 0.5, 1.25, 2.0, 3.0]


@dataclass(frozen=True)
class Step:
    op: str
    args: tuple[int, ...]
    const: float


@dataclass(frozen=True)
class Program:
    inputs: tuple[float, ...]
    steps: tuple[Step, ...]


raw_steps = st.lists(
    st.tuples(
        st.sampled_from(sorted(set(OPS) - {"squash"})),
        st.integers(0, 10**6),
        st.integers(0, 10**6),
        st.sampled_from(CONSTANTS),
    ),
    min_size=1,
    max_size=14,
)
raw_inputs = st.lists(
    st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False), min_size=1, max_size=4
)


# Steps with a kink where one operand crosses 0 (relu, or an abs() inside), by operand index.
KINK_AT_ZERO = {
    "relu": 0,
    "abs": 0,
    "pow": 0,
    "div": 1,
    "rfloordiv_const": 0,
    "pow_frac": 0,
    "recip": 0,
    "sqrt": 0,
}


def _quotient(op: str, x: float, const: float) -> float | None:
    """For the `//` steps, the quotient whose integer crossings make the step jump."""
    if op == "floordiv_const":
        return x / abs(const)
    if op == "rfloordiv_const":
        return abs(const) * 3 / (abs(x) + 1)
    return None


def _near_kink(op: str, operands: list[Value], const: float) -> bool:
    """Would this step evaluate relu/abs/// too close to a point where it is not smooth?"""
    if op in KINK_AT_ZERO and abs(operands[KINK_AT_ZERO[op]].data) < KINK_MARGIN:
        return True
    q = _quotient(op, operands[0].data, const)
    return q is not None and abs(q - round(q)) < KINK_MARGIN


def realise(inputs: list[float], raw: list[tuple[str, int, int, float]]) -> Program:
    """Run the drawn steps in micrograd, turning node picks into indices, rejecting steps at a
    kink and appending a squash after any node that grows too large."""
    nodes = [Value(x) for x in inputs]
    steps: list[Step] = []

    def apply(step: Step) -> None:
        _, fn = OPS[step.op]
        nodes.append(fn(*[nodes[i] for i in step.args], step.const))
        steps.append(step)

    for op, i, j, const in raw:
        arity, _ = OPS[op]
        args = (i % len(nodes), j % len(nodes))[:arity]
        assume(not _near_kink(op, [nodes[k] for k in args], const))
        apply(Step(op, args, const))
        if abs(nodes[-1].data) > SQUASH_ABOVE:
            apply(Step("squash", (len(nodes) - 1,), 0.0))
    return Program(tuple(inputs), tuple(steps))


def evaluate(program: Program, leaf: Callable[[float], Any]) -> tuple[list[Any], Any]:
    """Build the program's graph from leaves made by `leaf`; the output sums every node, so each
    node feeds the output along several paths."""
    nodes = [leaf(x) for x in program.inputs]
    for step in program.steps:
        _, fn = OPS[step.op]
        nodes.append(fn(*[nodes[i] for i in step.args], step.const))
    return nodes, sum(nodes)


programs = st.builds(realise, raw_inputs, raw_steps)


@settings(max_examples=100, deadline=None)
@given(programs)
def test_random_graphs_match_pytorch(program: Program) -> None:
    torch = require_torch()
    nodes, out = evaluate(program, Value)
    out.backward()

    def leaf(x: float) -> Any:
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    t_nodes, t_out = evaluate(program, leaf)
    for t in t_nodes:
        if t.requires_grad and not t.is_leaf:
            t.retain_grad()
    t_out.backward()

    assert_close(out.data, t_out.item(), "output", RTOL, ATOL)
    for k, (v, t) in enumerate(zip(nodes, t_nodes, strict=True)):
        assert_close(v.data, t.item(), f"value of node {k}", RTOL, ATOL)
        if not t.requires_grad:
            continue  # downstream of `//` only: torch holds it as a constant with no gradient
        t_grad = 0.0 if t.grad is None else t.grad.item()
        assert_close(v.grad, t_grad, f"gradient of node {k}", RTOL, ATOL)


@settings(max_examples=60, deadline=None)
@given(programs)
def test_topo_sort_invariants(program: Program) -> None:
    nodes, out = evaluate(program, Value)
    topo = out.topo_sort()
    position = {id(v): i for i, v in enumerate(topo)}
    assert len(position) == len(topo), "a node appears twice"
    assert topo[-1] is out
    for v in topo:
        for child in v._prev:
            assert position[id(child)] < position[id(v)]
    # Every node reachable from the output is in the order.
    seen: set[int] = set()
    stack = [out]
    while stack:
        v = stack.pop()
        if id(v) not in seen:
            seen.add(id(v))
            stack.extend(v._prev)
    assert seen == set(position)
    assert {id(v) for v in nodes} <= seen


@settings(max_examples=60, deadline=None)
@given(programs)
def test_backward_twice_doubles_leaves_only(program: Program) -> None:
    nodes, out = evaluate(program, Value)
    leaves = nodes[: len(program.inputs)]
    inner = nodes[len(program.inputs) :]
    out.backward()
    first_leaves = [v.grad for v in leaves]
    first_inner = [v.grad for v in inner]
    out.backward()
    # A leaf's contributions are added into its grad one by one, so the second sum starts from
    # the first and rounds differently: exact up to the rounding of the largest contribution.
    scale = max(1.0, *(abs(v.grad) for v in out.topo_sort()))
    for v, g in zip(leaves, first_leaves, strict=True):
        assert v.grad == pytest.approx(2 * g, rel=1e-12, abs=1e-12 * scale)
    assert [v.grad for v in inner] == first_inner
    assert out.grad == 1.0


@settings(max_examples=60, deadline=None)
@given(programs)
def test_gradients_match_finite_differences(program: Program) -> None:
    """Without torch: the gradient of each input agrees with a central difference."""
    nodes, out = evaluate(program, Value)
    out.backward()
    eps = 1e-6
    for i, x in enumerate(program.inputs):

        def at(delta: float, i: int = i, x: float = x) -> float:
            moved = [*program.inputs]
            moved[i] = x + delta
            _, o = evaluate(Program(tuple(moved), program.steps), Value)
            return float(o.data)

        try:
            numeric = (at(eps) - at(-eps)) / (2 * eps)
        except (ValueError, ZeroDivisionError):
            continue  # a nudge landed outside some operation's domain: nothing to compare
        analytic = nodes[i].grad
        # Rounding the output (a sum of every node) costs a few ulps of its terms, divided by
        # the step; beyond that, central differences are good to ~eps**2.
        rounding = 1e-15 * sum(abs(v.data) for v in nodes) / eps
        ok = abs(analytic - numeric) <= 1e-4 * max(1.0, abs(analytic), abs(numeric)) + rounding
        if not ok:
            # A nudge may cross a kink of relu, abs or // that the program sits near.
            assume(_smooth_near(program, i, eps))
        assert ok, (i, analytic, numeric)


def _kink_sides(program: Program, inputs: list[float]) -> list[object]:
    """On which side of each kink every step of the program evaluates."""
    nodes = [Value(x) for x in inputs]
    sides: list[object] = []
    for step in program.steps:
        _, fn = OPS[step.op]
        operands = [nodes[k] for k in step.args]
        if step.op in KINK_AT_ZERO:
            sides.append(operands[KINK_AT_ZERO[step.op]].data > 0)
        q = _quotient(step.op, operands[0].data, step.const)
        if q is not None:
            sides.append(math.floor(q))
        nodes.append(fn(*operands, step.const))
    return sides


def _smooth_near(program: Program, i: int, eps: float) -> bool:
    """Is the program's output smooth within eps of input i (no kink crossed)?"""

    def moved(delta: float) -> list[float]:
        xs = [*program.inputs]
        xs[i] += delta
        return xs

    base = _kink_sides(program, [*program.inputs])
    return all(_kink_sides(program, moved(d)) == base for d in (-eps, eps))
