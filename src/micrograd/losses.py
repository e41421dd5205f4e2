"""Loss functions and weight penalties, composed from `Value` operations (PyTorch names).

Each loss returns a scalar `Value`, the mean over samples, and works in two modes:

- per sample: predictions are a list of Values, one per sample (for `cross_entropy`, a list of
  rows of C logits; for the element-wise losses a sample may also be a row of outputs), and the
  targets a list or array of numbers of the same shape;
- batched: predictions are one `Value` holding an array, shape (N,) or (N, C), and the targets
  a numpy array.

Everything is built from engine primitives, so gradients come from the engine's rules and no
derivative is written here. The constants that keep the losses numerically stable (the row
maximum in `cross_entropy`, the sign of a logit in `binary_cross_entropy_with_logits`) are read
from `.data`: they select a branch or cancel out, so no gradient flows through them.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Sequence
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from .batched import cat
from .engine import Value
from .numeric import numpy

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "LOSSES",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "hinge_loss",
    "l1_penalty",
    "l2_penalty",
    "mse_loss",
]

# Predictions: a Value holding an array (batched), or a sequence of per-sample Values or rows.
Predictions: TypeAlias = "Value | Sequence[Any] | np.ndarray[Any, Any]"
# Targets: a sequence or numpy array of numbers (class indices for cross_entropy).
Targets = Any


def _is_ndarray(x: object) -> bool:
    np = sys.modules.get("numpy")
    return np is not None and isinstance(x, np.ndarray)


def _is_sequence(x: object) -> bool:
    if _is_ndarray(x):
        return bool(x.ndim >= 1)  # type: ignore[attr-defined]
    return isinstance(x, Sequence) and not isinstance(x, (str, bytes))


def _is_batch(pred: object) -> bool:
    if isinstance(pred, Value):
        return not isinstance(pred.data, float)
    return _is_ndarray(pred) and bool(pred.ndim >= 1)  # type: ignore[attr-defined]


def _describe(x: object) -> str:
    if isinstance(x, Value):
        return "a Value holding an array" if _is_ndarray(x.data) else f"a Value ({x.data!r})"
    return f"{type(x).__name__} {x!r}"


# -- per-sample inputs -------------------------------------------------------------------------


def _target_number(name: str, where: str, t: object) -> float:
    """A target as a finite float; bools, Values and anything non-numeric are refused."""
    if isinstance(t, bool) or not isinstance(t, Real):
        hint = " (targets are constants: pass numbers, not Values)" if isinstance(t, Value) else ""
        raise TypeError(f"{name}: {where} must be a number, got {_describe(t)}{hint}")
    f = float(t)
    if not math.isfinite(f):
        raise ValueError(f"{name}: {where} must be a finite number, got {f}")
    return f


def _prediction(name: str, where: str, p: object) -> Value:
    if isinstance(p, Value):
        if not isinstance(p.data, float):
            raise TypeError(
                f"{name}: {where} is a Value holding an array; for batched mode pass that one "
                "Value as the predictions, not a list of them"
            )
        return p
    if isinstance(p, bool) or not isinstance(p, Real):
        raise TypeError(f"{name}: {where} must be a Value or a number, got {_describe(p)}")
    return Value(p)


def _check_samples(name: str, pred: object, target: object, what: str) -> Sequence[Any]:
    """Both are sequences of the same, non-zero length; else a message saying what was expected."""
    if not _is_sequence(pred):
        raise TypeError(
            f"{name}: {what} must be a list with one entry per sample, or one Value holding an "
            f"array of shape (N,) or (N, C); got {_describe(pred)}"
        )
    if not _is_sequence(target):
        raise TypeError(
            f"{name}: targets must be a list or array with one entry per sample, "
            f"got {_describe(target)}"
        )
    n, m = len(pred), len(target)  # type: ignore[arg-type]
    if n != m:
        raise ValueError(f"{name}: {n} {what} but {m} targets: expected one target per sample")
    if n == 0:
        raise ValueError(f"{name}: got no {what}: expected at least one sample")
    return cast(Sequence[Any], pred)


def _pairs(
    name: str, pred: Any, target: Any, allowed: tuple[tuple[float, float], str] | None = None
) -> tuple[list[Value], list[float]]:
    """Flatten per-sample predictions and their targets into matching lists.

    A sample is a Value (or a number), or a row of them for a model with several outputs; every
    sample must have the same shape, and its target the same shape as the sample. `allowed`
    optionally gives the only target values accepted, and how to name them in a message.
    """

    def number(where: str, t: object) -> float:
        y = _target_number(name, where, t)
        if allowed is not None and y not in allowed[0]:
            raise ValueError(f"{name}: targets must be {allowed[1]}, got {y!r} ({where})")
        return y

    if isinstance(pred, Value):  # one scalar prediction: one sample
        pred = [pred]
        if not _is_sequence(target):
            target = [target]
    _check_samples(name, pred, target, "predictions")
    width = len(pred[0]) if _is_sequence(pred[0]) else None
    values: list[Value] = []
    ys: list[float] = []
    for i, (p, t) in enumerate(zip(pred, target, strict=True)):
        if width is None:
            if _is_sequence(p):
                raise ValueError(
                    f"{name}: prediction {i} is a row of {len(p)} outputs, but sample 0 is a "
                    "single Value: expected every sample to have the same shape"
                )
            values.append(_prediction(name, f"prediction {i}", p))
            ys.append(number(f"target {i}", t))
            continue
        if not _is_sequence(p) or len(p) != width:
            got = f"{len(p)} outputs" if _is_sequence(p) else "a single Value"
            raise ValueError(
                f"{name}: prediction {i} has {got}, but sample 0 has {width}: "
                "expected every sample to have the same shape"
            )
        if not _is_sequence(t) or len(t) != width:
            got = f"{len(t)} values" if _is_sequence(t) else _describe(t)
            raise ValueError(
                f"{name}: prediction {i} has {width} outputs but its target is {got}: "
                f"expected {width} target values"
            )
        values.extend(_prediction(name, f"prediction {i}[{j}]", q) for j, q in enumerate(p))
        ys.extend(number(f"target {i}[{j}]", u) for j, u in enumerate(t))
    if not values:
        raise ValueError(f"{name}: the predictions hold no outputs: expected at least one")
    return values, ys


def _sum(values: Iterable[Value]) -> Value:
    total: Value = sum(values)  # type: ignore[assignment]
    return total


def _mean(losses: list[Value]) -> Value:
    # Summed left to right and scaled, exactly as the original micrograd demo does.
    return _sum(losses) * (1.0 / len(losses))


# -- batched inputs ----------------------------------------------------------------------------


def _batch_value(pred: Any) -> Value:
    return pred if isinstance(pred, Value) else Value(pred)


def _target_array(name: str, target: object, kinds: str, expected: str, finite: bool = True) -> Any:
    """The targets as a numpy array of the given dtype kinds ('f' floats, 'iu' integers), checked
    finite unless the caller checks them against a few allowed values."""
    np = numpy()
    if isinstance(target, Value):
        raise TypeError(f"{name}: targets must be a numpy array of {expected}, got a Value")
    try:
        t = np.asarray(target)
    except ValueError as e:  # a ragged list
        raise ValueError(f"{name}: targets must be a rectangular array of {expected}: {e}") from e
    if t.dtype.kind not in kinds:
        raise TypeError(f"{name}: targets must be {expected}, got an array of dtype {t.dtype}")
    if finite and t.dtype.kind == "f" and not np.isfinite(t).all():
        bad = t[~np.isfinite(t)].flat[0]
        raise ValueError(f"{name}: targets must be finite numbers, got {bad}")
    return t


def _batch_pairs(name: str, pred: Any, target: object, finite: bool = True) -> tuple[Value, Any]:
    """Predictions as an array Value and targets as a float64 array of the same shape (the
    caller's own array when it is one: the losses only read it)."""
    x = _batch_value(pred)
    t = _target_array(name, target, "iuf", "numbers", finite)
    shape = x.data.shape
    if t.shape != shape:
        if t.ndim == 1 and len(shape) == 1:
            raise ValueError(
                f"{name}: {shape[0]} predictions but {t.shape[0]} targets: "
                "expected one target per sample"
            )
        raise ValueError(
            f"{name}: predictions have shape {shape} but targets have shape {t.shape}: "
            "expected the same shape"
        )
    if x.data.size == 0:
        raise ValueError(f"{name}: got no predictions: expected at least one sample")
    return x, numpy().asarray(t, dtype=numpy().float64)


def _check_allowed_array(name: str, t: Any, allowed: tuple[float, float], hint: str) -> None:
    np = numpy()
    lo, hi = allowed
    # counting is faster than np.isin (which sorts) or combining masks
    if np.count_nonzero(t == lo) + np.count_nonzero(t == hi) != t.size:
        bad = (t != lo) & (t != hi)
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = str(index[0]) + "".join(f"[{k}]" for k in index[1:])
        raise ValueError(
            f"{name}: targets must be {hint}, got {float(t[index])!r} (target {where})"
        )


# -- the losses --------------------------------------------------------------------------------


def mse_loss(pred: Predictions, target: Targets) -> Value:
    """Mean squared error: mean((pred - target) ** 2) over every output of every sample."""
    name = "mse_loss"
    if _is_batch(pred):
        x, t = _batch_pairs(name, pred, target)
        diff: Value = x + (-t)
        return (diff**2).mean()
    values, ys = _pairs(name, pred, target)
    return _mean([(p + (-y)) ** 2 for p, y in zip(values, ys, strict=True)])


def hinge_loss(scores: Predictions, target: Targets) -> Value:
    """Max-margin loss for targets in {-1, +1}: mean(relu(1 - target * score)).

    Per sample this is the original micrograd demo's loss, computed the same way, so its value
    and gradients are bit-identical to the demo's.
    """
    name = "hinge_loss"
    hint = "-1 or +1"
    if _is_batch(scores):
        x, t = _batch_pairs(name, scores, target, finite=False)  # checked against -1 and +1
        _check_allowed_array(name, t, (-1.0, 1.0), hint)
        margin: Value = 1 + x * (-t)
        return margin.relu().mean()
    values, ys = _pairs(name, scores, target, ((-1.0, 1.0), hint))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(ys, values, strict=True)]
    return _mean(losses)


