"""Layer buffers (`micrograd.buffers`) against the plain way: parameters that live in a layer's
lists behave as plain Values, and every whole-buffer shortcut gives the per-parameter numbers."""

from __future__ import annotations

import copy
import math
import pickle
import random

import numpy as np
import pytest
from helpers import sequential_layer
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import MLP, Value
from micrograd.buffers import Parameter, ParameterBlock, whole_buffers
from micrograd.fused import linear_forward_numpy
from micrograd.losses import hinge_loss, l2_penalty, mse_loss
from micrograd.optim import SGD, Adam, AdamW


@settings(max_examples=60, deadline=None)
@given(
    samples=st.integers(1, 40),
    nin=st.integers(1, 40),
    nout=st.integers(1, 12),
    seed=st.integers(0, 10**6),
)
def test_the_numpy_forward_is_the_sequential_sum_bit_for_bit(
    samples: int, nin: int, nout: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.integers(-6, 7, size=(1, nin))  # mixed magnitudes: order matters
    x = rng.standard_normal((samples, nin)) * scale
    W, b = rng.standard_normal((nout, nin)), rng.standard_normal(nout)
    out = linear_forward_numpy(x, W, b)  # the fallback; tests/test_kernels.py checks the C one
    expected = sequential_layer(x, W, b)
    assert np.array_equal(out, expected[:, 0] if nout == 1 else expected)


@pytest.mark.parametrize(("samples", "width"), [(30, 8), (300, 64)])  # blocks; one input a time
def test_a_batched_model_is_the_per_sample_model_bit_for_bit(samples: int, width: int) -> None:
    model = MLP(3, [width, width, 2], rng=random.Random(3))
    X = np.random.default_rng(3).normal(size=(samples, 3)) * 5
    batched = model(X).data  # type: ignore[union-attr]
    per_sample = [[v.data for v in model(list(x))] for x in X]  # type: ignore[union-attr]
    assert np.array_equal(batched, np.array(per_sample))


def test_parameters_read_and_write_their_layers_lists() -> None:
    model = MLP(2, [3, 1], rng=random.Random(0))
    layer = model.layers[0]
    p = layer.neurons[1].w[0]
    assert isinstance(p, Parameter)
    p.data = 0.25
    p.grad = -2.0
    assert layer._buffer.data[3] == 0.25 and layer._buffer.grad[3] == -2.0
    assert isinstance(layer._buffer.block, ParameterBlock)
    assert layer._buffer.block.grad.shape == (3, 3)
    assert layer._buffer.block.grad[1, 0] == -2.0
    p.data -= 0.5 * p.grad
    assert p.data == 1.25 and repr(p) == "Value(data=1.25, grad=-2.0)"
    with pytest.raises(TypeError, match="a parameter holds one float"):
        p.data = np.ones(3)
    with pytest.raises(TypeError, match="real number"):
        p.data = "1.0"  # type: ignore[assignment]
    with pytest.raises(TypeError, match="grad must be a number, got NoneType"):
        p.grad = None  # type: ignore[assignment]
    p.grad = 3  # an int is a number: kept as the float 3.0
    assert p.grad.__class__ is float and p.grad == 3.0


def test_whole_buffers_only_for_whole_layers_in_order() -> None:
    model = MLP(2, [3, 1], rng=random.Random(0))
    ps = model.parameters()
    assert whole_buffers(ps) == [layer._buffer for layer in model.layers]
    assert whole_buffers(ps[:-1]) is None
    assert whole_buffers(ps[1:]) is None
    assert whole_buffers(ps[:9] + ps[:9]) is None  # one layer twice
    assert whole_buffers(list(reversed(ps))) is None
    assert whole_buffers([Value(1.0)]) is None
    model.layers[0].neurons[0].w[0] = Value(0.5)  # a weight replaced by another Value
    assert whole_buffers(model.parameters()) is None
    assert model.parameters()[0].data == 0.5


def _train(model: MLP, params: list[Value], X: np.ndarray, y: np.ndarray, opt_of: type) -> None:
    opt = opt_of(params, lr=0.05)
    for _ in range(5):
        loss = hinge_loss(model(X), y) + 1e-3 * l2_penalty(params)
        opt.zero_grad()
        loss.backward()
        opt.step()


@pytest.mark.parametrize("opt_of", [SGD, Adam, AdamW])
def test_optimizers_on_whole_buffers_match_the_per_parameter_path(opt_of: type) -> None:
    X = np.random.default_rng(4).normal(size=(20, 2))
    y = np.where(X[:, 0] > 0, 1.0, -1.0)
    fast = MLP(2, [4, 1], rng=random.Random(4))
    plain = MLP(2, [4, 1], rng=random.Random(4))
    plain.layers[0].neurons[0].w[0] = Value(plain.layers[0].neurons[0].w[0].data)  # not whole
    assert whole_buffers(fast.parameters()) is not None
    assert whole_buffers(plain.parameters()) is None
    _train(fast, fast.parameters(), X, y, opt_of)
    _train(plain, plain.parameters(), X, y, opt_of)
    for a, b in zip(fast.parameters(), plain.parameters(), strict=True):
        assert math.isclose(a.data, b.data, rel_tol=1e-12, abs_tol=1e-12)


def test_sgd_with_momentum_is_the_same_on_buffers_and_on_values() -> None:
    model = MLP(2, [3, 1], rng=random.Random(5))
    values = [Value(p.data) for p in model.parameters()]
    opts = [
        SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        SGD(values, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    ]
    for step in range(3):
        for p, v in zip(model.parameters(), values, strict=True):
            p.grad = v.grad = math.sin(step + p.data)
        for opt in opts:
            opt.step()
    assert [p.data for p in model.parameters()] == [v.data for v in values]


def test_l2_over_buffers_is_the_demos_sum_bit_for_bit() -> None:
    model = MLP(2, [16, 16, 1], rng=random.Random(6))
    ps = model.parameters()
    penalty = l2_penalty(ps)
    assert penalty.data == sum(p.data * p.data for p in ps)
    penalty.backward()
    assert [p.grad for p in ps] == [2 * p.data for p in ps]


@pytest.mark.parametrize("batched", [True, False])
def test_backward_twice_gives_exactly_twice(batched: bool) -> None:
    model = MLP(2, [5, 1], rng=random.Random(7))
    X = np.random.default_rng(7).normal(size=(9, 2))
    y = np.where(X[:, 1] > 0, 1.0, -1.0)
    scores = model(X) if batched else [model(list(x)) for x in X]
    loss = hinge_loss(scores, y) + 1e-2 * l2_penalty(model.parameters())
    loss.backward()
    once = [p.grad for p in model.parameters()]
    loss.backward()
    assert [p.grad for p in model.parameters()] == [2 * g for g in once]


def test_a_graph_with_a_layer_block_and_its_own_parameters_counts_each_gradient_once() -> None:
    """A batched loss plus a hand-written penalty over the same parameters: the block and the
    Parameters are both leaves of one graph."""
    model = MLP(2, [4, 1], rng=random.Random(8))
    X = np.random.default_rng(8).normal(size=(12, 2))
    y = X[:, 0] - X[:, 1]
    ps = model.parameters()
    (mse_loss(model(X), y) + sum(p * p for p in ps)).backward()
    together = [p.grad for p in ps]
    model.zero_grad()
    mse_loss(model(X), y).backward()
    apart = [p.grad + 2 * p.data for p in ps]
    for a, b in zip(together, apart, strict=True):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def test_a_failed_backward_leaves_the_layer_gradients_as_they_were() -> None:
    model = MLP(2, [3, 1], rng=random.Random(9))
    for p in model.parameters():
        p.grad = 0.5
    out = model(np.ones((4, 2))).sum()  # type: ignore[union-attr]

    def fails() -> None:
        raise RuntimeError("boom")

    broken = out * 1.0
    broken._backward = fails
    with pytest.raises(RuntimeError, match="boom"):
        (broken + out).backward()
    assert [p.grad for p in model.parameters()] == [0.5] * 13


def test_a_replaced_weight_is_used_per_sample_and_batched() -> None:
    model = MLP(2, [2, 1], activation="linear", rng=random.Random(10))
    neuron = model.layers[0].neurons[0]
    neuron.w[1] = Value(0.0)
    neuron.w[0] = Value(1.0)
    neuron.b = Value(0.0)
    x = [3.0, 5.0]
    assert neuron(x).data == 3.0
    assert model(np.array([x])).data[0] == model(x).data  # type: ignore[union-attr]


@pytest.mark.parametrize("clone", [copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))])
def test_a_copied_model_has_its_own_buffers(clone: object) -> None:
    model = MLP(2, [3, 1], rng=random.Random(11))
    twin = clone(model)  # type: ignore[operator]
    assert whole_buffers(twin.parameters()) is not None
    twin.parameters()[0].data = 9.0
    assert model.parameters()[0].data != 9.0
    assert twin([1.0, 1.0]).data != model([1.0, 1.0]).data
    assert model(np.ones((1, 2))).data[0] == model([1.0, 1.0]).data  # type: ignore[union-attr]


