"""The checks of steps 2-3: backward() on the learner's `Value`, then tanh and ReLU.

Step 2 checks each operator's gradient rule, the chain rule, accumulation where a node is used
twice, and the topological order backward() walks (children before parents, at any depth). Step
3 adds the two activations: their values, and chiefly their local derivatives chained into the
rest. Gradients are compared with our engine's and with a central finite difference; when a
total is wrong, `_reused` runs one rule alone to say whether it overwrote (`=`) instead of
adding (`+=`).
"""

from __future__ import annotations

import math

from .base import Failed, check
from .checks import one_node
from .probe import MUL_READS_GRAD, Probe, close, fmt

__all__: list[str] = []


# -- step 2: gradients and topological order --------------------------------------------


@check(
    2,
    "backward() starts from out.grad = 1.0",
    why="d out / d out = 1: the chain rule starts at the output with gradient 1",
    hint="begin backward() with `self.grad = 1.0`",
)
def seed(p: Probe) -> None:
    p.tried = "a = Value(3.0); out = a * 2; out.backward()"
    out = p.Value(3.0) * 2
    out.backward()
    if out.grad != 1.0:
        raise Failed(f"out.grad == {fmt(out.grad)}", "out.grad == 1.0")


@check(
    2,
    "+ passes its gradient to both operands",
    why="d(a + b)/da = 1 and d(a + b)/db = 1: addition hands out.grad on unchanged",
    hint="in __add__'s _backward: self.grad += out.grad and other.grad += out.grad",
)
def add_grad(p: Probe) -> None:
    p.grads("a + b", a=2.0, b=-3.0)


@check(
    2,
    "* sends each operand the other one",
    why="d(a * b)/da = b and d(a * b)/db = a: each factor's gradient is the other factor "
    "times out.grad",
    hint="in __mul__'s _backward: self.grad += other.data * out.grad and "
    "other.grad += self.data * out.grad",
)
def mul_grad(p: Probe) -> None:
    try:
        p.grads("a * b", a=2.0, b=-3.0)
    except Failed as f:
        if p.mul_reads_grad():
            raise Failed(f.got, f.expected, **MUL_READS_GRAD) from None
        raise


@check(
    2,
    "the power rule",
    why="the power rule: d(x ** n)/dx = n * x ** (n - 1), n times x to the power n - 1",
    hint="in __pow__'s _backward: self.grad += other * self.data ** (other - 1) * out.grad",
)
def pow_grad(p: Probe) -> None:
    p.grads("a ** 3", a=2.0)
    p.grads("a ** -1", a=4.0)


@check(
    2,
    "a node used twice",
    why="a node used twice receives gradient from both uses: the total is the sum of what "
    "each use sends back",
    hint="accumulate with `+=`, don't assign with `=`, in every _backward",
)
def used_twice(p: Probe) -> None:
    _reused(p, ("a + a", "__add__"), ("a * a", "__mul__"), ("a ** 2 + a", "__pow__"))


# method -> code applying it to x = 2.0, whose rule alone must add to what x.grad already
# holds, and the local slope that rule adds there
_APPLIED = {
    "__add__": ("x + 1", 1.0),
    "__mul__": ("x * 2", 2.0),
    "__pow__": ("x ** 2", 4.0),
    "tanh": ("x.tanh()", 1.0 - math.tanh(2.0) ** 2),
    "relu": ("x.relu()", 1.0),
}


def _reused(p: Probe, *cases: tuple[str, str]) -> None:
    """Each expression uses `a` twice, through the method named beside it. On a wrong total,
    run that method's rule alone on an input whose grad already holds 5.0: if the 5.0 is gone,
    the rule assigned (`=`) where it must add (`+=`)."""
    for code, method in cases:
        try:
            p.grads(code, a=2.0)
        except Failed as f:
            if _overwrites(p, method):
                raise Failed(
                    f.got,
                    f.expected,
                    why=f"in {code}, a reaches out along two paths, and its gradient is the sum "
                    f"of both; in {method}'s _backward an `=` overwrote what the other path had "
                    "added (run alone on an x whose grad held 5.0, it left no trace of the 5.0)",
                    hint=f"in {method}'s _backward, accumulate: self.grad += ... (never "
                    "self.grad = ...)",
                ) from None
            raise


def _overwrites(p: Probe, method: str) -> bool:
    code, local = _APPLIED[method]
    with p.aside(f"x = Value(2.0); y = {code}; x.grad = 5.0; y.grad = 1.0; y._backward()"):
        x = p.Value(2.0)
        y = eval(code, {"__builtins__": {}}, {"x": x})
        x.grad, y.grad = 5.0, 1.0
        y._backward()
    return bool(close(p.number(x.grad, "x.grad"), local))


