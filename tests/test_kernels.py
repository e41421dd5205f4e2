"""The compiled batched forward (`micrograd._kernels`) against the plain way: numpy's
input-by-input sum and a Python loop, bit for bit, on every shape the kernel treats apart
(lanes of 8 samples, rows of 4 outputs, their tails), on special values and odd layouts."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import sequential_layer
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import fused
from micrograd.fused import linear_forward, linear_forward_numpy
from micrograd.numeric import zero_where


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


def test_special_values_go_through_as_python_adds_them() -> None:
    x = np.array([[-0.0, 0.0], [np.inf, 1.0], [np.nan, 2.0], [5e-324, 1e-310], [1e308, 1e308]] * 3)
    W = np.array([[1.0, -0.0], [-1.0, 1.0], [0.0, 0.0], [2.0, 3.0], [1e300, -1e300]])
    b = np.array([-0.0, 0.0, 1.0, -1.0, 0.0])
    with np.errstate(all="ignore"):
        out = linear_forward(x, W, b)
        expected = sequential_layer(x, W, b)
    assert _same(out, expected)


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


def test_the_kernel_refuses_arrays_it_cannot_read() -> None:
    kernels = fused.KERNELS
    assert kernels is not None
    xt, wt, b, zt = np.zeros((3, 5)), np.zeros((3, 2)), np.zeros(2), np.zeros((2, 5))
    with pytest.raises(ValueError, match="shapes do not fit"):
        kernels.linear_t(xt, wt, np.zeros(3), zt)
    with pytest.raises(TypeError, match="float64"):
        kernels.linear_t(xt.astype(np.float32), wt, b, zt)
    with pytest.raises(TypeError, match="4 arguments"):
        kernels.linear_t(xt, wt, b)
    with pytest.raises((TypeError, ValueError), match=r"writable|read-only"):
        zt.flags.writeable = False
        kernels.linear_t(xt, wt, b, zt)


@settings(max_examples=60, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 30), st.integers(1, 9)),
    seed=st.integers(0, 10**6),
    fortran=st.booleans(),
)
def test_zero_where_is_numpys_where_bit_for_bit(
    shape: tuple[int, int], seed: int, fortran: bool
) -> None:
    rng = np.random.default_rng(seed)
    specials = np.array([np.inf, -np.inf, np.nan, -0.0, 0.0, 5e-324, -1.0])
    g = np.where(rng.random(shape) < 0.3, rng.choice(specials, shape), rng.standard_normal(shape))
    r = np.where(rng.random(shape) < 0.2, rng.choice(specials, shape), rng.standard_normal(shape))
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
