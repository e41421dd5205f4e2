"""The seed workshop, step by step, as a learner's own tests would check it.

Everything is imported through the workshop's module names, `micrograd.value` and
`micrograd.mlp`. Step 1: operators and the graph shapes they build; step 2: gradients and a
valid topological order; step 3: tanh and ReLU; step 4: Neuron, Layer and MLP; step 5:
parameters, a linear output layer, zero_grad and the 40-epoch training loop.
"""

from __future__ import annotations

import math
import random

import pytest

from micrograd.mlp import MLP, Layer, Neuron
from micrograd.value import Value


def is_topological(order: list[Value], root: Value) -> bool:
    """Each node once, every node after its children, the root last, nothing missing."""
    position = {id(v): i for i, v in enumerate(order)}
    reachable, stack = set(), [root]
    while stack:
        v = stack.pop()
        if id(v) not in reachable:
            reachable.add(id(v))
            stack.extend(v.prev)
    return (
        len(position) == len(order)
        and set(position) == reachable
        and order[-1] is root
        and all(position[id(c)] < position[id(v)] for v in order for c in v.prev)
    )


# -- step 1: operators ---------------------------------------------------------------------


def test_workshop_module_names_give_the_very_same_classes() -> None:
    import micrograd.engine
    import micrograd.nn

    assert Value is micrograd.engine.Value
    assert (Neuron, Layer, MLP) == (micrograd.nn.Neuron, micrograd.nn.Layer, micrograd.nn.MLP)


@pytest.mark.parametrize(
    ("expression", "data", "op"),
    [
        (lambda a, b: a + b, 5.0, "+"),
        (lambda a, b: a + 1, 3.0, "+"),
        (lambda a, b: 1 + a, 3.0, "+"),
        (lambda a, b: a * b, 6.0, "*"),
        (lambda a, b: 2 * a, 4.0, "*"),
        (lambda a, b: a**2, 4.0, "**2"),
        (lambda a, b: -a, -2.0, "*"),
        (lambda a, b: a - b, -1.0, "+"),
        (lambda a, b: 1 - a, -1.0, "+"),
        (lambda a, b: a / b, 2.0 / 3.0, "*"),
        (lambda a, b: 1 / a, 0.5, "*"),
    ],
    ids=["add", "add-number", "radd", "mul", "rmul", "pow", "neg", "sub", "rsub", "div", "rdiv"],
)
def test_operators_give_the_workshops_data_and_op(expression, data, op) -> None:  # type: ignore[no-untyped-def]
    a, b = Value(2.0), Value(3.0)
    out = expression(a, b)
    assert out.data == data
    assert out._op == op


def test_prev_is_the_set_of_children() -> None:
    a, b = Value(2.0), Value(3.0)
    c = a * b
    assert c.prev == {a, b} == c._prev
    assert Value(1.0).prev == set()


def test_subtraction_is_a_plus_node_over_a_negation() -> None:
    a, b = Value(2.0), Value(3.0)
    c = a - b
    (neg,) = c.prev - {a}
    assert neg._op == "*" and b in neg.prev


def test_division_is_a_times_b_to_the_minus_one_with_the_exact_quotient() -> None:
    a, b = Value(1.0), Value(49.0)
    c = a / b
    (inverse,) = c.prev - {a}
    assert inverse._op == "**-1" and inverse.prev == {b}
    assert c.data == 1.0 / 49.0  # Python's quotient, not 1.0 * (49.0 ** -1)
    assert (Value(49.0) / Value(49.0)).data == 1.0


def test_x_over_x_is_one_for_every_float_tried() -> None:
    rng = random.Random(0)
    xs = [rng.uniform(-1e6, 1e6) for _ in range(2000)] + [
        rng.lognormvariate(0, 30) for _ in range(2000)
    ]
    assert all((Value(x) / Value(x)).data == 1.0 for x in xs if x != 0)


def test_subtraction_matches_pythons_for_every_pair_tried() -> None:
    rng = random.Random(1)
    for _ in range(2000):
        a, b = rng.uniform(-1e3, 1e3), rng.lognormvariate(0, 10)
        assert (Value(a) - Value(b)).data == a - b
        assert (a - Value(b)).data == a - b


def test_log_of_a_quotient_of_equals_to_a_fractional_power_works() -> None:
    out = (Value(49.0) / Value(49.0)).log() ** 1.5
    assert out.data == 0.0


# -- step 2: gradients and topological order -----------------------------------------------


def test_topo_sort_is_a_valid_order_with_self_last() -> None:
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    d = c + a
    e = d * d
    assert is_topological(e.topo_sort(), e)


def test_backward_seeds_one_and_accumulates_a_reused_node() -> None:
    a = Value(3.0)
    b = a + a
    b.backward()
    assert b.grad == 1.0
    assert a.grad == 2.0