@check(
    2,
    "the chain rule through several operations",
    why="the chain rule: each node's gradient is its local derivative times the gradient of "
    "the node it feeds, out.grad",
    hint="multiply every local derivative by out.grad in each _backward",
)
def chain(p: Probe) -> None:
    p.grads("e = a * b; d = e + c; out = d * f", a=2.0, b=-3.0, c=10.0, f=-2.0)


@check(
    2,
    "- and / get their gradients from +, * and **",
    why="a - b is a + (-b) and a / b is a * b ** -1, so their gradients follow once +, * and "
    "** have theirs",
    hint="build __sub__, __rsub__, __truediv__ and __rtruediv__ from the other operators "
    "instead of computing their data directly",
)
def sub_div_grad(p: Probe) -> None:
    p.grads("(a - b) / c", a=5.0, b=2.0, c=4.0)
    p.grads("1 - 2 / a", a=4.0)


@check(
    2,
    "topo_sort() lists every node once, children before parents, self last",
    why="backward() must handle a node only after every node that uses it has added its share "
    "of gradient; the topological order guarantees that, read backwards",
    hint="a post-order depth-first walk with a visited set: visit the children, then append "
    "the node",
)
def topo(p: Probe) -> None:
    p.tried = "a = Value(2.0); b = Value(-3.0); e = a * b; d = e + a; out = e * d; out.topo_sort()"
    a, b = p.Value(2.0), p.Value(-3.0)
    e = a * b
    d = e + a
    out = e * d
    _label(a=a, b=b, e=e, d=d, out=out)
    p.check_topo(out, out.topo_sort())
    # x0 is out's child and x1's: an order by distance from out (breadth first) lists x1
    # first, whatever order a set hands the children out in
    p.tried = "x0 = Value(0.5); x1 = x0 * 2; x2 = x1 + 1; x3 = x2 * 3; out = x3 + x0; " + (
        "out.topo_sort()"
    )
    x0 = p.Value(0.5)
    x1 = x0 * 2
    x2 = x1 + 1
    x3 = x2 * 3
    out = x3 + x0
    _label(x0=x0, x1=x1, x2=x2, x3=x3, out=out)
    p.check_topo(out, out.topo_sort())


def _label(**nodes: object) -> None:
    for name, node in nodes.items():
        try:
            node.label = name  # type: ignore[attr-defined]
        except AttributeError:  # a learner's class with __slots__: the names are a nicety
            return


@check(
    2,
    "gradients where paths meet again",
    why="e feeds out directly and through d: its gradient is the sum over both paths, and it "
    "must pass it on once, after both have arrived",
    hint="walk reversed(topo_sort()) once, and accumulate with += in every _backward",
)
def diamond(p: Probe) -> None:
    p.grads("e = a * b; d = e + a; out = e * d", a=2.0, b=-3.0)


@check(
    2,
    "a deep chain of 5000 operations",
    why="a long chain is deep, not hard: every node once, in order, whatever the depth",
    hint="walk the graph with a stack of your own (a list you append to and pop from)",
)
def deep(p: Probe) -> None:
    try:
        _chain(p, 5000)
    except RecursionError:
        _chain(p, 500)  # right, and only stopped by Python's limit: pass, and say so
        p.note = (
            "your walk is recursive: right, and Python stops it with a RecursionError near "
            "1,000 levels deep (a chain of 5,000 operations did not finish). To lift the limit, "
            "walk with a stack of your own: a list of (node, children left) you push and pop"
        )


def _chain(p: Probe, depth: int) -> None:
    p.tried = f"x = Value(0.5); out = x + 1 + 1 + ... ({depth} additions); out.backward()"
    x = p.Value(0.5)
    out = x
    for _ in range(depth):
        out = out + 1
    out.backward()
    grad = p.number(x.grad, "x.grad")
    if grad != 1.0:
        raise Failed(f"x.grad == {fmt(grad)}", "x.grad == 1.0")
    p.tried = f"x = Value(0.5); out = x + 1 + 1 + ... ({depth} additions); out.topo_sort()"
    p.check_topo(out, out.topo_sort())


# -- step 3: tanh and ReLU --------------------------------------------------------------


@check(
    3,
    "tanh's value",
    why="tanh(x) = (e^(2x) - 1) / (e^(2x) + 1) squashes any number into (-1, 1); the result "
    "has one child, x",
    hint="t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1); out = Value(t, (self,), 'tanh')",
)
def tanh_value(p: Probe) -> None:
    for x in (-2.0, 0.0, 0.5, 3.0):
        one_node(p, "a.tanh()", a=x)


