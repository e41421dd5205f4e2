"""Trying an expression on the learner's `Value` and on ours, side by side.

A `Probe` holds the learner's modules. `forward("a * b", a=2.0, b=-3.0)` builds the expression
from their Values and from ours and compares the data; `grads(...)` also runs both backward
passes and a central finite difference. Every helper records in `tried` the code it is about to
run, so that an exception from their code is reported with what was being tried.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from ..engine import Value as OurValue
from ..gradcheck import gradcheck
from .base import Failed

# Given the learner's gradients by leaf name, (why, hint) naming their mistake, or None.
Diagnosis = Callable[[dict[str, float]], tuple[str, str] | None]

__all__ = ["MUL_READS_GRAD", "Probe", "children", "close", "fmt"]

MUL_READS_GRAD = {
    "why": "your __mul__'s _backward reads .grad where it needs .data: d(a * b)/da is b's value, "
    "b.data, not b's gradient (run alone with b.grad == 7.0 beforehand, it gave a.grad == 7.0)",
    "hint": "self.grad += other.data * out.grad; other.grad += self.data * out.grad",
}

RTOL = 1e-6
ATOL = 1e-9
_NO_BUILTINS: dict[str, Any] = {"__builtins__": {}}


def close(got: float, want: float) -> bool:
    return math.isclose(got, want, rel_tol=RTOL, abs_tol=ATOL)


def fmt(x: object) -> str:
    """A number as short as it can be written and still be told apart; anything else as repr."""
    if isinstance(x, float):
        text = repr(x)
        return text if len(text) <= 10 else f"{x:.6g}"
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def children(v: Any) -> list[Any]:
    """A node's children as the learner stored them (`_prev`, or `prev`), each once."""
    prev = getattr(v, "_prev", None)
    if prev is None:
        prev = getattr(v, "prev", None)
    if prev is None:
        raise Failed(
            f"a {type(v).__name__} without _prev",
            "_prev, the set of Values it was computed from",
            why="the graph is made of these links: backward() walks them from the output "
            "back to the inputs",
            hint="keep `self._prev = set(_children)` in __init__ and pass the operands as "
            "_children when an operator builds its result",
        )
    unique: dict[int, Any] = {}
    for c in prev:
        unique.setdefault(id(c), c)
    return list(unique.values())


def declare(leaves: dict[str, float]) -> str:
    return "; ".join(f"{name} = Value({x!r})" for name, x in leaves.items())


def _statement(code: str) -> str:
    return code if "out =" in code else f"out = {code}"


