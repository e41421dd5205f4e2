"""The compiled batched forward (`micrograd._kernels`) against the plain way: numpy's
input-by-input sum and a Python loop, bit for bit, on every shape the kernel treats apart
(lanes of 8 samples, rows of 4 outputs, their tails), on special values and odd layouts; and its
two helpers, ReLU's gate and the sum of squares, against numpy and Python."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import sequential_layer
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import fused
from micrograd.engine import relu_chain
from micrograd.fused import (
    linear_forward,
    linear_forward_numpy,
    linear_gradients,
    linear_gradients_numpy,
    relu_gate,
)
from micrograd.numeric import relu, zero_where


def test_the_kernel_was_built() -> None:
    # An install without a C compiler falls back to numpy silently; here that would be a bug.
    assert fused.KERNELS is not None, "micrograd._kernels was not built: is a C compiler there?"


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal bit for bit, NaNs and the sign of zero included."""
    return a.shape == b.shape and bool(np.all(a.view(np.int64) == b.view(np.int64)))


@settings(max_examples=150, deadline=None)
@given(
    samples=st.integers(1, 37),
    nin=st.integers(1, 19),
    nout=st.integers(1, 11),
    seed=st.integers(0, 10**6),
)
def test_the_kernel_is_the_sequential_sum_bit_for_bit(
    samples: int, nin: int, nout: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.integers(-8, 9, size=(1, nin))  # mixed magnitudes: order matters
    x = rng.standard_normal((samples, nin)) * scale
    W, b = rng.standard_normal((nout, nin)), rng.standard_normal(nout)
    out = np.asarray(linear_forward(x, W, b)).reshape(samples, nout)
    assert _same(out, sequential_layer(x, W, b))
    assert _same(out, np.asarray(linear_forward_numpy(x, W, b)).reshape(samples, nout))
    # read in place from a layer's matrix (bias in the last column), ReLU applied in the kernel
    M = np.concatenate([W, b[:, None]], axis=1)
    fused_relu = linear_forward(x, M[:, :-1], M[:, -1], relu=True)
    assert _same(np.asarray(fused_relu).reshape(samples, nout), relu(out))


def test_special_values_go_through_as_python_adds_them() -> None:
    x = np.array([[-0.0, 0.0], [np.inf, 1.0], [np.nan, 2.0], [5e-324, 1e-310], [1e308, 1e308]] * 3)
    W = np.array([[1.0, -0.0], [-1.0, 1.0], [0.0, 0.0], [2.0, 3.0], [1e300, -1e300]])
    b = np.array([-0.0, 0.0, 1.0, -1.0, 0.0])
    with np.errstate(all="ignore"):
        out = linear_forward(x, W, b)
        expected = sequential_layer(x, W, b)
        with_relu = linear_forward(x, W, b, relu=True)
    assert _same(out, expected)
    assert _same(with_relu, relu(expected))  # -0.0 becomes 0.0 and NaN passes, as per sample


def test_inputs_in_any_layout_give_the_same_numbers() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((50, 9))
    W, b = rng.standard_normal((6, 9)), rng.standard_normal(6)
    expected = linear_forward_numpy(x, W, b)
    for xx in (np.asfortranarray(x), x[::1, :], np.ascontiguousarray(x.T).T):
        assert _same(linear_forward(xx, W, b), expected)
    assert _same(linear_forward(x[::2], W, b), linear_forward_numpy(x[::2], W, b))
    one = rng.standard_normal(12)  # a single feature, as 1-D
    assert _same(linear_forward(one, W[:, :1], b), linear_forward_numpy(one, W[:, :1], b))


def test_weights_in_any_layout_are_read_in_place() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((13, 5))
    W, b = rng.standard_normal((6, 5)), rng.standard_normal(6)
    expected = sequential_layer(x, W, b)
    wide = np.zeros((12, 11))  # W and b as strided views into a bigger array
    wide[::2, 1:10:2], wide[::2, 10] = W, b
    for w_, b_ in (
        (np.asfortranarray(W), b),
        (wide[::2, 1:10:2], wide[::2, 10]),
        (W[::-1][::-1], b),
    ):
        assert _same(np.asarray(linear_forward(x, w_, b_)), expected)
    ints = np.arange(30).reshape(6, 5)  # not float64: read as float64
    assert _same(linear_forward(x, ints, b), sequential_layer(x, ints.astype(float), b))


def test_the_kernel_refuses_arrays_it_cannot_read() -> None:
    kernels = fused.KERNELS
    assert kernels is not None
    xt, W, b, zt = np.zeros((3, 5)), np.zeros((2, 3)), np.zeros(2), np.zeros((2, 5))
    with pytest.raises(ValueError, match="shapes do not fit"):
        kernels.linear_t(xt, W, np.zeros(3), zt, False)
    with pytest.raises(TypeError, match="float64"):
        kernels.linear_t(xt.astype(np.float32), W, b, zt, False)
    with pytest.raises(TypeError, match="5 arguments"):
        kernels.linear_t(xt, W, b, zt)
    with pytest.raises(ValueError, match="contiguous"):
        kernels.linear_t(np.zeros((5, 3)).T, W, b, zt, False)
    with pytest.raises(ValueError, match="differ in size"):
        kernels.relu_gate(np.zeros(3), np.zeros(4), np.zeros(3))
    with pytest.raises(TypeError, match="float64"):
        kernels.sum_of_squares([np.zeros(3, dtype=np.float32)])
    with pytest.raises(ValueError, match="C-contiguous"):
        kernels.sum_of_squares([np.zeros((3, 2)).T])
    with pytest.raises((TypeError, ValueError), match=r"writable|read-only"):
        zt.flags.writeable = False
        kernels.linear_t(xt, W, b, zt, False)


_SPECIALS = np.array([np.inf, -np.inf, np.nan, -0.0, 0.0, 5e-324, -1.0])


@settings(max_examples=60, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 30), st.integers(1, 9)),
    seed=st.integers(0, 10**6),
    fortran=st.booleans(),
)
def test_relu_gate_is_relu_chain_bit_for_bit(
    shape: tuple[int, int], seed: int, fortran: bool
) -> None:
    rng = np.random.default_rng(seed)
    g = np.where(rng.random(shape) < 0.3, rng.choice(_SPECIALS, shape), rng.standard_normal(shape))
    r = relu(
        np.where(rng.random(shape) < 0.2, rng.choice(_SPECIALS, shape), rng.standard_normal(shape))
    )
    if fortran:
        g, r = np.asfortranarray(g), np.asfortranarray(r)
    assert _same(relu_gate(g, r), relu_chain(g, r))
    assert _same(relu_gate(g.T.copy().T, r), relu_chain(g, r))  # mixed layouts: the plain way
    assert _same(relu_gate(g[:, :1], r[:, :1]), relu_chain(g[:, :1], r[:, :1]))  # strided
    assert relu_gate(2.0, r).tolist() == relu_chain(2.0, r).tolist()  # a float g


