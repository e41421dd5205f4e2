"""Shared test helpers: one place that checks an operation against PyTorch and `gradcheck`.

`check_op(fn_micrograd, fn_torch, inputs)` evaluates the same function in both engines from
the same inputs, compares the forward values and the gradient of every input, and checks
micrograd's gradients against central differences with `micrograd.gradcheck`. The gradcheck part
runs first, so it still runs when torch is not installed; the test then skips with a reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from micrograd import Value, gradcheck

TORCH_MISSING = "torch is not installed: the comparison with PyTorch needs it"

# The relative (and, near zero, absolute) tolerance for comparing with PyTorch in float64.
RTOL = 1e-12
ATOL = 1e-12

Input = float | np.ndarray


def require_torch() -> Any:
    """Return the torch module, or skip the calling test with a reason when it is missing."""
    return pytest.importorskip("torch", reason=TORCH_MISSING)


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def assert_close(
    actual: Any, expected: Any, what: str, rtol: float = RTOL, atol: float = ATOL
) -> None:
    """Elementwise |actual - expected| <= atol + rtol * |expected|, with shapes equal."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != expected {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


def _weights(shape: tuple[int, ...]) -> np.ndarray:
    """Fixed, distinct weights for reducing an array output to a scalar loss, so a gradient
    sent to the wrong element (a transposed or shifted index) cannot go unnoticed."""
    n = int(np.prod(shape))
    return np.linspace(0.5, 1.5, n).reshape(shape) if n > 1 else np.ones(shape)


def _reduce(out: Value) -> Value:
    if isinstance(out.data, float):
        return out
    return (out * Value(_weights(out.data.shape))).sum()


def _to_value(x: Input) -> Value:
    return Value(np.array(x, dtype=np.float64) if isinstance(x, np.ndarray) else x)


def _check_with_gradcheck(fn: Callable[..., Value], inputs: Sequence[Input]) -> None:
    """gradcheck sees scalar inputs only, so an array input X is fed as X + sum_j E_j * d_j with
    one scalar d_j per element (E_j the j-th unit array), checked at d = 0: the gradient of d_j
    is the gradient of X[j], and it reaches d_j through the engine's broadcast summation."""
    points: list[float] = []
    builders: list[Callable[[Sequence[Value]], Value]] = []
    for x in inputs:
        start = len(points)
        if isinstance(x, np.ndarray):
            base = np.array(x, dtype=np.float64)
            units = [np.eye(base.size)[j].reshape(base.shape) for j in range(base.size)]
            points.extend([0.0] * base.size)

            def build(
                ds: Sequence[Value],
                base: np.ndarray = base,
                units: list[Any] = units,
                start: int = start,
            ) -> Value:
                v = Value(base)
                for j, unit in enumerate(units):
                    v = v + Value(unit) * ds[start + j]
                return v
        else:
            points.append(float(x))

            def build(ds: Sequence[Value], start: int = start) -> Value:
                return ds[start]

        builders.append(build)

    def scalar_fn(*ds: Value) -> Value:
        return _reduce(fn(*[b(ds) for b in builders]))

    report = gradcheck(scalar_fn, points)
    assert report, f"gradcheck failed:\n{report}"


def check_op(
    fn_micrograd: Callable[..., Value],
    fn_torch: Callable[..., Any],
    inputs: Sequence[Input],
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> tuple[Value, list[Value]]:
    """Check `fn_micrograd(*Values)` against `fn_torch(*float64 tensors)` and gradcheck.

    Inputs are floats or numpy arrays. An array output is reduced to a scalar with fixed
    distinct weights before backpropagating, identically in both engines. Returns micrograd's
    output and input leaves for any further assertions.
    """
    leaves = [_to_value(x) for x in inputs]
    out = fn_micrograd(*leaves)
    assert isinstance(out, Value), f"expected a Value, got {type(out).__name__}"
    _reduce(out).backward()

    _check_with_gradcheck(fn_micrograd, inputs)

    torch = require_torch()
    tensors = [
        torch.tensor(np.asarray(x, dtype=np.float64), dtype=torch.float64, requires_grad=True)
        for x in inputs
    ]
    t_out = fn_torch(*tensors)
    if not torch.is_tensor(t_out):
        t_out = torch.tensor(t_out, dtype=torch.float64)
    t_loss = t_out if t_out.dim() == 0 else (t_out * torch.from_numpy(_weights(t_out.shape))).sum()
    if t_loss.requires_grad:
        t_loss.backward()

    assert_close(out.data, t_out.detach().numpy(), "forward value", rtol, atol)
    for i, (leaf, t) in enumerate(zip(leaves, tensors, strict=True)):
        expected = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        grad = leaf.grad
        if isinstance(grad, float) and expected.ndim:
            # An array input that received no gradient keeps its initial 0.0.
            assert grad == 0.0, f"gradient of array input {i} is the float {grad}"
            grad = np.zeros(expected.shape)
        assert_close(grad, expected, f"gradient of input {i}", rtol, atol)
    return out, leaves


def sequential_layer(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The workshop's neuron in plain Python, one sample at a time: 0.0 + w0*x0 + w1*x1 + ... + b
    for every row of `x` and every row of `W`, as a (samples x outputs) array."""
    out = np.empty((len(x), len(W)))
    for s, row in enumerate(x.tolist()):
        for j, (w, bias) in enumerate(zip(W.tolist(), b.tolist(), strict=True)):
            total = 0.0
            for wi, xi in zip(w, row, strict=True):
                total = total + wi * xi
            out[s, j] = total + bias
    return out