class Probe:
    """The learner's code, ready to be tried next to our engine."""

    def __init__(self, value: type, mlp: ModuleType | None = None) -> None:
        self.Value: Any = value
        self.mlp = mlp
        # Told each code snippet before it runs: the runner reports it if the check hangs.
        self.on_try: Callable[[str], None] = lambda text: None
        self._tried = ""
        self.note = ""  # set by a check that passes with something to say

    @property
    def tried(self) -> str:
        """The code being tried now, as the learner could type it."""
        return self._tried

    @tried.setter
    def tried(self, text: str) -> None:
        self._tried = text
        self.on_try(text)

    @contextmanager
    def aside(self, text: str) -> Iterator[None]:
        """Try `text`, a side run that names a mistake, then go back to what was being tried.
        If the side run raises, `tried` stays `text`: that is the code the error came from."""
        tried = self.tried
        self.tried = text
        yield
        self.tried = tried

    # -- the learner's results, checked for shape ------------------------------------------

    def expect_value(self, obj: object, name: str) -> Any:
        if not isinstance(obj, self.Value):
            raise Failed(
                f"{name} is {type(obj).__name__} {fmt(obj)}",
                "a Value",
                why="every operation on Values gives a new Value, so that its result can take "
                "part in further operations and in backward()",
                hint="build the result with Value(...) and return it",
            )
        return obj

    def number(self, x: object, name: str) -> float:
        if isinstance(x, self.Value):
            raise Failed(
                f"{name} is itself a Value, {fmt(x)}",
                "a plain number",
                why="data holds the number; a Value inside a Value means an operand that was "
                "already a Value got wrapped again",
                hint="wrap plain numbers only: `other = other if isinstance(other, Value) else "
                "Value(other)`",
            )
        if isinstance(x, bool) or not isinstance(x, int | float):
            raise Failed(f"{name} is {type(x).__name__} {fmt(x)}", "a number")
        return float(x)

    # -- expressions, theirs next to ours ---------------------------------------------------

    def run(self, code: str, leaves: dict[str, float], cls: type) -> dict[str, Any]:
        """Execute `code` (statements setting `out`) with the leaves as Values of `cls`."""
        names = {name: cls(x) for name, x in leaves.items()}
        exec(_statement(code), dict(_NO_BUILTINS), names)
        return names

    def forward(self, code: str, **leaves: float) -> dict[str, Any]:
        """Run `code` (an expression, or statements that set `out`) on their Values; fail
        unless out's data is what our engine gives. Returns their names, `out` included."""
        self.tried = f"{declare(leaves)}; {_statement(code)}"
        theirs = self.run(code, leaves, self.Value)
        out = self.expect_value(theirs["out"], "out")
        want = self.run(code, leaves, OurValue)["out"].data
        got = self.number(out.data, "out.data")
        if not close(got, want):
            raise Failed(f"out.data == {fmt(got)}", f"{fmt(want)}")
        for name, x in leaves.items():
            after = theirs[name].data
            if after != x:
                raise Failed(
                    f"{name}.data == {fmt(after)} afterwards",
                    f"{name}.data still {fmt(x)}",
                    why="an operation makes a new Value and leaves its operands as they were: "
                    f"{name} may be used again elsewhere in the graph",
                    hint="return a new Value(...) instead of changing self.data or other.data",
                )
        return theirs

    def grads(
        self, code: str, diagnose: Diagnosis | None = None, kink: bool = False, **leaves: float
    ) -> None:
        """Run backward on `code` built from their Values; compare every leaf's grad with our
        engine's and with a central finite difference (not at a `kink`, where the slope is a
        convention). `diagnose(their_grads)` may name the mistake behind a wrong answer, as
        (why, hint)."""
        self.tried = f"{declare(leaves)}; {_statement(code)}; out.backward()"
        names = list(leaves)
        theirs = self.run(code, leaves, self.Value)
        out = self.expect_value(theirs["out"], "out")
        out.backward()

        def ours(*values: OurValue) -> OurValue:
            scope = dict(zip(names, values, strict=True))
            exec(_statement(code), dict(_NO_BUILTINS), scope)
            result: OurValue = scope["out"]
            return result

        report = gradcheck(ours, list(leaves.values()))
        wrong: list[tuple[str, float, float, float]] = []
        for name, row in zip(names, report.rows, strict=True):
            if not row.ok and not kink:  # our engine disagrees with the finite difference
                raise RuntimeError(f"the checker's own gradient of {code} is off: {report}")
            got = self.number(theirs[name].grad, f"{name}.grad")
            if not close(got, row.analytic):
                wrong.append((name, got, row.analytic, row.numeric))
        if not wrong:
            return
        got_text = ", ".join(f"{n}.grad == {fmt(g)}" for n, g, _, _ in wrong)
        want_text = ", ".join(f"{n}.grad == {fmt(w)}" for n, _, w, _ in wrong)
        fd = ", ".join(f"{numeric:.6g}" for _, _, _, numeric in wrong)
        expected = f"{want_text} (our engine; a finite difference gives {fd})"
        if kink:
            expected = f"{want_text} (our engine and PyTorch)"
        all_zero = all(theirs[n].grad == 0 for n in names)
        if diagnose is not None:
            named = diagnose({n: float(theirs[n].grad) for n in names})
            if named is not None:
                raise Failed(got_text, expected, why=named[0], hint=named[1])
        if all_zero and out.grad != 1.0:
            raise Failed(
                f"{got_text}, and out.grad == {fmt(out.grad)}",
                expected,
                why="backward() starts the chain rule at the output, whose derivative with "
                "respect to itself is 1: without that seed every product with out.grad is 0",
                hint="begin backward() with `self.grad = 1.0`",
            )
        if all_zero:
            raise self._nothing_reached(code, leaves, got_text, expected)
        raise Failed(got_text, expected)

    def _nothing_reached(
        self, code: str, leaves: dict[str, float], got: str, expected: str
    ) -> Failed:
        """out.grad was 1.0 and no leaf got anything: call the output's own rule alone to tell
        a rule that passes nothing from a backward() that never ran the rules in order."""
        with self.aside(f"{declare(leaves)}; {_statement(code)}; out.grad = 1.0; out._backward()"):
            out = self.run(code, leaves, self.Value)["out"]
            out.grad = 1.0
            out._backward()
            passed_on = any(getattr(c, "grad", 0) != 0 for c in children(out))
        if not passed_on and any(op in code for op in "*/-") and self.mul_reads_grad():
            return Failed(got + "; your * rule reads .grad", expected, **MUL_READS_GRAD)
        if passed_on:
            return Failed(
                got + "; yet out._backward() alone passes out.grad to out's operands",
                expected,
                why="the rules work when called by hand, so backward() does not run them in "
                "order: it must call node._backward() on every node, the output first",
                hint="topo = self.topo_sort(); self.grad = 1.0; then node._backward() for node "
                "in reversed(topo)",
            )
        return Failed(
            got + "; and out._backward() alone passes nothing to out's operands",
            expected,
            why="the output's rule passes nothing on: the operator that made it never stored its "
            "_backward on the result, or its rule adds nothing to its operands' grad",
            hint="define _backward inside the operator, adding into self.grad and other.grad, "
            "and end with `out._backward = _backward`",
        )

    def mul_reads_grad(self) -> bool:
        """Does their `*` rule read the other factor's .grad where it needs its .data? Run the
        rule alone with a gradient already on one factor and see which number it used."""
        with self.aside(
            "a = Value(2.0); b = Value(-3.0); out = a * b; b.grad = 7.0; out.grad = 1.0; "
            "out._backward()"
        ):
            a, b = self.Value(2.0), self.Value(-3.0)
            out = a * b
            b.grad, out.grad = 7.0, 1.0
            out._backward()
        return bool(a.grad == 7.0)

    # -- graph order ------------------------------------------------------------------------

    def check_topo(self, root: Any, order: object) -> None:
        """Fail unless `order` lists every node reachable from root once, children first,
        root last."""
        if not isinstance(order, list | tuple):
            raise Failed(f"topo_sort() returned {type(order).__name__} {fmt(order)}", "a list")
        reachable = _reachable(root)
        position: dict[int, int] = {}
        for i, node in enumerate(order):
            if id(node) in position:
                count = sum(1 for n in order if n is node)
                raise Failed(
                    f"{_name(node)} appears {count} times in the list",
                    "each node exactly once",
                    why="a node reached along two paths must still be listed once, or its "
                    "_backward runs twice and its children's gradients are counted twice",
                    hint="keep a `visited` set: skip a node you have already seen",
                )
            position[id(node)] = i
        missing = [n for n in reachable.values() if id(n) not in position]
        if missing:
            raise Failed(
                f"{len(order)} nodes, without {_name(missing[0])}",
                f"all {len(reachable)} nodes that out depends on",
                why="backward() reaches only the nodes in the list: a node left out never "
                "passes its gradient on",
                hint="visit every child in _prev, recursively or with a stack",
            )
        extra = [n for n in order if id(n) not in reachable]
        if extra:
            raise Failed(
                f"a node out does not depend on: {_name(extra[0])}",
                f"only the {len(reachable)} nodes that out depends on",
            )
        if order[-1] is not root:
            raise Failed(
                f"the list ends with {_name(order[-1])}, and out is at position "
                f"{position[id(root)]} of {len(order)}",
                "self last",
                why="the output depends on everything else, so it comes after all of it; "
                "backward() walks the list in reverse and must start at the output",
                hint="append a node only after all of its children (a post-order walk), so self "
                "is appended last",
            )
        for node in order:
            for child in children(node):
                if position[id(child)] > position[id(node)]:
                    raise Failed(
                        f"{_name(node)} at position {position[id(node)]} before its child "
                        f"{_name(child)} at position {position[id(child)]}",
                        "every node after all of its children",
                        why="in reverse order a node must pass its gradient on only once every "
                        "use of it has added its share",
                        hint="append a node after visiting all of its children",
                    )


def _reachable(root: Any) -> dict[int, Any]:
    """Every node root depends on, root included, by identity (no recursion)."""
    seen = {id(root): root}
    stack = [root]
    while stack:
        for child in children(stack.pop()):
            if id(child) not in seen:
                seen[id(child)] = child
                stack.append(child)
    return seen


def _name(node: Any) -> str:
    label = getattr(node, "label", "")
    data = getattr(node, "data", None)
    return f"{label} ({fmt(data)})" if label else f"the node with data {fmt(data)}"