def binary_cross_entropy_with_logits(logits: Predictions, target: Targets) -> Value:
    """Binary cross-entropy of sigmoid(logits) against targets in {0, 1}, stable for any logit.

    Computes relu(x) - x*y + log(1 + exp(-|x|)) with relu(x) = m*x and |x| = s*x, where m (1 if
    x >= 0 else 0) and s (+1 or -1) are constants read from the data. Every term is then smooth,
    so the gradient is sigmoid(x) - y everywhere, at x = 0 too, and exp never sees a positive
    argument, so no logit overflows.
    """
    name = "binary_cross_entropy_with_logits"
    hint = "0 or 1"
    if _is_batch(logits):
        x, t = _batch_pairs(name, logits, target, finite=False)  # checked against 0 and 1
        _check_allowed_array(name, t, (0.0, 1.0), hint)
        m = (x.data >= 0).astype(numpy().float64)
        minus_abs: Value = x * (1.0 - 2.0 * m)
        linear_part: Value = x * (m - t)
        return (linear_part + (minus_abs.exp() + 1).log()).mean()
    values, ys = _pairs(name, logits, target, ((0.0, 1.0), hint))
    losses = []
    for x, y in zip(values, ys, strict=True):
        m = 1.0 if x.data >= 0 else 0.0
        losses.append(x * (m - y) + ((x * (1.0 - 2.0 * m)).exp() + 1).log())
    return _mean(losses)


