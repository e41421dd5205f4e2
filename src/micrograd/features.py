"""Input features, as TF Playground offers them: the one registry of names and what they compute.

A feature is a function of the raw inputs of a data set with one or two inputs (x1, and x2
where there is one): `x1`, `x2`, `x1^2`, `x2^2`, `x1*x2`, `sin(x1)`, `sin(x2)`. The playground's
messages (`FeatureName`), the choices it offers the page and the transform it applies to the
data, its plane and the clicked point all read `FEATURES`, so there is no second list to keep in
step (a test checks `FeatureName` names exactly the registry's keys).

    transform(["x1", "x1^2"], X)   # X of shape (n, 1) or (n, 2) -> shape (n, 2)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["FEATURES", "FEATURE_NAMES", "Feature", "FeatureName", "check", "transform"]

FloatArray = NDArray[np.float64]

FeatureName = Literal["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]


@dataclass(frozen=True)
class Feature:
    """One input feature: how many raw inputs it needs and how it is computed from them."""

    inputs: int  # 1: reads x1 only; 2: reads x2 too
    compute: Callable[[FloatArray], FloatArray]  # raw inputs (n, 1 or 2) -> values (n,)
    label: str  # how it reads in prose (the page may show it)


FEATURES: dict[FeatureName, Feature] = {
    "x1": Feature(1, lambda X: X[:, 0], "x1"),
    "x2": Feature(2, lambda X: X[:, 1], "x2"),
    "x1^2": Feature(1, lambda X: X[:, 0] ** 2, "x1 squared"),
    "x2^2": Feature(2, lambda X: X[:, 1] ** 2, "x2 squared"),
    "x1*x2": Feature(2, lambda X: X[:, 0] * X[:, 1], "x1 times x2"),
    "sin(x1)": Feature(1, lambda X: np.sin(X[:, 0]), "the sine of x1"),
    "sin(x2)": Feature(2, lambda X: np.sin(X[:, 1]), "the sine of x2"),
}
FEATURE_NAMES: tuple[FeatureName, ...] = tuple(FEATURES)


def check(names: Sequence[str], inputs: int) -> str | None:
    """Why `names` cannot be computed from a data set with `inputs` raw inputs, or None.

    The text starts with "features:" (the setting it is about) and says what to do."""
    if not names:
        return "features: choose at least one input feature (or leave the list out for x1, x2)"
    seen: set[str] = set()
    for name in names:
        if name not in FEATURES:
            return f"features: unknown feature {name!r}; expected one of {', '.join(FEATURES)}"
        if name in seen:
            return f"features: {name} is listed twice; each feature may appear once"
        seen.add(name)
    if inputs > 2:
        return (
            f"features: the data set has {inputs} inputs; input features are computed from one "
            "or two (x1, x2), so leave features unset for it"
        )
    for name in names:
        if FEATURES[name].inputs > inputs:  # type: ignore[index]  # checked above
            return f"features: {name} needs a data set with two inputs"
    return None


def transform(names: Sequence[str], X: FloatArray) -> FloatArray:
    """The features `names` of the raw inputs `X` (shape (n, 1) or (n, 2)), one column each.

    Raises ValueError with `check`'s text if they cannot be computed from X."""
    X = np.asarray(X, dtype=np.float64)
    problem = check(names, X.shape[1])
    if problem is not None:
        raise ValueError(problem)
    columns = [FEATURES[name].compute(X) for name in names]  # type: ignore[index]
    return np.column_stack(columns).astype(np.float64)
