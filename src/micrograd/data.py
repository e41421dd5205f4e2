"""Datasets: seeded toy-problem generators, the registry of every dataset, and splitting.

Every generator builds its points here from `np.random.default_rng(seed)`, so nothing is
downloaded and the same arguments always give the same arrays. Each takes `n_samples`, `noise`
(the standard deviation of gaussian noise added to every coordinate, or to the target for
regression) and `seed`, and returns its points shuffled. `DATASETS` names them, together with
the real datasets that scikit-learn ships inside its package (`digits`, `iris`, `wine`,
`breast-cancer`, `diabetes`: see `micrograd.realdata`; they need the `datasets` extra), and
`load_dataset(name, ...)` builds one by name, and `training_defaults(name)` says how the command
trains it unless told otherwise (the real datasets' own options; none for the generated ones).

The container is `micrograd.dataset.Dataset` and CSV files are `micrograd.csvdata`; both are
importable from here too, as before.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .csvdata import label_text, load_csv, read_csv_table, save_csv
from .dataset import TASKS, DataError, Dataset, FloatArray
from .realdata import REAL_DATASETS, load_real
from .realdata import training_defaults as _real_defaults

__all__ = [
    "DATASETS",
    "TASKS",
    "DataError",
    "Dataset",
    "dataset_metadata",
    "label_text",
    "load_csv",
    "load_dataset",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_regression_1d",
    "make_regression_2d",
    "make_spirals",
    "make_toy",
    "make_xor",
    "make_yinyang",
    "read_csv_table",
    "save_csv",
    "train_val_test_split",
    "training_defaults",
]


# -- argument checks ----------------------------------------------------------------------


def _check_int(name: str, value: object, minimum: int, who: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{who}: {name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise DataError(f"{who}: {name} must be >= {minimum}, got {value}")
    return int(value)


def _check_float(name: str, value: object, who: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{who}: {name} must be a number, got {type(value).__name__}")
    x = float(value)
    if not math.isfinite(x):
        raise DataError(f"{who}: {name} must be finite, got {x}")
    return x


def _setup(
    who: str, n_samples: int, noise: float, seed: int, minimum: int
) -> tuple[int, float, np.random.Generator]:
    n = _check_int("n_samples", n_samples, minimum, who)
    sigma = _check_float("noise", noise, who)
    if sigma < 0:
        raise DataError(f"{who}: noise must be >= 0, got {sigma}")
    return n, sigma, np.random.default_rng(_check_int("seed", seed, 0, who))


def _split_evenly(n: int, k: int) -> list[int]:
    """`n` split into `k` counts that differ by at most one, the larger ones first."""
    return [n // k + (i < n % k) for i in range(k)]


def _finish(
    X: FloatArray,
    y: NDArray[np.int64],
    noise: float,
    rng: np.random.Generator,
    name: str,
    n_classes: int,
) -> Dataset:
    """Add coordinate noise, shuffle, and wrap a classification set."""
    X = X + rng.normal(0.0, noise, size=X.shape)
    order = rng.permutation(len(y))
    task = "binary" if n_classes == 2 else "multiclass"
    return Dataset(X[order], y[order], name, task, n_classes)


# -- generators ---------------------------------------------------------------------------


def make_moons(n_samples: int = 100, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half circles, as scikit-learn's: class 0 on top, class 1 below.

    Classes differ in size by at most one. Needs n_samples >= 2.
    """
    n, noise, rng = _setup("make_moons", n_samples, noise, seed, 2)
    n_top, n_bottom = _split_evenly(n, 2)
    top = np.linspace(0.0, np.pi, n_top)
    bottom = np.linspace(0.0, np.pi, n_bottom)
    X = np.concatenate(
        [
            np.column_stack([np.cos(top), np.sin(top)]),
            np.column_stack([1.0 - np.cos(bottom), 0.5 - np.sin(bottom)]),
        ]
    )
    y = np.repeat(np.arange(2, dtype=np.int64), [n_top, n_bottom])
    return _finish(X, y, noise, rng, "moons", 2)


