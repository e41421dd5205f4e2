"""Pictures of a classifier's mistakes: a confusion matrix, and a grid of misclassified images.

`plot_confusion_matrix` counts, for every true class (rows), how often each class was predicted
(columns); each cell also shows its share of the row, so small classes read as clearly as big
ones. `plot_misclassified` shows the samples the model got wrong as images, for data whose
samples are pictures (`Dataset.image_shape`, the digits), each titled with the true and the
predicted class. Both write a PNG atomically and return its path, like `micrograd.plots`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .batched import Model
from .data import Dataset
from .metrics import confusion_matrix
from .plots import class_names, new_figure, save_png
from .train import predict

__all__ = ["plot_confusion_matrix", "plot_misclassified"]

PathLike = str | os.PathLike[str]


def _predictions(model: Model, dataset: Dataset, who: str) -> np.ndarray:
    if dataset.task not in ("binary", "multiclass"):
        raise ValueError(f"{who} needs a classification dataset, got a {dataset.task} one")
    if len(dataset) == 0:
        raise ValueError(f"{who} needs at least one sample, {dataset.name!r} has none")
    if model.nin != dataset.n_features:
        raise ValueError(
            f"{who}: the model takes {model.nin} inputs but {dataset.name!r} has "
            f"{dataset.n_features} features"
        )
    return predict(model, dataset.X, dataset.task)


def plot_confusion_matrix(
    model: Model, dataset: Dataset, path: PathLike, *, title: str | None = None
) -> Path:
    """The confusion matrix of `model` on `dataset` (rows: true class, columns: predicted)."""
    predicted = _predictions(model, dataset, "plot_confusion_matrix")
    k = dataset.n_classes
    counts = confusion_matrix(dataset.y, predicted, k)
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    names = class_names(dataset)
    size = min(11.0, max(4.6, 1.5 + 0.62 * k))
    fig = new_figure(size + 1.2, size)
    ax = fig.subplots()
    image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    for i in range(k):
        for j in range(k):
            if counts[i, j] == 0:
                continue
            dark = share[i, j] > 0.55
            text = f"{counts[i, j]}" if k > 6 else f"{counts[i, j]}\n{share[i, j]:.0%}"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize="small" if k > 6 else "medium",
                color="white" if dark else "#222",
            )
    long_names = max(map(len, names)) > 3
    ax.set_xticks(
        range(k), names, rotation=30 if long_names else 0, ha="right" if long_names else "center"
    )
    ax.set_yticks(range(k), names)
    right = int(np.trace(counts))
    ax.set_xlabel(
        f"predicted class\n\n{right} of {len(dataset)} right (accuracy "
        f"{right / len(dataset):.3f}); colour: share of the true class's samples",
        fontsize="medium",
    )
    ax.set_ylabel("true class")
    ax.set_title(title or f"{dataset.name}: confusion matrix")
    fig.colorbar(image, ax=ax, shrink=0.8, format=lambda x, _: f"{x:.0%}")
    return save_png(fig, path)


def plot_misclassified(
    model: Model,
    dataset: Dataset,
    path: PathLike,
    *,
    images: Any = None,
    max_images: int = 40,
    columns: int = 10,
    title: str | None = None,
) -> Path:
    """The first `max_images` samples of `dataset` that `model` misclassifies, as images.

    `dataset` must have an `image_shape`. The model reads `dataset.X`; the pictures show
    `images` (the same samples before standardisation, say) when given, else `dataset.X`. With
    no mistakes the picture says so.
    """
    if dataset.image_shape is None:
        raise ValueError(
            f"plot_misclassified needs image data, but {dataset.name!r} has no image_shape"
        )
    if max_images < 1 or columns < 1:
        raise ValueError(f"max_images and columns must be positive, got {max_images}, {columns}")
    pixels = dataset.X if images is None else np.asarray(images, dtype=np.float64)
    if pixels.shape != dataset.X.shape:
        raise ValueError(f"images has shape {pixels.shape}, but the data has {dataset.X.shape}")
    predicted = _predictions(model, dataset, "plot_misclassified")
    wrong = np.flatnonzero(predicted != dataset.y)
    shown = wrong[:max_images]
    names = class_names(dataset)
    cols = max(1, min(columns, len(shown)))
    rows = max(1, -(-len(shown) // cols))
    fig = new_figure(1.25 * cols + 0.4, 1.45 * rows + 0.7)
    heading = title or f"{dataset.name}: misclassified samples"
    fig.suptitle(
        f"{heading} ({len(wrong)} of {len(dataset)}"
        + (f", first {len(shown)} shown)" if len(shown) < len(wrong) else ")")
    )
    if len(shown) == 0:
        ax = fig.subplots()
        ax.axis("off")
        ax.text(0.5, 0.5, "no mistakes", ha="center", va="center", fontsize="large")
        return save_png(fig, path)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    low, high = float(pixels.min()), float(pixels.max())
    for ax, i in zip(axes, shown, strict=False):
        ax.imshow(
            pixels[i].reshape(dataset.image_shape),
            cmap="gray_r",
            vmin=low,
            vmax=high,
            interpolation="nearest",
        )
        ax.set_title(
            f"true {names[dataset.y[i]]}\npred {names[predicted[i]]}",
            fontsize="small",
            color="#b22",
        )
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[len(shown) :]:
        ax.axis("off")
    return save_png(fig, path)