@settings(max_examples=60, deadline=None)
@given(
    shapes=st.lists(st.tuples(st.integers(0, 9), st.integers(1, 9)), min_size=1, max_size=4),
    seed=st.integers(0, 10**6),
)
def test_sum_of_squares_adds_in_order_as_python_does(
    shapes: list[tuple[int, int]], seed: int
) -> None:
    kernels = fused.KERNELS
    assert kernels is not None
    rng = np.random.default_rng(seed)
    arrays = [
        rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 9, size=shape) for shape in shapes
    ]
    expected = sum(x * x for a in arrays for x in a.ravel().tolist())
    assert kernels.sum_of_squares(arrays) == expected
    assert kernels.sum_of_squares([np.array([-0.0])]) == 0.0  # from 0, as Python's sum starts


@settings(max_examples=60, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 30), st.integers(1, 9)),
    seed=st.integers(0, 10**6),
    fortran=st.booleans(),
    large=st.booleans(),
)
def test_zero_where_is_numpys_where_bit_for_bit(
    shape: tuple[int, int], seed: int, fortran: bool, large: bool
) -> None:
    rng = np.random.default_rng(seed)
    if large:  # past the size where it ands bits instead of calling `where`
        shape = (shape[0] * (16384 // (shape[0] * shape[1]) + 1), shape[1])
    g = np.where(rng.random(shape) < 0.3, rng.choice(_SPECIALS, shape), rng.standard_normal(shape))
    r = np.where(rng.random(shape) < 0.2, rng.choice(_SPECIALS, shape), rng.standard_normal(shape))
    if fortran:
        g, r = np.asfortranarray(g), np.asfortranarray(r)
    closed = r <= 0.0
    assert _same(zero_where(closed, g), np.where(closed, 0.0, g))
    assert _same(zero_where(closed, g.T.copy().T), np.where(closed, 0.0, g))  # mixed layouts
    assert zero_where(closed, 2.0).tolist() == np.where(closed, 0.0, 2.0).tolist()  # a float g


def test_keeping_freed_memory_is_asked_once_and_says_if_it_could() -> None:
    kernels = fused.KERNELS
    assert kernels is not None
    assert isinstance(kernels.keep_freed_memory(), bool)
    linear_forward(np.ones((3, 2)), np.ones((1, 2)), np.zeros(1))
    assert fused._MEMORY_KEPT


def _exact_gradients(g: np.ndarray, W: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, ...]:
    """dx, G and each entry's error bound, from correctly rounded sums (math.fsum)."""
    S, nin = x.shape
    nout = W.shape[0]
    gx = np.concatenate([x, np.ones((S, 1))], axis=1)
    G = np.array([[math.fsum(g[:, j] * gx[:, k]) for k in range(nin + 1)] for j in range(nout)])
    G_bound = np.abs(g).T @ np.abs(gx)
    dx = np.array([[math.fsum(g[s, :] * W[:, k]) for k in range(nin)] for s in range(S)])
    dx_bound = np.abs(g) @ np.abs(W)
    return dx, dx_bound, G, G_bound


@settings(max_examples=150, deadline=None)
@given(
    samples=st.integers(1, 37),
    nin=st.integers(1, 11),
    nout=st.integers(1, 9),
    seed=st.integers(0, 10**6),
    x_order=st.sampled_from("CF"),
    g_order=st.sampled_from("CF"),
)
def test_the_backward_kernel_gives_the_gradients_to_rounding(
    samples: int, nin: int, nout: int, seed: int, x_order: str, g_order: str
) -> None:
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal((samples, nin)) * 10.0 ** rng.integers(-3, 4), order=x_order)
    g = np.asarray(rng.standard_normal((samples, nout)), order=g_order)
    M = rng.standard_normal((nout, nin + 1))  # the weights read in place from a layer's matrix
    W = M[:, :-1]
    g_in = g[:, 0] if nout == 1 else g  # one output: a 1-D gradient, as the layer gives it
    x_in = x[:, 0] if nin == 1 else x
    dx, G = linear_gradients(g_in, W, x_in)
    dx_np, G_np = linear_gradients_numpy(g_in, W, x_in)
    assert dx.shape == dx_np.shape == x_in.shape and G.shape == G_np.shape == (nout, nin + 1)
    exact_dx, dx_bound, exact_G, G_bound = _exact_gradients(g, W, x)
    eps = np.finfo(float).eps
    assert np.all(np.abs(dx.reshape(samples, nin) - exact_dx) <= (nout + 1) * eps * dx_bound)
    assert np.all(np.abs(G - exact_G) <= (samples + 1) * eps * G_bound)
    again = linear_gradients(g_in, W, x_in)  # the same numbers every time
    assert _same(again[0], dx) and _same(again[1], G)


def test_the_backward_kernel_carries_infinities_and_nans() -> None:
    x = np.asfortranarray(np.ones((9, 2)))
    g = np.asfortranarray(np.ones((9, 3)))
    g[4, 1] = np.nan
    x[2, 0] = np.inf
    with np.errstate(all="ignore"):
        dx, G = linear_gradients(g, np.ones((3, 2)), x)
        dx_np, G_np = linear_gradients_numpy(g, np.ones((3, 2)), x)
    assert np.array_equal(np.isnan(dx), np.isnan(dx_np)) and np.array_equal(
        np.isnan(G), np.isnan(G_np)
    )
    assert np.array_equal(np.isinf(G), np.isinf(G_np))


def test_the_backward_kernel_refuses_arrays_it_cannot_read() -> None:
    kernels = fused.KERNELS
    assert kernels is not None
    gt, xt, W = np.zeros((3, 5)), np.zeros((2, 5)), np.zeros((3, 2))
    dxt, G = np.zeros((2, 5)), np.zeros((3, 3))
    kernels.linear_backward(gt, xt, W, dxt, G)
    with pytest.raises(ValueError, match="shapes do not fit"):
        kernels.linear_backward(gt, xt, W, dxt, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="contiguous"):
        kernels.linear_backward(np.zeros((5, 3)).T, xt, W, dxt, G)
    with pytest.raises(TypeError, match="float64"):
        kernels.linear_backward(gt, xt.astype(np.float32), W, dxt, G)
    with pytest.raises(TypeError, match="5 arguments"):
        kernels.linear_backward(gt, xt, W, dxt)