def make_circles(
    n_samples: int = 100, noise: float = 0.05, seed: int = 0, factor: float = 0.5
) -> Dataset:
    """A circle of radius 1 (class 0) around one of radius `factor` (class 1), as scikit-learn's.

    Classes differ in size by at most one. Needs n_samples >= 2 and 0 < factor < 1.
    """
    n, noise, rng = _setup("make_circles", n_samples, noise, seed, 2)
    factor = _check_float("factor", factor, "make_circles")
    if not 0.0 < factor < 1.0:
        raise DataError(f"make_circles: factor must be in (0, 1), got {factor}")
    n_out, n_in = _split_evenly(n, 2)
    outer = np.linspace(0.0, 2 * np.pi, n_out, endpoint=False)
    inner = np.linspace(0.0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate(
        [
            np.column_stack([np.cos(outer), np.sin(outer)]),
            factor * np.column_stack([np.cos(inner), np.sin(inner)]),
        ]
    )
    y = np.repeat(np.arange(2, dtype=np.int64), [n_out, n_in])
    return _finish(X, y, noise, rng, "circles", 2)


def make_xor(n_samples: int = 200, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Points uniform in the square [-1, 1]^2, class 1 where x and y differ in sign (x*y < 0).

    Each quadrant gets a quarter of the points (so the classes differ in size by at most one);
    labels come from the clean point, before the noise is added. Needs n_samples >= 4.
    """
    n, noise, rng = _setup("make_xor", n_samples, noise, seed, 4)
    # Quadrants in the order ++, +-, --, -+ alternate the classes, so uneven counts stay balanced.
    signs = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, -1.0], [-1.0, 1.0]])
    counts = _split_evenly(n, 4)
    X = rng.uniform(0.0, 1.0, size=(n, 2)) * np.repeat(signs, counts, axis=0)
    y = np.repeat(np.array([0, 1, 0, 1], dtype=np.int64), counts)
    return _finish(X, y, noise, rng, "xor", 2)


def make_blobs(
    n_samples: int = 150, noise: float = 0.4, seed: int = 0, centers: int = 3
) -> Dataset:
    """`centers` gaussian clusters of standard deviation `noise`, one class each.

    The centres sit evenly spaced on a circle of radius 2, turned by a random angle. Classes
    differ in size by at most one. Needs centers >= 2 and n_samples >= centers.
    """
    k = _check_int("centers", centers, 2, "make_blobs")
    n, noise, rng = _setup("make_blobs", n_samples, noise, seed, k)
    angles = rng.uniform(0.0, 2 * np.pi) + 2 * np.pi * np.arange(k) / k
    means = 2.0 * np.column_stack([np.cos(angles), np.sin(angles)])
    counts = _split_evenly(n, k)
    X = np.repeat(means, counts, axis=0)
    y = np.repeat(np.arange(k, dtype=np.int64), counts)
    return _finish(X, y, noise, rng, "blobs", k)


def make_spirals(
    n_samples: int = 200, noise: float = 0.05, seed: int = 0, arms: int = 2, turns: float = 1.0
) -> Dataset:
    """`arms` interleaved spiral arms, one class each, winding `turns` times out to radius 1.

    Arm j holds the points at radius r in [0.1, 1] and angle 2*pi*(j / arms + turns * r).
    Classes differ in size by at most one. Needs arms >= 2, turns > 0, n_samples >= arms.
    """
    k = _check_int("arms", arms, 2, "make_spirals")
    n, noise, rng = _setup("make_spirals", n_samples, noise, seed, k)
    turns = _check_float("turns", turns, "make_spirals")
    if turns <= 0:
        raise DataError(f"make_spirals: turns must be > 0, got {turns}")
    counts = _split_evenly(n, k)
    r = np.concatenate([np.linspace(0.1, 1.0, c) for c in counts])
    y = np.repeat(np.arange(k, dtype=np.int64), counts)
    angle = 2 * np.pi * (y / k + turns * r)
    X = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
    return _finish(X, y, noise, rng, "spirals", k)


def _yinyang_class(x: FloatArray, y: FloatArray, r_small: float, r_big: float) -> NDArray[np.int64]:
    """Classes of points (x, y) in a disc of radius r_big centred on the origin.

    The S-curve is made of two half discs of radius r_big / 2 centred at (-r_big / 2, 0) and
    (r_big / 2, 0): yin (0) is the left one plus the upper half outside the right one, yang (1)
    the rest. A dot of radius r_small at the centre of each half disc is class 2.
    """
    half = r_big / 2
    d_left = np.hypot(x + half, y)
    d_right = np.hypot(x - half, y)
    yin = (d_left <= half) | ((y > 0) & (d_right > half))
    labels = np.where(yin, 0, 1)
    return np.where((d_left < r_small) | (d_right < r_small), 2, labels).astype(np.int64)


def make_yinyang(
    n_samples: int = 1000,
    noise: float = 0.0,
    seed: int = 0,
    r_small: float = 0.1,
    r_big: float = 0.5,
) -> Dataset:
    """The 3-class yin-yang set of the EurekaLabs micrograd exercise: yin (0), yang (1), dots (2).

    Points are drawn uniformly in a disc of radius `r_big` until each class has a third of
    them (they differ by at most one), then scaled so the disc has radius 2, as in the exercise.
    Needs 0 < r_small < r_big / 2 and n_samples >= 3.
    """
    n, noise, rng = _setup("make_yinyang", n_samples, noise, seed, 3)
    r_small = _check_float("r_small", r_small, "make_yinyang")
    r_big = _check_float("r_big", r_big, "make_yinyang")
    if not 0 < r_small < r_big / 2:
        raise DataError(
            f"make_yinyang: need 0 < r_small < r_big / 2, got r_small={r_small}, r_big={r_big}"
        )
    counts = _split_evenly(n, 3)
    chunks: list[list[FloatArray]] = [[], [], []]
    have = [0, 0, 0]
    while any(h < c for h, c in zip(have, counts, strict=True)):
        pts = rng.uniform(-r_big, r_big, size=(max(256, 8 * n), 2))
        pts = pts[np.hypot(pts[:, 0], pts[:, 1]) <= r_big]
        labels = _yinyang_class(pts[:, 0], pts[:, 1], r_small, r_big)
        for c in range(3):
            take = pts[labels == c][: counts[c] - have[c]]
            chunks[c].append(take)
            have[c] += len(take)
    X = np.concatenate([p for chunk in chunks for p in chunk]) * (2.0 / r_big)
    y = np.repeat(np.arange(3, dtype=np.int64), counts)
    return _finish(X, y, noise, rng, "yinyang", 3)


TOY_XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
TOY_YS = [1.0, -1.0, -1.0, 1.0]


def make_toy(n_samples: int | None = None, noise: float | None = None, seed: int = 0) -> Dataset:
    """The seed workshop's four fixed samples with targets +-1, as a regression set.

    The set is fixed: it always has these 4 samples and no noise, so asking for another number
    of samples or for noise is an error rather than silently ignored. `seed` has no effect.
    """
    if n_samples not in (None, len(TOY_XS)):
        raise DataError(
            f"make_toy: the toy set has exactly {len(TOY_XS)} samples, got n_samples={n_samples}"
        )
    if noise not in (None, 0, 0.0):
        raise DataError(f"make_toy: the toy set is fixed and takes no noise, got noise={noise}")
    return Dataset(np.array(TOY_XS), np.array(TOY_YS), "toy", "regression", 0)


def make_regression_1d(n_samples: int = 100, noise: float = 0.1, seed: int = 0) -> Dataset:
    """A 1-D curve: x uniform in [-pi, pi], y = sin(x) plus gaussian noise. Needs n_samples >= 1."""
    n, noise, rng = _setup("make_regression_1d", n_samples, noise, seed, 1)
    x = rng.uniform(-np.pi, np.pi, size=n)
    y = np.sin(x) + rng.normal(0.0, noise, size=n)
    return Dataset(x[:, None], y, "regression_1d", "regression", 0)


def make_regression_2d(n_samples: int = 200, noise: float = 0.1, seed: int = 0) -> Dataset:
    """A 2-D surface: (x1, x2) uniform in [-2, 2]^2, y a bump up near (1, 1) minus a bump down
    near (-1, -1) (gaussians of width 1), so y lies in about [-1, 1], plus gaussian noise.

    Like TF Playground's regression sets: smooth, but no plane fits it. Needs n_samples >= 1.
    """
    n, noise, rng = _setup("make_regression_2d", n_samples, noise, seed, 1)
    X = rng.uniform(-2.0, 2.0, size=(n, 2))
    up = np.exp(-np.sum((X - 1.0) ** 2, axis=1))
    down = np.exp(-np.sum((X + 1.0) ** 2, axis=1))
    y = up - down + rng.normal(0.0, noise, size=n)
    return Dataset(X, y, "regression_2d", "regression", 0)


def _bundled(name: str, summary: str) -> Callable[..., Dataset]:
    """The registry's loader for one of scikit-learn's bundled datasets (scikit-learn is
    imported on first use)."""

    def load(n_samples: int | None = None, noise: float | None = None, seed: int = 0) -> Dataset:
        return load_real(name, n_samples=n_samples, noise=noise)

    load.__name__ = load.__qualname__ = f"load_{name.replace('-', '_')}"
    load.__doc__ = (
        f"{summary}, as scikit-learn ships it (needs the `datasets` extra). The samples are "
        "fixed: `n_samples` and `noise` must be left out, and `seed` has no effect."
    )
    return load


DATASETS: dict[str, Callable[..., Dataset]] = {
    "moons": make_moons,
    "circles": make_circles,
    "xor": make_xor,
    "blobs": make_blobs,
    "spirals": make_spirals,
    "yinyang": make_yinyang,
    "toy": make_toy,
    "regression_1d": make_regression_1d,
    "regression_2d": make_regression_2d,
    "digits": _bundled("digits", "8x8 images of handwritten digits, 10 classes"),
    "iris": _bundled("iris", "Fisher's iris flowers, 4 measurements, 3 species"),
    "wine": _bundled("wine", "13 chemical measurements of wines from 3 cultivars"),
    "breast-cancer": _bundled(
        "breast-cancer", "30 features of breast-mass cell nuclei, malignant or benign"
    ),
    "diabetes": _bundled("diabetes", "10 baseline measurements and disease progression a year on"),
}


def load_dataset(
    name: str, n_samples: int | None = None, noise: float | None = None, seed: int = 0
) -> Dataset:
    """The dataset `DATASETS[name]`; `n_samples` or `noise` left as None take its default."""
    make = DATASETS.get(name)
    if make is None:
        raise DataError(f"unknown dataset {name!r}: expected one of {', '.join(DATASETS)}")
    kwargs: dict[str, Any] = {"seed": seed}
    if n_samples is not None:
        kwargs["n_samples"] = n_samples
    if noise is not None:
        kwargs["noise"] = noise
    return make(**kwargs)


# The generated sets that TrainConfig's defaults (the lecture's SGD at lr 1, made for the
# moons' hinge loss) would blow up: a squared error's gradient grows with the error itself, and
# these diverge within 3 epochs there; Adam at 0.03 fits both (R^2 0.96 and 0.92 in 100 epochs).
_GENERATED_DEFAULTS: dict[str, dict[str, Any]] = {
    "regression_1d": {"optimizer": "adam", "lr": 0.03},
    "regression_2d": {"optimizer": "adam", "lr": 0.03},
}


def training_defaults(name: str) -> dict[str, Any]:
    """The `TrainConfig` fields and values that suit dataset `name` (see `micrograd.realdata`):
    a held-out stratified test split and a network that learns it quickly for the real
    datasets, a step size that does not diverge for the generated regression sets, nothing
    for the others (they train with TrainConfig's own defaults)."""
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}: expected one of {', '.join(DATASETS)}")
    if name in REAL_DATASETS:
        return _real_defaults(name)
    return dict(_GENERATED_DEFAULTS.get(name, {}))


# -- splitting ----------------------------------------------------------------------------


def _subset(ds: Dataset, index: NDArray[np.intp]) -> Dataset:
    return replace(ds, X=ds.X[index], y=ds.y[index])


def _share(
    size: int, counts: NDArray[np.intp], room: NDArray[np.intp], rng: np.random.Generator
) -> NDArray[np.intp]:
    """`size` samples shared among the classes in proportion to `counts` (largest remainder:
    each class gets the floor of its share, the rest go to the largest fractions, ties at
    random), never more than a class's `room`."""
    exact = size * counts / counts.sum()
    take: NDArray[np.intp] = np.minimum(np.floor(exact).astype(np.intp), room)
    order = np.lexsort((rng.permutation(len(counts)), -(exact - take)))
    while take.sum() < size:  # terminates: the classes' room adds up to more than `size`
        for k in order:
            if take.sum() < size and take[k] < room[k]:
                take[k] += 1
    return take


def _stratified(
    y: NDArray[np.int64], n_test: int, n_val: int, rng: np.random.Generator
) -> list[NDArray[np.intp]]:
    """(test, validation, training) indices holding each class in proportion: the test and
    validation counts of a class are its shares rounded, training takes the rest."""
    classes = np.unique(y)
    members = [rng.permutation(np.flatnonzero(y == c)) for c in classes]
    counts = np.array([len(m) for m in members])
    test = _share(n_test, counts, counts, rng)
    val = _share(n_val, counts, counts - test, rng)
    bounds = [(0, t, t + v) for t, v in zip(test, val, strict=True)]
    splits = [
        np.concatenate([m[b[0] : b[1]] for m, b in zip(members, bounds, strict=True)]),
        np.concatenate([m[b[1] : b[2]] for m, b in zip(members, bounds, strict=True)]),
        np.concatenate([m[b[2] :] for m, b in zip(members, bounds, strict=True)]),
    ]
    return [rng.permutation(split) for split in splits]


def dataset_metadata(ds: Dataset) -> dict[str, Any]:
    """What a saved model keeps about the data it learned (for `micrograd predict` to turn its
    outputs into labels and to name its inputs): the command and the playground both save it."""
    return {
        "task": ds.task,
        "n_classes": ds.n_classes,
        "classes": ds.classes,
        "dataset": ds.name,
        "n_features": ds.n_features,
        "feature_names": ds.columns[:-1] if ds.columns else None,
        "target_name": ds.columns[-1] if ds.columns else None,
        "class_names": ds.class_names,
    }


def train_val_test_split(
    ds: Dataset, val: float = 0.2, test: float = 0.0, seed: int = 0, stratify: bool = False
) -> tuple[Dataset, Dataset, Dataset]:
    """Shuffle `ds` with `seed` and cut it into (train, validation, test) datasets.

    The validation and test sets get ceil(fraction * len(ds)) samples each, so a non-zero
    fraction never gives an empty split; the training set gets the rest and must not be empty.
    The three are disjoint and together hold every sample exactly once. With `stratify` (for
    classification data) the validation and test splits hold each class in the same proportion
    as `ds` to within one sample (their shares rounded), and the training split, the rest, to
    within two.
    """
    who = "train_val_test_split"
    fractions = {"val": _check_float("val", val, who), "test": _check_float("test", test, who)}
    for key, f in fractions.items():
        if not 0.0 <= f < 1.0:
            raise DataError(f"{who}: {key} must be in [0, 1), got {f}")
    if fractions["val"] + fractions["test"] >= 1.0:
        raise DataError(f"{who}: val + test must be < 1 to leave training data, got {val} + {test}")
    n = len(ds)
    # round() first so that 0.1 * 30 = 3.0000000000000004 counts as 3, not 4.
    n_val, n_test = (math.ceil(round(f * n, 9)) for f in fractions.values())
    if n - n_val - n_test < 1:
        raise DataError(
            f"{who}: {n} samples leave no training data after {n_val} for validation "
            f"and {n_test} for test"
        )
    rng = np.random.default_rng(_check_int("seed", seed, 0, who))
    if stratify and ds.task == "regression":
        raise DataError(f"{who}: stratify needs class labels, but {ds.name!r} is a regression set")
    if stratify:
        test_idx, val_idx, train_idx = _stratified(ds.y, n_test, n_val, rng)
    else:
        test_idx, val_idx, train_idx = np.split(rng.permutation(n), [n_test, n_test + n_val])
    return _subset(ds, train_idx), _subset(ds, val_idx), _subset(ds, test_idx)


# -- CSV files ----------------------------------------------------------------------------