def _class_index(name: str, where: str, t: object, classes: int) -> int:
    if isinstance(t, bool) or not isinstance(t, Integral):
        raise TypeError(f"{name}: {where} must be an integer class index, got {_describe(t)}")
    k = int(t)
    if not 0 <= k < classes:
        raise ValueError(
            f"{name}: {where} is {k}, out of range: expected a class index in "
            f"0..{classes - 1} ({classes} classes)"
        )
    return k


def cross_entropy(logits: Predictions, target: Targets) -> Value:
    """Softmax cross-entropy of (N x C) logits against N class indices, averaged over samples.

    Each sample's loss is logsumexp(z) - z[target], with the row's maximum subtracted inside the
    exponential so that any finite logit is safe; the maximum cancels out of the result, so it
    is a constant read from the data.
    """
    name = "cross_entropy"
    if _is_batch(logits):
        return _cross_entropy_batch(name, _batch_value(logits), target)
    samples = _check_samples(name, logits, target, "samples of logits")
    rows: list[list[Value]] = []
    classes = None
    for i, row in enumerate(samples):
        if not _is_sequence(row):
            raise TypeError(
                f"{name}: sample {i} must be a row of C logits (a list of Values), got "
                f"{_describe(row)}; for a single sample pass [logits] and [target]"
            )
        if classes is None:
            classes = len(row)
            if classes == 0:
                raise ValueError(f"{name}: sample 0 has no logits: expected at least one class")
        elif len(row) != classes:
            raise ValueError(
                f"{name}: sample {i} has {len(row)} logits but sample 0 has {classes}: "
                "expected the same number of classes in every sample"
            )
        rows.append([_prediction(name, f"logit {j} of sample {i}", z) for j, z in enumerate(row)])
    assert classes is not None
    losses = []
    for i, (row, t) in enumerate(zip(rows, target, strict=True)):
        k = _class_index(name, f"target {i}", t, classes)
        shift: float = -max(z.data for z in row)
        shifted = [z + shift for z in row]
        losses.append(_sum(s.exp() for s in shifted).log() - shifted[k])
    return _mean(losses)