_TANH_GRAD_HINT = "self.grad += (1 - t**2) * out.grad, with t the tanh you computed"
_TANH_FROM_INPUT = (
    "d tanh(x)/dx = 1 - tanh(x)**2: the slope comes from the output t = tanh(x); your answer is "
    "1 - x**2, from the input",
    _TANH_GRAD_HINT,
)


@check(
    3,
    "tanh's derivative",
    why="d tanh(x)/dx = 1 - tanh(x)**2: the slope comes from the output t, not from the input x",
    hint=_TANH_GRAD_HINT,
)
def tanh_grad(p: Probe) -> None:
    x = 0.8
    p.grads(
        "a.tanh()",
        diagnose=lambda g: _TANH_FROM_INPUT if math.isclose(g["a"], 1 - x * x) else None,
        a=x,
    )


@check(
    3,
    "tanh of large numbers",
    why="tanh(800) is 1.0 to the last bit, but e**(2*800) is too large for a float: math.exp "
    "raises OverflowError past about 355, and training can push a neuron's sum that far",
    hint="use math.tanh(x); or, from e = math.exp(-2 * abs(x)), which never overflows: "
    "t = math.copysign((1 - e) / (1 + e), x)",
)
def tanh_large(p: Probe) -> None:
    for x in (30.0, -30.0, 800.0, -800.0):
        p.forward("a.tanh()", a=x)
    p.grads("a.tanh() * 3", a=800.0)


@check(
    3,
    "tanh inside a longer expression",
    why="the chain rule: tanh's local slope times the gradient that arrives from above, out.grad",
    hint="multiply by out.grad: self.grad += (1 - t**2) * out.grad",
)
def tanh_chain(p: Probe) -> None:
    p.grads("a.tanh() * 3", a=0.5)


@check(
    3,
    "ReLU's value",
    why="relu(x) is x when x > 0 and 0 otherwise; the result has one child, x",
    hint="out = Value(self.data if self.data > 0 else 0.0, (self,), 'ReLU')",
)
def relu_value(p: Probe) -> None:
    for x in (-2.0, 3.0, 0.25):
        one_node(p, "a.relu()", a=x)


@check(
    3,
    "ReLU's derivative where x > 0",
    why="for x > 0 ReLU is the identity: its slope is 1, so it passes out.grad back unchanged",
    hint="self.grad += (1.0 if out.data > 0 else 0.0) * out.grad",
)
def relu_grad_positive(p: Probe) -> None:
    p.grads("a.relu() * 2", a=3.0)


@check(
    3,
    "ReLU's derivative where x < 0",
    why="for x < 0 ReLU is flat at 0: its slope is 0, so no gradient flows back",
    hint="self.grad += (1.0 if out.data > 0 else 0.0) * out.grad",
)
def relu_grad_negative(p: Probe) -> None:
    p.grads("a.relu() * 2", a=-3.0)


@check(
    3,
    "ReLU's derivative at exactly 0",
    why="at exactly 0 ReLU has a corner, and the slope there is taken as 0, as PyTorch does: "
    "a neuron whose sum is exactly 0 passes nothing back",
    hint="gate on the output: self.grad += (1.0 if out.data > 0 else 0.0) * out.grad",
)
def relu_grad_zero(p: Probe) -> None:
    p.grads("a.relu() * 2", diagnose=_relu_at_zero, kink=True, a=0.0)


def _relu_at_zero(grads: dict[str, float]) -> tuple[str, str] | None:
    if grads["a"] == 0:
        return None
    return (
        "ReLU's slope at exactly 0 is 0 (PyTorch's choice, and the lecture's `out.data > 0`); "
        "your rule lets the gradient through there, as if the slope were 1",
        "compare with > 0, not >= 0: self.grad += (1.0 if out.data > 0 else 0.0) * out.grad",
    )


@check(
    3,
    "tanh and ReLU of a node that is used again",
    why="a node used twice receives gradient from both uses; the activations' rules add theirs "
    "to what the other use has already given",
    hint="accumulate with += in tanh's and relu's _backward",
)
def activation_reused(p: Probe) -> None:
    _reused(p, ("a.tanh() * a", "tanh"), ("a.relu() * a", "relu"))


@check(
    3,
    "a neuron: tanh(w . x + b), and relu(w . x + b) ** 2",
    why="a neuron is the operators of step 1 and an activation: every gradient follows from the "
    "rules checked so far",
    hint="if the single rules pass, look at how results are wrapped and accumulated",
)
def neuron_tanh(p: Probe) -> None:
    p.grads("(x1*w1 + x2*w2 + b).tanh()", x1=2.0, x2=0.0, w1=-3.0, w2=1.0, b=6.8813735870195432)
    p.grads("(x1*w1 + x2*w2 + b).relu() ** 2", x1=2.0, x2=-1.0, w1=0.5, w2=-1.5, b=0.25)
