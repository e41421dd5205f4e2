"""Numbers and arrays for the engine: what `Value` accepts as data, arithmetic as IEEE gives it
(infinity where Python would raise), the pieces of its error messages, summing a batched
gradient back to the shape of what it flows into. Standard library only; numpy is imported the
first time an array is seen.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from numbers import Real
from typing import Any

__all__ = [
    "Array", "any_true", "coerce", "finite", "first", "fmt", "ieee_pow", "is_array", "numpy",
    "sum_to",
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
        if array.ndim == 0:
            return float(array)
        if array.__class__ is _NDARRAY and array.dtype.char == "d":
            return array  # already a plain float64 array: no copy, no call
        return numpy().asarray(array, dtype=numpy().float64)
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


EXP_MAX = math.log(sys.float_info.max)  # e**x overflows a float past this


def call_math(fn: Callable[[float], float], x: Array) -> Array:
    """`math.fn(x)` on a float, numpy's function of the same name on an array."""
    return fn(x) if x.__class__ is float else getattr(numpy(), fn.__name__)(x)


def sigmoid(a: Array) -> Array:
    """1 / (1 + e**-a), never taking exp of a positive number: no finite input overflows."""
    if a.__class__ is float:
        e = math.exp(-abs(a))
        return 1.0 / (1.0 + e) if a >= 0 else e / (1.0 + e)
    np = numpy()
    e = np.exp(-abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def refuse(bad: Any, error: type[Exception], message: str, data: Array) -> None:
    """Raise `error(message)` if `bad` holds anywhere, `{}` in it naming the first bad operand."""
    if any_true(bad):
        raise error(message.replace("{}", str(first(data, bad))))


def finite(out: Array, message: str, data: Array) -> Array:
    """`out`, or an OverflowError saying `message`, `{}` in it naming the element of `data`
    where `out` is first infinite."""
    inf = numpy().isinf(out) if is_array(out) else math.isinf(out)
    refuse(inf, OverflowError, message, data)
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