def _cross_entropy_batch(name: str, logits: Value, target: object) -> Value:
    np = numpy()
    z = logits.data
    if z.ndim != 2:
        raise ValueError(f"{name}: batched logits must have shape (N, C), got shape {z.shape}")
    t = _target_array(name, target, "iu", "integer class indices")
    n, classes = z.shape
    if t.ndim != 1 or t.shape[0] != n:
        if t.ndim == 1:
            raise ValueError(
                f"{name}: {n} samples of logits but {t.shape[0]} targets: "
                "expected one class index per sample"
            )
        raise ValueError(
            f"{name}: targets must have shape ({n},), one class index per sample, "
            f"got shape {t.shape}"
        )
    if n == 0 or classes == 0:
        raise ValueError(
            f"{name}: got logits of shape {z.shape}: expected at least one sample and one class"
        )
    bad = (t < 0) | (t >= classes)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{name}: target {i} is {int(t[i])}, out of range: expected a class index in "
            f"0..{classes - 1} ({classes} classes)"
        )
    shifted: Value = logits + (-z.max(axis=1, keepdims=True))
    logsumexp = shifted.exp().sum(axis=1).log()
    one_hot = np.zeros_like(z)
    one_hot[np.arange(n), t] = 1.0
    picked: Value = (shifted * one_hot).sum(axis=1)
    return (logsumexp - picked).mean()


# -- penalties ---------------------------------------------------------------------------------


def _parameters(name: str, params: Iterable[Value]) -> list[Value]:
    ps = list(params)
    if not ps:
        raise ValueError(f"{name}: got no parameters: expected at least one Value")
    if not all(issubclass(t, Value) for t in set(map(type, ps))):  # per type, not per item
        i, p = next((i, p) for i, p in enumerate(ps) if not isinstance(p, Value))
        raise TypeError(f"{name}: parameter {i} must be a Value, got {_describe(p)}")
    return ps


def _total(v: Value) -> Value:
    return v if isinstance(v.data, float) else v.sum()


def l1_penalty(params: Iterable[Value]) -> Value:
    """The L1 norm of the parameters, sum(|p|): add `alpha * l1_penalty(...)` to a loss."""
    ps = _parameters("l1_penalty", params)
    return _sum(_total(abs(p)) for p in ps)


def l2_penalty(params: Iterable[Value]) -> Value:
    """The squared L2 norm of the parameters, sum(p * p), as in the original micrograd demo:
    add `alpha * l2_penalty(...)` to a loss. An array parameter adds the sum of its squares."""
    ps = _parameters("l2_penalty", params)
    flat = cat(ps)  # one node for all of them: a step's graph stays small
    return (flat * flat).sum()


LOSSES: dict[str, Callable[[Any, Any], Value]] = {
    "mse": mse_loss,
    "hinge": hinge_loss,
    "bce": binary_cross_entropy_with_logits,
    "cross_entropy": cross_entropy,
}
