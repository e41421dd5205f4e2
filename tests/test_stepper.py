"""Stepping backward() node by node (`micrograd.stepper`): the steps hold the engine's numbers,
the rules are written out with them, and the naive order's wrong answer is the lecture's."""

from __future__ import annotations

import math

import pytest

from micrograd.expression import parse_expression
from micrograd.stepper import MAX_NODES, StepperError, trace_program

LECTURE = "a = 2.0, b = -3.0, c = 10.0; L = (a*b + c).tanh()"
NEURON = (
    "x1 = 2.0, x2 = 0.0, w1 = -3.0, w2 = 1.0, b = 6.8813735870195432; "
    "o = (x1*w1 + x2*w2 + b).tanh()"
)


def _engine(source: str, variables: dict[str, float]) -> list[tuple[float, float]]:
    """(data, grad) of every node, in topological order, from Value.backward() itself."""
    root = parse_expression(source, variables)
    root.backward()
    return [(float(v.data), float(v.grad)) for v in root.topo_sort()]


@pytest.mark.parametrize(
    ("program", "source", "variables"),
    [
        (LECTURE, "(a*b + c).tanh()", {"a": 2.0, "b": -3.0, "c": 10.0}),
        (
            NEURON,
            "(x1*w1 + x2*w2 + b).tanh()",
            {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432},
        ),
        (
            "x = 0.5, y = 3.0; z = (x ** 3 + y.exp() / x).log() - x",
            "(x ** 3 + y.exp() / x).log() - x",
            {"x": 0.5, "y": 3.0},
        ),
    ],
)
def test_every_node_holds_the_engine_s_data_and_grad(
    program: str, source: str, variables: dict[str, float]
) -> None:
    t = trace_program(program)
    want = _engine(source, variables)
    got = [(n["data"], t["grads"][n["id"]]) for n in t["nodes"]]
    assert got == want  # exactly: each step ran the engine's own rule
    assert t["forward"] == list(range(len(t["nodes"])))
    # the last update of every node is its final grad
    final = {u["child"]: u["after"] for s in t["backward"] for u in s["updates"]}
    assert all(final[i] == t["grads"][i] for i in final)


def test_the_rules_are_written_out_with_their_numbers() -> None:
    t = trace_program("a = 2.0, b = -3.0; e = a*b; d = e + a; f = d ** 2; L = f.exp().tanh()")
    rules = {t["nodes"][s["node"]]["op"]: s["rule"] for s in t["backward"] if "rule" in s}
    assert rules["*"] == "d(a*b)/da = b = -3, d/db = a = 2"
    assert rules["+"] == "d(e + a)/de = 1, d/da = 1"
    assert rules["**2"] == "d(d**2)/dd = 2*d**(2-1) = -8"
    assert rules["tanh"].startswith("d(tanh n6)/dn6 = 1 - L**2 = ")
    assert rules["exp"].startswith("d(exp f)/df = exp f = n6 = ")
    mul = next(s for s in t["backward"] if t["nodes"][s["node"]]["op"] == "*")
    grad_e = mul["grad"]
    assert [u["text"] for u in mul["updates"]] == [
        f"a.grad += {grad_e:.6g} x -3",
        f"b.grad += {grad_e:.6g} x 2",
    ]


def test_a_value_used_twice_shows_its_second_contribution_added() -> None:
    t = trace_program("a = 1; b = a + a; c = b + b")
    labels = [n["label"] for n in t["nodes"]]
    assert labels == ["a", "b", "c"]
    step = next(s for s in t["backward"] if s["node"] == labels.index("c") and "rule" in s)
    first, second = step["updates"]
    assert (first["before"], first["after"], first["again"]) == (0.0, 1.0, False)
    assert (second["before"], second["after"], second["again"]) == (1.0, 2.0, True)
    assert t["grads"] == [4.0, 2.0, 1.0]


def test_the_naive_recursive_order_gets_the_reused_value_wrong() -> None:
    """Running a node's rule and then recursing into its children, with no topological sort:
    b is reached twice through c = b + b and passes its gradient on twice."""
    t = trace_program("a = 1; b = a + a; c = b + b")
    assert t["naive"]["grads"][0] == 8.0  # wrong
    assert t["grads"][0] == 4.0  # right: dc/da = 4


def test_each_named_input_has_its_finite_difference_beside_its_grad() -> None:
    t = trace_program(LECTURE)
    fd = {int(k): v for k, v in t["finite_differences"].items()}
    named = [n["id"] for n in t["nodes"] if not n["children"]]
    assert sorted(fd) == sorted(named)
    for i, estimate in fd.items():
        assert math.isclose(estimate, t["grads"][i], rel_tol=1e-6, abs_tol=1e-9)


@pytest.mark.parametrize(
    ("program", "phrase"),
    [
        ("", "write the inputs, then the output"),
        ("a = 2.0", "name the output"),
        ("a = 2.0; L = a +", "L = a +"),
        ("a = 2.0; L = b * a", "unknown name 'b'"),
        ("a = 2.0; L = __import__('os')", "L = __import__('os')"),
        ("a = -1.0; L = a.log()", "log: the operand must be positive"),
        ("a = 1, a = 2; L = a", "given twice"),
        ("a = 1; L, M = a", "name = expression"),
    ],
)
def test_a_bad_program_says_what_is_wrong(program: str, phrase: str) -> None:
    with pytest.raises(StepperError, match=None) as raised:
        trace_program(program)
    assert phrase in str(raised.value)


def test_a_graph_too_large_to_step_by_hand_is_refused() -> None:
    source = " + ".join(["a"] * (MAX_NODES + 5))
    with pytest.raises(StepperError, match="stepping by hand works up to"):
        trace_program(f"a = 1; L = {source}")


def test_the_first_step_seeds_the_output_with_grad_one() -> None:
    t = trace_program("a = 2.0, b = -3.0; L = a * b + a")
    seed = t["backward"][0]
    assert seed == {"node": t["output"], "seed": True, "grad": 1.0, "updates": []}
    assert t["grads"][0] == -2.0  # d(ab + a)/da = b + 1