def test_a_replaced_neuron_is_used_batched_too() -> None:
    model = MLP(2, [2, 1], activation="linear", rng=random.Random(12))
    layer = model.layers[0]
    layer.neurons[1] = type(layer.neurons[1])(2, "linear", rng=random.Random(13))
    X = np.array([[1.0, 2.0], [-3.0, 0.5]])
    batched = model(X).data  # type: ignore[union-attr]
    assert batched.tolist() == [model(list(x)).data for x in X]  # type: ignore[union-attr]
    assert whole_buffers(model.parameters()) is None


@pytest.mark.parametrize("replaced", [False, True])
def test_a_batch_of_the_wrong_width_is_refused_on_either_path(replaced: bool) -> None:
    model = MLP(3, [2, 1], rng=random.Random(14))
    if replaced:
        model.layers[0].neurons[0].w[0] = Value(0.5)  # the per-Value path
    with pytest.raises(ValueError, match="expected 3 input features, got 2"):
        model(np.ones((4, 2)))


def _plain_twin(model: MLP) -> MLP:
    """The same network with every weight and bias a plain Value: the per-Value paths."""
    twin = copy.deepcopy(model)
    for layer in twin.layers:
        for n in layer.neurons:
            n.w = [Value(w.data) for w in n.w]
            n.b = Value(n.b.data)
    assert whole_buffers(twin.parameters()) is None
    return twin


