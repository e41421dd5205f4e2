"""The public contract (the project's specification), walked line by line: one test (or a few)
per line.

Each section below quotes the part of the contract it checks. Only the contract's API is used.
"""

from __future__ import annotations

import importlib
import math
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from micrograd import MLP, Layer, Module, Neuron, Value

# -- Package ----------------------------------------------------------------------------------
# "Import name `micrograd`; Python 3.11+; the core (`engine`, `nn`) needs only the standard
# library."


def test_the_package_requires_python_3_11() -> None:
    from importlib.metadata import metadata

    assert metadata("micrograd")["Requires-Python"] == ">=3.11"
    assert sys.version_info >= (3, 11)


def test_core_needs_only_the_standard_library() -> None:
    """Import and train with the core (engine, nn, gradcheck) while numpy and torch cannot be
    imported at all, and check that nothing outside the standard library was loaded."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["numpy"] = None  # any `import numpy` now raises ImportError
        sys.modules["torch"] = None
        before = set(sys.modules)
        import random
        from micrograd.engine import Value
        from micrograd.nn import MLP
        from micrograd.gradcheck import gradcheck
        random.seed(0)
        model = MLP(3, [4, 1])
        loss = (model([1.0, 2.0, 3.0]) - 1) ** 2 + Value(2.0).tanh().exp().log()
        loss.backward()
        model.update_parameters()
        assert all(isinstance(p.grad, float) for p in model.parameters())
        new = {m.split(".")[0] for m in set(sys.modules) - before}
        print(sorted(new - {"micrograd"} - set(sys.stdlib_module_names)))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# "`from micrograd import Value, Module, Neuron, Layer, MLP` works, and so do the original
# micrograd's module paths `from micrograd.engine import Value` and
# `from micrograd.nn import Module, Neuron, Layer, MLP`"


def test_imports() -> None:
    from micrograd import MLP as TopMLP
    from micrograd import Layer as TopLayer
    from micrograd import Module as TopModule
    from micrograd import Neuron as TopNeuron
    from micrograd import Value as TopValue
    from micrograd import nn as nn_module
    from micrograd.engine import Value as EngineValue
    from micrograd.nn import MLP as NnMLP
    from micrograd.nn import Layer as NnLayer
    from micrograd.nn import Module as NnModule
    from micrograd.nn import Neuron as NnNeuron

    assert TopValue is EngineValue
    assert (TopModule, TopNeuron, TopLayer, TopMLP) == (NnModule, NnNeuron, NnLayer, NnMLP)
    assert nn_module.MLP is TopMLP
    assert importlib.import_module("micrograd").__name__ == "micrograd"
    assert all(issubclass(c, TopModule) for c in (TopNeuron, TopLayer, TopMLP))


# -- Value --------------------------------------------------------------------------------------
# "`Value(data, _children=(), _op='', label='')`. `data` must be a real number (int, float, or a
# numpy scalar); anything else raises `TypeError` naming the type it got."


def test_constructor_signature() -> None:
    a, b = Value(1.0), Value(2.0)
    v = Value(3.0, (a, b), "+", "v")
    assert (v.data, v._prev, v._op, v.label) == (3.0, {a, b}, "+", "v")
    w = Value(data=3.0, _children=[a], _op="tanh", label="w")
    assert (w._prev, w._op, w.label) == ({a}, "tanh", "w")


@pytest.mark.parametrize(
    "data", [3, -7, 2.5, np.float64(1.5), np.float32(0.25), np.int64(4), np.int32(-2), 10**20]
)
def test_real_numbers_become_float(data: object) -> None:
    v = Value(data)
    assert type(v.data) is float
    assert v.data == float(data)


@pytest.mark.parametrize(("data", "name"), [("x", "str"), (None, "NoneType"), ([1, 2], "list")])
def test_non_numbers_raise_type_error_naming_the_type(data: object, name: str) -> None:
    with pytest.raises(TypeError, match=name):
        Value(data)


# "Attributes: `data` (float), `grad` (float, starts at `0.0`), `_prev` (the **set** of Values it
# was computed from), `_op` (`''` for a leaf, else the op: `'+'`, `'*'`, `'**2'`, `'tanh'`,
# `'ReLU'`, ...), `label` (str), `_backward` (a no-argument callable)."


def test_leaf_attributes() -> None:
    v = Value(2.0)
    assert type(v.data) is float and v.data == 2.0
    assert type(v.grad) is float and v.grad == 0.0
    assert v._prev == set() and isinstance(v._prev, set)
    assert v._op == ""
    assert v.label == ""
    assert callable(v._backward)
    v._backward()  # a leaf's is a no-op
    assert v.grad == 0.0


@pytest.mark.parametrize(
    ("make", "op", "n_children"),
    [
        (lambda a, b: a + b, "+", 2),
        (lambda a, b: a * b, "*", 2),
        (lambda a, b: a**2, "**2", 1),
        (lambda a, b: a.tanh(), "tanh", 1),
        (lambda a, b: a.relu(), "ReLU", 1),
    ],
)
def test_op_names_and_children(make: object, op: str, n_children: int) -> None:
    a, b = Value(2.0), Value(3.0)
    out = make(a, b)
    assert out._op == op
    assert isinstance(out._prev, set)
    assert out._prev == {a, b} if n_children == 2 else out._prev == {a}


def test_prev_is_a_set_without_duplicates() -> None:
    a = Value(2.0)
    assert (a * a)._prev == {a}
    assert (a + a)._prev == {a}


def test_label_is_a_settable_string() -> None:
    v = Value(1.0, label="x")
    assert v.label == "x"
    v.label = "y"
    assert v.label == "y"
    out = v * 2
    out.label = "out"
    assert out.label == "out"


def test_backward_attribute_is_a_no_argument_callable_that_propagates() -> None:
    a, b = Value(2.0), Value(3.0)
    c = a * b
    c.grad = 1.0
    c._backward()
    assert (a.grad, b.grad) == (3.0, 2.0)


def test_children_can_be_given_as_any_iterable() -> None:
    a = Value(1.0)
    for children in ([a], (a,), {a}):
        assert Value(2.0, children)._prev == {a}


# "Operators, each taking a Value or a plain number on either side: `+ - * / ** //`, unary `-`,
# and the reflected `__radd__ __rsub__ __rmul__ __rtruediv__ __rfloordiv__ __rpow__`."


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda a, b: a + b, 5.0),
        (lambda a, b: a + 3, 5.0),
        (lambda a, b: 3 + a, 5.0),
        (lambda a, b: a - b, -1.0),
        (lambda a, b: a - 3, -1.0),
        (lambda a, b: 3 - a, 1.0),
        (lambda a, b: a * b, 6.0),
        (lambda a, b: a * 3, 6.0),
        (lambda a, b: 3 * a, 6.0),
        (lambda a, b: b / a, 1.5),
        (lambda a, b: b / 2, 1.5),
        (lambda a, b: 3 / a, 1.5),
        (lambda a, b: a**b, 8.0),
        (lambda a, b: a**3, 8.0),
        (lambda a, b: 3**a, 9.0),
        (lambda a, b: b // a, 1.0),
        (lambda a, b: b // 2, 1.0),
        (lambda a, b: 3 // a, 1.0),
        (lambda a, b: -a, -2.0),
        (lambda a, b: a.__radd__(3), 5.0),
        (lambda a, b: a.__rsub__(3), 1.0),
        (lambda a, b: a.__rmul__(3), 6.0),
        (lambda a, b: a.__rtruediv__(3), 1.5),
        (lambda a, b: a.__rfloordiv__(3), 1.0),
        (lambda a, b: a.__rpow__(3), 9.0),
        (lambda a, b: np.float64(3.0) + a, 5.0),
        (lambda a, b: np.float64(3.0) * a, 6.0),
        (lambda a, b: np.float64(3.0) - a, 1.0),
    ],
)
def test_operators_either_side(make: object, expected: float) -> None:
    out = make(Value(2.0), Value(3.0))
    assert isinstance(out, Value)
    assert out.data == expected


def test_in_place_operators_build_new_nodes() -> None:
    a = Value(2.0)
    c = a
    c += 1
    c *= 3
    c -= a
    c /= 2
    assert c is not a
    assert c.data == 3.5
    assert a.data == 2.0
    c.backward()
    assert a.grad == 1.0


# "`v ** 3` (number exponent), `v ** w` and `2 ** v` (Value exponent, positive base) all
# differentiate. `//` is piecewise constant: its derivative is 0."


def test_power_forms_differentiate() -> None:
    v = Value(1.5)
    (v**3).backward()
    assert v.grad == pytest.approx(3 * 1.5**2, rel=1e-15)

    v, w = Value(1.5), Value(2.5)
    (v**w).backward()
    assert v.grad == pytest.approx(2.5 * 1.5**1.5, rel=1e-14)
    assert w.grad == pytest.approx(1.5**2.5 * math.log(1.5), rel=1e-14)

    v = Value(1.5)
    (2**v).backward()
    assert v.grad == pytest.approx(2**1.5 * math.log(2), rel=1e-14)


def test_floordiv_derivative_is_zero() -> None:
    a, b = Value(7.5), Value(2.0)
    out = a // b + 3 // a + a // 2
    out.backward()
    assert out.data == 3.0 + 0.0 + 3.0
    assert (a.grad, b.grad) == (0.0, 0.0)


# "Methods returning a new node whose only child is `self`: `tanh() relu() sigmoid() exp()
# log()` (add others where natural)."


@pytest.mark.parametrize("method", ["tanh", "relu", "sigmoid", "exp", "log", "sqrt"])
def test_unary_methods_have_self_as_only_child(method: str) -> None:
    v = Value(0.7)
    out = getattr(v, method)()
    assert isinstance(out, Value) and out is not v
    assert out._prev == {v}
    expected = {
        "tanh": math.tanh(0.7),
        "relu": 0.7,
        "sigmoid": 1 / (1 + math.exp(-0.7)),
        "exp": math.exp(0.7),
        "log": math.log(0.7),
        "sqrt": math.sqrt(0.7),
    }[method]
    assert out.data == pytest.approx(expected, rel=1e-15)


def test_abs_has_self_as_only_child() -> None:
    v = Value(-0.7)
    assert abs(v)._prev == {v} and abs(v).data == 0.7


# "`topo_sort()` returns every node reachable from `self`, each exactly once, every node after
# all of its children, `self` last. It must not recurse: a chain a million nodes deep works."


def test_topo_sort() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    d = c + a
    dc = d * c
    t = b.tanh()
    e = dc + t
    topo = e.topo_sort()
    assert topo[-1] is e
    assert len(topo) == 7
    assert {id(v) for v in topo} == {id(v) for v in (a, b, c, d, dc, t, e)}
    pos = {id(v): i for i, v in enumerate(topo)}
    for v in topo:
        assert all(pos[id(ch)] < pos[id(v)] for ch in v._prev)


def test_topo_sort_of_a_leaf_and_constants() -> None:
    a = Value(1.0)
    assert a.topo_sort() == [a]
    out = a + 1
    topo = out.topo_sort()
    assert len(topo) == 3 and topo[-1] is out and a in topo  # the constant 1 is a node too


def test_topo_sort_does_not_recurse() -> None:
    limit = sys.getrecursionlimit()
    x = a = Value(1.0)
    for _ in range(3 * limit):
        x = x.tanh()
    topo = x.topo_sort()
    assert len(topo) == 3 * limit + 1 and topo[0] is a and topo[-1] is x
    x.backward()


# (The million-node chain itself is in test_regressions.py.)

# "`backward()` sets `self.grad = 1.0` and calls `_backward()` on every node in reverse
# topological order. Leaf gradients accumulate (`+=`) across calls, as in PyTorch: calling
# `backward()` twice on the same output gives every leaf exactly twice its gradient
# (intermediate nodes are recomputed, never double counted)."


def test_backward_sets_output_grad_to_one() -> None:
    out = Value(2.0) * 3
    out.grad = 5.0
    out.backward()
    assert out.grad == 1.0


def test_backward_calls_backward_in_reverse_topological_order() -> None:
    calls: list[str] = []

    def node(name: str, *children: Value) -> Value:
        out = Value(sum(c.data for c in children), children, name, name)

        def _backward() -> None:
            calls.append(name)
            for c in children:
                c.grad += out.grad

        out._backward = _backward
        return out

    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = node("c", a, b)
    d = node("d", c, a)
    e = node("e", c, d)
    e.backward()
    inner = [v.label for v in e.topo_sort() if v._op]
    assert calls == inner[::-1]
    assert (a.grad, b.grad) == (3.0, 2.0)


def test_backward_twice_doubles_leaves_only() -> None:
    a, b = Value(2.0), Value(-1.0)
    h = (a * b).tanh()
    out = h * a + b
    out.backward()
    ga, gb, gh = a.grad, b.grad, h.grad
    out.backward()
    # Each contribution is added into the leaf as it arrives, so the doubling is exact up to
    # the rounding of that running sum.
    assert (a.grad, b.grad) == (pytest.approx(2 * ga, rel=1e-15), pytest.approx(2 * gb, rel=1e-15))
    assert h.grad == gh and out.grad == 1.0


# "`repr(Value(2.0))` is `Value(data=2.0, grad=0.0)`; a label, when set, shows too."


def test_repr() -> None:
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    assert repr(Value(2)) == "Value(data=2.0, grad=0.0)"
    labelled = repr(Value(2.0, label="x"))
    assert labelled.startswith("Value(data=2.0, grad=0.0") and "x" in labelled
    v = Value(-1.5)
    (v * 2).backward()
    assert repr(v) == "Value(data=-1.5, grad=2.0)"


# "Invalid math raises a clear Python exception naming the operation and the operand (log of a
# non-positive number, division by zero, a negative base to a fractional power). The engine
# never turns such input into a silent NaN."
# (Every case, with its message, is in test_errors.py; here, the three named ones.)


def test_invalid_math_raises() -> None:
    with pytest.raises(ValueError, match=r"log.*-2\.0"):
        Value(-2.0).log()
    with pytest.raises(ZeroDivisionError, match=r"division by zero.*3\.0"):
        Value(3.0) / 0
    with pytest.raises(ValueError, match=r"\*\*.*-8\.0"):
        Value(-8.0) ** 0.5


# "Values are hashable by identity (they live in sets); do not define `__eq__` on them."


def test_hashable_by_identity_without_eq() -> None:
    a, b = Value(1.0), Value(1.0)
    assert a != b
    assert not (a == b)  # noqa: SIM201
    assert a == a
    assert len({a, b}) == 2
    assert hash(a) == object.__hash__(a)
    assert "__eq__" not in vars(Value)
    assert Value.__eq__ is object.__eq__
    assert {a: 1}[a] == 1


# -- nn -----------------------------------------------------------------------------------------
# "`Module`: base class with `parameters()` and `zero_grad()` (sets every parameter's grad to
# 0)."


def test_module() -> None:
    model = MLP(2, [3, 1])
    model([1.0, 2.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())
    assert Module().parameters() == []


# "`Neuron(nin, activation='relu')`: `w` (list of `nin` Values) and `b` (a Value), drawn from
# `random.uniform(-1, 1)` of Python's `random` module, so `random.seed(n)` makes runs
# repeatable."


def test_neuron_weights() -> None:
    random.seed(123)
    n = Neuron(4)
    random.seed(123)
    assert [w.data for w in n.w] == [random.uniform(-1, 1) for _ in range(4)]
    assert isinstance(n.w, list) and len(n.w) == 4
    assert all(isinstance(w, Value) for w in n.w)
    assert isinstance(n.b, Value)
    assert n.activation == "relu"
    random.seed(123)
    assert [p.data for p in Neuron(4).parameters()] == [p.data for p in n.parameters()]


# "`neuron(x)` takes a sequence of `nin` numbers or Values and returns `activation(w.x + b)`.
# `activation` is one of `'relu' 'tanh' 'sigmoid' 'linear'` (`None` means linear); the original
# micrograd's keyword `nonlin=False` also means linear. An input of the wrong length raises
# `ValueError` naming both lengths: it is never silently truncated."


@pytest.mark.parametrize(
    ("kwargs", "f"),
    [
        ({}, lambda z: max(z, 0.0)),
        ({"activation": "relu"}, lambda z: max(z, 0.0)),
        ({"activation": "tanh"}, math.tanh),
        ({"activation": "sigmoid"}, lambda z: 1 / (1 + math.exp(-z))),
        ({"activation": "linear"}, lambda z: z),
        ({"activation": None}, lambda z: z),
        ({"nonlin": False}, lambda z: z),
    ],
)
def test_neuron_call(kwargs: dict[str, object], f: object) -> None:
    n = Neuron(3, **kwargs)
    for x in ([1.0, -2.0, 0.5], [Value(-1.0), Value(2.0), Value(-0.5)], (3, 1, -2)):
        xs = [xi.data if isinstance(xi, Value) else xi for xi in x]
        z = n.b.data + sum(w.data * xi for w, xi in zip(n.w, xs, strict=True))
        assert n(x).data == pytest.approx(f(z), rel=1e-14, abs=1e-15)


def test_neuron_wrong_length() -> None:
    with pytest.raises(ValueError, match=r"\b3\b.*\b4\b"):
        Neuron(3)([1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match=r"\b3\b.*\b2\b"):
        Neuron(3)([1.0, 2.0])


# "`Layer(nin, nout, activation='relu')`: `neurons`; calling it returns a list of `nout` Values,
# or the single Value itself when `nout == 1`."


def test_layer() -> None:
    layer = Layer(3, 4)
    assert len(layer.neurons) == 4 and all(isinstance(n, Neuron) for n in layer.neurons)
    assert all(n.activation == "relu" for n in layer.neurons)
    outs = layer([1.0, 2.0, 3.0])
    assert isinstance(outs, list) and len(outs) == 4
    assert [o.data for o in outs] == [n([1.0, 2.0, 3.0]).data for n in layer.neurons]
    single = Layer(3, 1, "tanh")([1.0, 2.0, 3.0])
    assert isinstance(single, Value)


# "`MLP(nin, nouts, activation='relu', step=0.05, output_activation=None)`: `layers`; hidden
# layers use `activation`, the last layer is linear unless `output_activation` is given.
# `MLP(3, [4, 4, 1])` has 3 inputs, two hidden layers of 4 and one output: 41 parameters."


def test_mlp() -> None:
    model = MLP(3, [4, 4, 1])
    assert len(model.layers) == 3
    assert [len(layer.neurons) for layer in model.layers] == [4, 4, 1]
    assert [len(layer.neurons[0].w) for layer in model.layers] == [3, 4, 4]
    assert [n.activation for layer in model.layers for n in layer.neurons] == ["relu"] * 8 + [
        "linear"
    ]
    assert len(model.parameters()) == 41
    assert model.step == 0.05
    out = model([2.0, 3.0, -1.0])
    assert isinstance(out, Value)

    tanh = MLP(3, [4, 1], "tanh", 0.1, "sigmoid")
    assert [n.activation for layer in tanh.layers for n in layer.neurons] == ["tanh"] * 4 + [
        "sigmoid"
    ]
    assert tanh.step == 0.1
    assert (
        MLP(3, [4, 1], activation="sigmoid", output_activation="tanh")
        .layers[-1]
        .neurons[0]
        .activation
        == "tanh"
    )


def test_mlp_output_can_be_negative() -> None:
    """A linear output layer: some seed must give a negative output (ReLU never would)."""
    outputs = []
    for seed in range(10):
        random.seed(seed)
        outputs.append(MLP(3, [4, 4, 1])([2.0, 3.0, -1.0]).data)
    assert min(outputs) < 0 < max(outputs)


# "`parameters()` on Neuron, Layer and MLP: weights then bias, neuron by neuron, layer by layer,
# in a stable order. `MLP.update_parameters()` takes one gradient-descent step
# `p.data -= step * p.grad` on every parameter (the seed tour's API)."


def test_parameter_order() -> None:
    model = MLP(3, [4, 4, 1])
    expected = [p for layer in model.layers for n in layer.neurons for p in [*n.w, n.b]]
    assert all(p is q for p, q in zip(model.parameters(), expected, strict=True))
    n = model.layers[0].neurons[0]
    assert all(p is q for p, q in zip(n.parameters(), [*n.w, n.b], strict=True))
    layer = model.layers[1]
    expected_layer = [p for n in layer.neurons for p in [*n.w, n.b]]
    assert all(p is q for p, q in zip(layer.parameters(), expected_layer, strict=True))
    assert [id(p) for p in model.parameters()] == [id(p) for p in model.parameters()]


def test_update_parameters() -> None:
    model = MLP(3, [4, 4, 1], step=0.05)
    loss = (model([2.0, 3.0, -1.0]) - 1.0) ** 2
    loss.backward()
    before = [(p.data, p.grad) for p in model.parameters()]
    model.update_parameters()
    assert [p.data for p in model.parameters()] == [d - 0.05 * g for d, g in before]


# -- The seed's training loop -------------------------------------------------------------------
# "The workshop's step 5 trains `MLP(3, [4, 4, 1])` on xs, ys for 40 epochs: forward, mean
# squared error, zero_grad, backward, step. That loop, written with nothing but the API above,
# must drive the loss down." (The statistics over many seeds are in test_nn.py.)


def test_seed_training_loop() -> None:
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    random.seed(0)
    model = MLP(3, [4, 4, 1])
    losses = []
    for _ in range(40):
        ypred = [model(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred, strict=True)) / len(ys)
        model.zero_grad()
        loss.backward()
        model.update_parameters()
        losses.append(loss.data)
    assert losses[-1] < 0.5 * losses[0]


# -- "its README example, its test/test_engine.py and its demo notebook run unchanged" ---------
# (The README example is in test_regressions.py, test/test_engine.py in
# test_original_micrograd.py.) The demo notebook's model, loss and training loop, on a small
# two-blob data set in place of sklearn's make_moons:


def test_original_demo_notebook_loop() -> None:
    np.random.seed(1337)
    random.seed(1337)
    n = 30
    X = np.concatenate([np.random.randn(n, 2) * 0.5 + [1, 1], np.random.randn(n, 2) * 0.5 - 1])
    y = np.array([1] * n + [-1] * n)

    model = MLP(2, [8, 8, 1])  # the notebook uses [16, 16, 1]; smaller keeps the test fast
    assert "MLP" in repr(model)
    assert len(model.parameters()) == 8 * 3 + 8 * 9 + 9

    def loss(batch_size: int | None = None) -> tuple[Value, float]:
        if batch_size is None:
            Xb, yb = X, y
        else:
            ri = np.random.permutation(X.shape[0])[:batch_size]
            Xb, yb = X[ri], y[ri]
        inputs = [list(map(Value, xrow)) for xrow in Xb]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(yb, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores, strict=True)]
        return total_loss, sum(accuracy) / len(accuracy)

    first_loss, _ = loss()
    for k in range(15):
        total_loss, _ = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
    final_loss, final_acc = loss()
    assert final_loss.data < first_loss.data
    assert final_acc >= 0.95
