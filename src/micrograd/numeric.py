"""Numbers and arrays for the engine: what `Value` accepts as data, arithmetic as IEEE gives it
(infinity where Python would raise), the pieces of its error messages, summing a batched
gradient back to the shape of what it flows into, and the forwards of the engine's primitives
on plain data (floats or arrays), each with the clear error its operation can raise. Standard
library only; numpy is imported the first time an array is seen.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from numbers import Real
from typing import Any

__all__ = [
    "Array", "any_true", "coerce", "exp", "finite", "first", "floordiv", "fmt", "ieee",
    "ieee_pow", "is_array", "log", "numpy", "pow_const", "power", "relu", "sigmoid", "sum_to",
    "tanh", "total", "zero_where",
]  # fmt: skip

Array = Any  # a float, or a numpy array in batched mode


def numpy() -> Any:
    """The numpy module, imported on first use: batched mode needs it, the scalar engine not."""
    import numpy

    return numpy


_NDARRAY: Any = None  # numpy.ndarray, once numpy is imported


def is_array(x: object) -> bool:
    """True for a numpy array (without importing numpy when nobody else has)."""
    global _NDARRAY
    if _NDARRAY is None:
        np = sys.modules.get("numpy")
        if np is None:
            return False
        _NDARRAY = np.ndarray
    return isinstance(x, _NDARRAY)


def coerce(data: object) -> float | Array:
    """`data` as a float (or float64 array), or a TypeError naming what it got."""
    if data.__class__ is float:
        return data
    if is_array(data):  # before the check for numbers, which is slower for an array
        array: Any = data
        if array.dtype.kind not in "fiu":
            raise TypeError(f"Value data array must hold real numbers, got dtype {array.dtype}")
        return float(array) if array.ndim == 0 else numpy().asarray(array, dtype=numpy().float64)
    if isinstance(data, Real) and not isinstance(data, bool):
        return float(data)
    raise TypeError(
        f"Value data must be a real number (int, float or numpy scalar), "
        f"got {type(data).__name__}: {data!r}"
    )


# -- arithmetic as IEEE gives it, and messages -----------------------------------------------


def ieee_pow(a: Array, p: Array) -> Array:
    """`a ** p` with infinity for an overflow or zero to a negative power, never an exception
    (derivatives may be infinite where the forward is fine, as in PyTorch)."""
    if is_array(a) or is_array(p):
        with numpy().errstate(over="ignore", divide="ignore"):
            return numpy().power(a, p)
    try:
        return math.pow(a, p)
    except (ValueError, OverflowError):  # 0 ** -p, or too large
        odd = p == int(p) and int(p) % 2 == 1
        return math.copysign(math.inf, a) if odd else math.inf


def ieee(fn: Callable[[float], float], name: str, a: Array) -> Array:
    """`fn(a)` elementwise, infinity on overflow (the caller decides whether that is an error)."""
    if is_array(a):
        with numpy().errstate(over="ignore"):
            return getattr(numpy(), name)(a)
    try:
        return fn(a)
    except OverflowError:
        return math.inf


def finite(out: Array, message: Callable[[Array], str]) -> Array:
    """`out`, or an OverflowError whose `message` is given the mask of infinite elements."""
    inf = numpy().isinf(out) if is_array(out) else math.isinf(out)
    if any_true(inf):
        raise OverflowError(message(inf))
    return out


def any_true(mask: Array) -> bool:
    return bool(mask.any()) if is_array(mask) else bool(mask)


def first(x: Array, mask: Array) -> float:
    """The first element of `x` where `mask` holds (x itself for a float), for messages."""
    return float(x[mask].flat[0]) if is_array(x) else x


def fmt(x: Array) -> str:
    return f"array of shape {x.shape}" if is_array(x) else repr(x)


def sum_to(g: Array, like: Array) -> Array:
    """Reduce gradient `g` to the shape of `like`, summing over the axes that were broadcast."""
    if g.__class__ is float:
        return g
    if like.__class__ is float:
        return float(g.sum())
    if g.shape == like.shape:
        return g
    while g.ndim > like.ndim:
        g = g.sum(axis=0)
    for axis, size in enumerate(like.shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


# -- the forwards of the engine's primitives, on plain data, with their clear errors --------


def pow_const(a: Array, n: float) -> Array:
    """`a ** n` for a number `n`."""
    if n != int(n) and any_true(a < 0):
        raise ValueError(
            f"**: a negative base to the fractional power {n} is not a real number "
            f"(base {first(a, a < 0)})"
        )
    if n < 0 and any_true(a == 0):
        raise ZeroDivisionError(f"**: zero cannot be raised to the negative power {n}")
    return finite(ieee_pow(a, n), lambda bad: f"**: {first(a, bad)} ** {n} overflows a float")


def power(a: Array, b: Array) -> Array:
    """`a ** b` where the exponent is a Value's data: a positive base only."""
    if any_true(a <= 0):
        raise ValueError(
            f"**: the base must be positive when the exponent is a Value "
            f"(got base {first(a, a <= 0)})"
        )
    return finite(ieee_pow(a, b), lambda _: f"**: {fmt(a)} ** {fmt(b)} overflows a float")


def floordiv(a: Array, b: Array) -> Array:
    if any_true(b == 0):
        raise ZeroDivisionError(f"//: division by zero ({fmt(a)} // {fmt(b)})")
    return a // b


def exp(a: Array) -> Array:
    return finite(
        ieee(math.exp, "exp", a), lambda bad: f"exp: overflow for operand {first(a, bad)}"
    )


def log(a: Array) -> Array:
    if any_true(a <= 0):
        raise ValueError(f"log: the operand must be positive, got {first(a, a <= 0)}")
    return math.log(a) if a.__class__ is float else numpy().log(a)


def tanh(a: Array) -> Array:
    return math.tanh(a) if a.__class__ is float else numpy().tanh(a)


def sigmoid(a: Array) -> Array:
    # Never exponentiate a positive number, so no finite input overflows.
    if a.__class__ is float:
        e = math.exp(-abs(a))
        return 1.0 / (1.0 + e) if a >= 0 else e / (1.0 + e)
    np = numpy()
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def relu(a: Array) -> Array:
    if a.__class__ is float:
        return 0.0 if a <= 0.0 else a  # NaN passes through, as in PyTorch
    return numpy().maximum(a, 0.0)


def zero_where(closed: Array, g: Array) -> Array:
    """`numpy.where(closed, 0.0, g)` bit for bit (+0.0 where closed, g itself elsewhere, an
    infinite or NaN g included): for a float64 g of the mask's shape, by and-ing g's bits with
    an all-ones or all-zeros mask, about 6x faster than `where` on a large ragged mask (on
    fewer than about 16,000 numbers `where` itself is faster: fewer calls)."""
    np = numpy()
    if not (is_array(g) and g.dtype == np.float64 and g.shape == closed.shape) or g.size < 16384:
        return np.where(closed, 0.0, g)
    bits = closed.astype(np.int64)
    bits -= 1  # closed: 0, open: -1 (every bit set)
    bits &= g.view(np.int64)
    return bits.view(np.float64)


def total(a: Array, axis: int | None) -> Array:
    """The sum over an array (or along `axis`); a float is its own sum."""
    if a.__class__ is float:
        return a
    s = a.sum(axis=axis)
    return float(s) if axis is None or s.ndim == 0 else s