OPS = ["batched", "per sample", "sgd", "zero", "by hand", "update", "set one", "read"]


@settings(max_examples=40, deadline=None)
@given(ops=st.lists(st.sampled_from(OPS), min_size=1, max_size=12), seed=st.integers(0, 99))
def test_lists_and_arrays_stay_in_step_whatever_the_order(ops: list[str], seed: int) -> None:
    """Each view is rebuilt from the other before it is read: any interleaving of batched and
    per-sample passes, optimizer steps, hand-written updates and reads gives, bit for bit, the
    numbers of the same network made of plain Values."""
    model = MLP(2, [5, 3, 1], rng=random.Random(seed))
    twin = _plain_twin(model)
    X = np.random.default_rng(seed).normal(size=(7, 2))
    y = np.where(X[:, 0] > X[:, 1], 1.0, -1.0)
    opts = [SGD(m.parameters(), lr=0.1, momentum=0.5) for m in (model, twin)]
    for op in ops:
        for m, opt in zip((model, twin), opts, strict=True):  # the twin second
            ps = m.parameters()
            if op == "batched":
                (hinge_loss(m(X), y) + 1e-3 * l2_penalty(ps)).backward()
            elif op == "per sample":
                scores = [m(list(x)) for x in X[:3]]
                mse_loss(scores, y[:3]).backward()  # gradients that depend on the outputs
            elif op == "sgd":
                opt.step()
            elif op == "zero":
                opt.zero_grad()
            elif op == "by hand":
                for p in ps:
                    p.data -= 0.05 * p.grad
            elif op == "update":
                m.update_parameters()
            elif op == "set one":
                ps[3].data, ps[-1].grad = 0.5, 0.25
            else:  # compare now (reading syncs the lists, so other steps do not read)
                assert [p.data for p in ps] == [p.data for p in twin.parameters()]
                assert [p.grad for p in ps] == [p.grad for p in twin.parameters()]
                break
    a, b = model.parameters(), twin.parameters()
    assert [p.data for p in a] == [p.data for p in b]
    assert [p.grad for p in a] == [p.grad for p in b]