@pytest.mark.parametrize(
    ("f", "da", "db"),
    [
        (lambda a, b: a + b, 1.0, 1.0),
        (lambda a, b: a * b, 3.0, 2.0),
        (lambda a, b: a - b, 1.0, -1.0),
        (lambda a, b: a / b, 1 / 3, -2 / 9),
        (lambda a, b: a**3, 12.0, 0.0),
    ],
    ids=["add", "mul", "sub", "div", "pow"],
)
def test_gradients_follow_the_rules_of_calculus(f, da, db) -> None:  # type: ignore[no-untyped-def]
    a, b = Value(2.0), Value(3.0)
    f(a, b).backward()
    assert a.grad == pytest.approx(da, rel=1e-15)
    assert b.grad == pytest.approx(db, rel=1e-15)


def test_lecture_expression_gradients() -> None:
    a, b, c, f = Value(2.0), Value(-3.0), Value(10.0), Value(-2.0)
    e = a * b
    d = e + c
    L = d * f
    L.backward()
    assert (a.grad, b.grad, c.grad, f.grad) == (6.0, -4.0, -2.0, 4.0)


# -- step 3: tanh and ReLU -----------------------------------------------------------------


def test_tanh_and_its_derivative_from_the_output() -> None:
    x = Value(0.8814)
    o = x.tanh()
    o.backward()
    assert o._op == "tanh" and o.prev == {x}
    assert o.data == math.tanh(0.8814)
    assert x.grad == pytest.approx(1 - math.tanh(0.8814) ** 2, rel=1e-15)


@pytest.mark.parametrize(("x", "out", "grad"), [(2.0, 2.0, 1.0), (-2.0, 0.0, 0.0)])
def test_relu_passes_positives_and_cuts_negatives(x: float, out: float, grad: float) -> None:
    v = Value(x)
    r = v.relu()
    r.backward()
    assert r._op == "ReLU" and (r.data, v.grad) == (out, grad)


# -- step 4: Neuron, Layer, MLP ------------------------------------------------------------


def test_neuron_sums_in_the_workshops_order_bit_for_bit() -> None:
    rng = random.Random(2)
    for trial in range(500):
        nin = rng.randint(1, 12)
        n = Neuron(nin, activation="linear", rng=random.Random(trial))
        x = [rng.uniform(-3, 3) for _ in range(nin)]
        chain = sum((wi * xi for wi, xi in zip(n.w, x, strict=True)), Value(0.0)) + n.b
        assert n(x).data == chain.data


def test_neuron_holds_nin_weights_and_a_bias_from_uniform() -> None:
    random.seed(3)
    n = Neuron(3)
    assert len(n.w) == 3 and all(-1 <= p.data <= 1 for p in n.parameters())
    random.seed(3)
    assert [p.data for p in Neuron(3).parameters()] == [p.data for p in n.parameters()]


def test_the_original_positional_nonlin_flag_is_understood() -> None:
    assert Neuron(3, False).activation == "linear"
    assert Neuron(3, True).activation == "relu"
    assert Layer(3, 4, True).activation == "relu"
    assert Layer(3, 4, False).activation == "linear"


def test_layer_returns_a_list_or_the_single_value() -> None:
    outs = Layer(3, 4)([1.0, 2.0, 3.0])
    assert isinstance(outs, list) and len(outs) == 4
    assert isinstance(Layer(3, 1)([1.0, 2.0, 3.0]), Value)


def test_mlp_structure_and_layer_sizes() -> None:
    model = MLP(3, [4, 4, 1])
    assert model.layer_sizes == [3, 4, 4, 1]
    assert [len(layer.neurons) for layer in model.layers] == [4, 4, 1]
    assert len(model.parameters()) == 41
    assert isinstance(model([2.0, 3.0, -1.0]), Value)


# -- step 5: training ----------------------------------------------------------------------


def test_zero_grad_resets_every_parameter() -> None:
    model = MLP(3, [4, 4, 1])
    model([2.0, 3.0, -1.0]).backward()
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_the_output_layer_is_linear() -> None:
    model = MLP(3, [4, 4, 1])
    assert model.layers[-1].activation == "linear"
    assert all(layer.activation == "relu" for layer in model.layers[:-1])


def test_forty_epochs_drive_the_loss_down() -> None:
    random.seed(1337)
    model = MLP(3, [4, 4, 1])
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    losses = []
    for _ in range(40):
        ypred = [model(x) for x in xs]
        loss = sum(((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred, strict=True)), Value(0.0))
        model.zero_grad()
        loss.backward()
        model.update_parameters()
        losses.append(loss.data)
    assert losses[-1] < 0.25 * losses[0]
