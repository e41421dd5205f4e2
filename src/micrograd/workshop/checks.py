"""The checks of step 1: the learner's `Value` operators, each building one node of the graph.

Each check tries one idea on their Value and on our engine, with the same expression, and
compares. Each names the rule it is about (`why`) and one way to get it right (`hint`).
`one_node`, which checks that a result is a single node whose children are its operands, is
shared with the checks of tanh and ReLU in `checks_backward`.
"""

from __future__ import annotations

from .base import Failed, check
from .probe import Probe, children, fmt

__all__ = ["one_node"]

_OPERANDS = "the result remembers its operands: they are the edges backward() will follow"


def _operands(p: Probe, out: object, *expected: object) -> None:
    got = children(out)
    if {id(c) for c in got} != {id(e) for e in expected}:
        if len(got) < len({id(e) for e in expected}) and _compares_data(p.Value):
            raise Failed(
                f"out._prev holds {len(got)} Value for {len(expected)} different operands",
                "both operands, two nodes",
                why="your Value defines __eq__ (or __hash__) from its data, so a set takes two "
                "different Values holding the same number for one: the graph loses a node, and "
                "backward() a path",
                hint="delete __eq__ and __hash__: Values are compared by identity, as Python "
                "does by default (compare a.data == b.data when you mean the numbers)",
            )
        names = ", ".join(fmt(getattr(c, "data", c)) for c in got) or "nothing"
        want = ", ".join(fmt(getattr(e, "data", e)) for e in expected)
        raise Failed(
            f"out._prev holds {names}",
            f"the operands, {want}",
            why=_OPERANDS,
            hint="pass the operands as _children: Value(result, (self, other), '+')",
        )


def _compares_data(value: type) -> bool:
    """Does the learner's class define equality (or hashing) of its own?"""
    return any(name in vars(c) for c in value.__mro__[:-1] for name in ("__eq__", "__hash__"))


def _op_named(out: object) -> None:
    if not getattr(out, "_op", ""):
        raise Failed(
            "out._op == ''",
            "the operation's name, such as '+'",
            why="_op says how a node was made; pictures of the graph show it",
            hint="pass it when you build the result: Value(result, (self, other), '+')",
        )


def one_node(p: Probe, code: str, *, op_named: bool = False, **leaves: float) -> None:
    """Run `code` forward on their Values and ours; fail unless the result is a single node
    whose children are exactly the leaves (and, if `op_named`, whose _op says what made it)."""
    names = p.forward(code, **leaves)
    _operands(p, names["out"], *(names[leaf] for leaf in leaves))
    if op_named:
        _op_named(names["out"])


# -- step 1: operators --------------------------------------------------------------------


@check(
    1,
    "a + b makes a new Value from both operands",
    why="a + b is a new node of the graph whose data is a.data + b.data and whose children are "
    "a and b",
    hint="return Value(self.data + other.data, (self, other), '+')",
)
def add(p: Probe) -> None:
    one_node(p, "a + b", op_named=True, a=2.0, b=-3.0)
    out = p.forward("a + b", a=2.0, b=-3.0)["out"]
    if not hasattr(out, "prev") or not hasattr(out, "_prev"):
        p.note = (
            "the seed workshop's tests read v.prev and the lecture's code v._prev: keep both "
            "(a property `prev` returning self._prev, as the skeleton has)"
        )


@check(
    1,
    "two Values holding the same number are two nodes",
    why="a graph node is an object, not a number: a + b with a and b both 2.0 has two children",
    hint="don't define __eq__ or __hash__ on Value: Python then compares Values by identity",
)
def same_data(p: Probe) -> None:
    one_node(p, "a + b", a=2.0, b=2.0)
    one_node(p, "a * b", a=2.0, b=2.0)


@check(
    1,
    "a Value plus a plain number",
    why="a plain number has no .data (and no .grad): it must become a Value, a constant leaf "
    "of the graph, before it can be added",
    hint="begin the operator with `other = other if isinstance(other, Value) else Value(other)`",
)
def add_number(p: Probe) -> None:
    p.forward("a + 2", a=3.0)
    p.forward("a + 0.5", a=3.0)


@check(
    1,
    "a plain number plus a Value (reflected +)",
    why="for 2 + a Python first asks int how to add a Value; int does not know, so Python asks "
    "a.__radd__(2)",
    hint="define __radd__(self, other) to return self + other",
)
def radd(p: Probe) -> None:
    p.forward("2 + a", a=3.0)


@check(
    1,
    "a * b, a * 4 and 4 * a",
    why="* works like +: a new node with both operands as children, plain numbers wrapped, "
    "and __rmul__ for a number on the left",
    hint="__mul__ returns Value(self.data * other.data, (self, other), '*'); "
    "__rmul__ returns self * other",
)
def mul(p: Probe) -> None:
    one_node(p, "a * b", op_named=True, a=2.0, b=-3.0)
    p.forward("a * 4", a=2.5)
    p.forward("4 * a", a=2.5)


@check(
    1,
    "a ** n for a plain number n",
    why="a ** n raises a's data to the power n; n is a fixed number, so the only child is a",
    hint="return Value(self.data ** other, (self,), f'**{other}')",
)
def power(p: Probe) -> None:
    one_node(p, "a ** 3", a=2.0)
    p.forward("a ** -1", a=4.0)
    p.forward("a ** 0.5", a=9.0)


@check(
    1,
    "-a",
    why="negation is multiplication by -1",
    hint="return self * -1",
)
def neg(p: Probe) -> None:
    p.forward("-a", a=3.0)


@check(
    1,
    "a - b and a - 2",
    why="a - b is a + (-b): built from + and negation, it needs no rule of its own",
    hint="return self + (-other)",
)
def sub(p: Probe) -> None:
    p.forward("a - b", a=2.0, b=5.0)
    p.forward("a - 2", a=7.0)


@check(
    1,
    "a plain number minus a Value (reflected -)",
    why="for 5 - a Python calls a.__rsub__(5): self is a, other is 5, and the answer is "
    "other - self",
    hint="return other + (-self); not self - other, which flips the sign",
)
def rsub(p: Probe) -> None:
    p.forward("5 - a", a=2.0)


@check(
    1,
    "a / b, a / 4 and 2 / a",
    why="dividing by b is multiplying by b ** -1, so / is built from * and **; for 2 / a "
    "Python calls a.__rtruediv__(2), which is other * self ** -1",
    hint="__truediv__ returns self * other ** -1; __rtruediv__ returns other * self ** -1",
)
def div(p: Probe) -> None:
    p.forward("a / b", a=3.0, b=4.0)
    p.forward("a / 4", a=3.0)
    p.forward("2 / a", a=8.0)


@check(
    1,
    "a longer expression",
    why="operators compose: each intermediate result is a Value that the next one uses",
    hint="if the single operators pass, look for an operator returning something else than "
    "a Value, or changing its operands",
)
def compound(p: Probe) -> None:
    p.forward("(a * b + c) ** 2 - a / b + 1", a=2.0, b=-3.0, c=10.0)