def test_a_graph_keeps_the_weights_it_was_built_with() -> None:
    """An optimizer step between forward and backward replaces the layer's array: the graph's
    own copy is the one its backward uses, as a graph of plain Values would."""
    model = MLP(2, [3, 1], rng=random.Random(15))
    twin = _plain_twin(model)
    X = np.random.default_rng(15).normal(size=(6, 2))
    losses = [mse_loss(m(X), X[:, 0]) for m in (model, twin)]
    for m in (model, twin):
        SGD(m.parameters(), lr=1.0).step()  # every gradient is 0: data stays, arrays replaced
        for p in m.parameters():
            p.data += 1.0
    for loss in losses:
        loss.backward()
    assert [p.grad for p in model.parameters()] == [p.grad for p in twin.parameters()]
    layer = model.layers[0]
    assert layer._buffer.matrix()[0, 0] == layer.neurons[0].w[0].data
    with pytest.raises(ValueError, match="read-only"):
        layer._buffer.matrix()[0, 0] = 1.0


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_a_batched_layer_is_one_node_with_its_activation(activation: str) -> None:
    """As a per-sample neuron is one `act(affine)` node, a batched layer is one `act(linear)`
    node: the same numbers and gradients as the linear node followed by the activation node."""
    model = MLP(3, [6, 2], activation=activation, rng=random.Random(16))
    twin = _plain_twin(model)  # the per-Value path: a `linear` node, then the activation's
    X = np.random.default_rng(16).normal(size=(11, 3))
    out, plain = model.layers[0](X), twin.layers[0](X)
    assert isinstance(out, Value) and isinstance(plain, Value)
    op = {"relu": "ReLU", "tanh": "tanh", "sigmoid": "sigmoid", "linear": ""}[activation]
    assert out._op == (f"{op}(linear)" if op else "linear")
    assert np.array_equal(out.data, plain.data)
    for m in (model, twin):
        mse_loss(m(X), np.zeros((11, 2))).backward()
    assert [p.grad for p in model.parameters()] == [p.grad for p in twin.parameters()]


def test_a_layer_refuses_arrays_and_gradients_that_do_not_fit() -> None:
    model = MLP(2, [3, 1], rng=random.Random(17))
    buffer = model.layers[0]._buffer  # 3 neurons x (2 weights + bias)
    with pytest.raises(ValueError, match="5 numbers for 9 parameters"):
        buffer.set_matrix(np.ones(5))
    with pytest.raises(ValueError, match="a gradient of 5 numbers for 9 parameters"):
        buffer.block.grad = np.ones(5)
    p = model.parameters()[2]
    p.grad = np.ones(2)  # allowed on a Value; an optimizer then names it
    with pytest.raises(TypeError, match="a gradient of type ndarray, expected a float"):
        buffer.grad_matrix()
    with pytest.raises(TypeError, match="parameter 2 has a gradient of type ndarray"):
        SGD(model.parameters(), lr=0.1).step()
    assert buffer.matrix().tolist() == [
        [p.data for p in n.parameters()] for n in model.layers[0].neurons
    ]
