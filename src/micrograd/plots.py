"""Pictures of training: loss and accuracy curves, decision boundaries, regression fits and the
distributions of repeated runs, written as PNG files.

Each function takes plain data (a `History`, a model and a `Dataset`, `RunsSummary`s), draws one
figure and writes it to `path`, returning the path. Matplotlib is imported inside the functions
and used through its Agg canvas only: no pyplot, no global backend switch, no window. Files are
written to a temporary name beside `path` and renamed over it, so a crash never leaves half a
picture behind.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .batched import Model
from .data import Dataset, label_text
from .files import replacing
from .train import History, RunsSummary, predict, raw_outputs

__all__ = [
    "CLASS_COLORS",
    "class_names",
    "new_figure",
    "plot_comparison",
    "plot_curves",
    "plot_decision_boundary",
    "plot_regression_fit",
    "save_png",
]

# One colour per class, for regions (lightened) and points alike; more classes cycle.
CLASS_COLORS = (
    "#1f77b4",  # blue
    "#d62728",  # red
    "#2ca02c",  # green
    "#ff7f0e",  # orange
    "#9467bd",  # purple
    "#8c564b",  # brown
    "#e377c2",  # pink
    "#17becf",  # cyan
    "#bcbd22",  # olive
    "#7f7f7f",  # grey
)
TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#ff7f0e"
TEST_COLOR = "#2ca02c"
SPLIT_MARKERS = {"train": "o", "validation": "^", "test": "s"}
_DPI = 120

PathLike = str | os.PathLike[str]


# -- helpers ----------------------------------------------------------------------------------


def new_figure(width: float, height: float) -> Any:
    """A matplotlib Figure on its own Agg canvas (no pyplot), laid out by constrained layout."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Any, path: PathLike) -> Path:
    """Write `fig` as a PNG at `path`, atomically."""
    target = Path(path)
    with replacing(target) as tmp:
        fig.savefig(
            tmp, format="png", dpi=_DPI, facecolor="white", bbox_inches="tight", pad_inches=0.15
        )
    return target


def _class_color(k: int) -> str:
    return CLASS_COLORS[k % len(CLASS_COLORS)]


def _lighten(color: str, amount: float = 0.72) -> tuple[float, float, float]:
    """`color` mixed with white: `amount` 0 keeps it, 1 gives white."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def class_names(dataset: Dataset) -> list[str]:
    """How each class is named in legends: the dataset's own names ('setosa'), else its original
    label when the file's were mapped, else its index."""
    if dataset.class_names is not None:
        return list(dataset.class_names)
    if dataset.classes is not None:
        return [f"class {label_text(c)}" for c in dataset.classes]
    return [f"class {k}" for k in range(dataset.n_classes)]


def _splits(train: Dataset, val: Dataset | None, test: Dataset | None) -> list[tuple[str, Dataset]]:
    return [
        (name, ds)
        for name, ds in (("train", train), ("validation", val), ("test", test))
        if ds is not None and len(ds)
    ]


def _check_features(dataset: Dataset, n: int, what: str) -> None:
    if dataset.n_features != n:
        raise ValueError(
            f"{what} needs data with {n} input feature{'s' if n > 1 else ''}, "
            f"but {dataset.name!r} has {dataset.n_features}"
        )


# -- curves -----------------------------------------------------------------------------------


def _metric_of(history: History) -> str | None:
    columns = history.rows[0] if history.rows else {}
    for name in ("accuracy", "rmse"):
        if name in columns:
            return name
    return None


def plot_curves(
    history: History, path: PathLike, *, title: str | None = None, loss_name: str | None = None
) -> Path:
    """Loss (left) and accuracy or RMSE (right) per epoch, training and validation.

    `loss_name` (e.g. "hinge") labels the loss axis.

    Marks the tolerance when one was set, and the best epoch when early stopping restored it.
    """
    if not history.rows:
        raise ValueError("plot_curves needs a history with at least one epoch")
    epochs = history["epoch"]
    metric = _metric_of(history)
    has_val = "val_loss" in history.rows[0]
    fig = new_figure(11.0, 4.2)
    ax_loss, ax_metric = fig.subplots(1, 2)

    losses = history["loss"] + (history["val_loss"] if has_val else [])
    marker = "o" if len(epochs) <= 30 else None
    ax_loss.plot(epochs, history["loss"], color=TRAIN_COLOR, marker=marker, ms=3, label="train")
    if has_val:
        ax_loss.plot(
            epochs,
            history["val_loss"],
            color=VAL_COLOR,
            ls="--",
            marker=marker,
            ms=3,
            label="validation",
        )
    if history.tolerance is not None:
        ax_loss.axhline(
            history.tolerance, color="#555", ls=":", lw=1, label=f"tolerance {history.tolerance:g}"
        )
    positive = [v for v in losses if v > 0]
    if positive and len(positive) == len(losses) and max(positive) / min(positive) > 30:
        ax_loss.set_yscale("log")
    what = f"{loss_name} loss" if loss_name else "loss"
    ax_loss.set_title(what)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel(f"{what} (log scale)" if ax_loss.get_yscale() == "log" else what)

    if metric is not None:
        ax_metric.plot(
            epochs, history[metric], color=TRAIN_COLOR, marker=marker, ms=3, label="train"
        )
        if has_val and f"val_{metric}" in history.rows[0]:
            ax_metric.plot(
                epochs,
                history[f"val_{metric}"],
                color=VAL_COLOR,
                ls="--",
                marker=marker,
                ms=3,
                label="validation",
            )
        if metric == "accuracy":
            ax_metric.set_ylim(-0.02, 1.02)
        ax_metric.set_title(metric)
        ax_metric.set_ylabel(
            metric + (" (higher is better)" if metric == "accuracy" else " (lower is better)")
        )
    else:
        ax_metric.set_visible(False)
    ax_metric.set_xlabel("epoch")

    from matplotlib.ticker import MaxNLocator

    for ax in (ax_loss, ax_metric):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if history.best_epoch is not None and history.stop_reason == "patience":
            ax.axvline(
                history.best_epoch,
                color="#555",
                ls="-.",
                lw=1,
                label=f"best epoch {history.best_epoch} (kept)",
            )
        ax.grid(True, alpha=0.3)
        if len(epochs) == 1:
            ax.set_xlim(epochs[0] - 0.5, epochs[0] + 0.5)
        else:
            ax.set_xlim(min(epochs), max(epochs))
        ax.legend(loc="best", fontsize="small")
    fig.suptitle(title or f"training curves ({history.epochs} epochs)")
    return save_png(fig, path)


# -- decision boundary ------------------------------------------------------------------------


def _grid(points: NDArray[np.float64], resolution: int) -> tuple[Any, Any]:
    """A `resolution` x `resolution` grid covering the points with a margin."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = np.maximum((hi - lo) * 0.1, 0.25)
    lo, hi = lo - pad, hi + pad
    xs = np.linspace(lo[0], hi[0], resolution)
    ys = np.linspace(lo[1], hi[1], resolution)
    return np.meshgrid(xs, ys)


def plot_decision_boundary(
    model: Model,
    dataset: Dataset,
    path: PathLike,
    task: str | None = None,
    *,
    val: Dataset | None = None,
    test: Dataset | None = None,
    resolution: int = 200,
    title: str | None = None,
) -> Path:
    """The class the model predicts over the plane (filled regions) with the data on top.

    `dataset` must have 2 features; `task` ('binary' or 'multiclass', default the dataset's)
    says how outputs become classes, as in `train.predict`. Points keep their class's colour,
    a shade darker than its region; validation and test points get their own markers.
    """
    task = task or dataset.task
    if task not in ("binary", "multiclass"):
        raise ValueError(f"a decision boundary needs a classification task, got {task!r}")
    _check_features(dataset, 2, "plot_decision_boundary")
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    splits = _splits(dataset, val, test)
    everything = np.concatenate([ds.X for _, ds in splits])
    xx, yy = _grid(everything, resolution)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    classes = predict(model, grid, task).reshape(xx.shape)
    n = max(dataset.n_classes, int(classes.max()) + 1)
    names = class_names(dataset) + [f"class {k}" for k in range(dataset.n_classes, n)]

    from matplotlib.lines import Line2D

    fig = new_figure(7.6, 5.6)
    ax = fig.subplots()
    ax.contourf(
        xx,
        yy,
        classes,
        levels=np.arange(n + 1) - 0.5,
        colors=[_lighten(_class_color(k)) for k in range(n)],
    )
    if task == "binary":
        # The exact boundary, where the output crosses 0, drawn from the raw scores.
        scores = raw_outputs(model, grid)[:, 0].reshape(xx.shape)
        if scores.min() < 0 < scores.max():
            ax.contour(xx, yy, scores, levels=[0.0], colors="#333", linewidths=1.2)
    for split, ds in splits:
        for k in range(n):
            mask = ds.y == k
            if mask.any():
                ax.scatter(
                    ds.X[mask, 0],
                    ds.X[mask, 1],
                    s=26 if split == "train" else 40,
                    marker=SPLIT_MARKERS[split],
                    color=_class_color(k),
                    edgecolors="black" if split == "train" else "white",
                    linewidths=0.6,
                    zorder=3,
                )
    handles = [
        Line2D(
            [],
            [],
            ls="",
            marker="o",
            ms=7,
            color=_class_color(k),
            markeredgecolor="black",
            markeredgewidth=0.6,
            label=names[k],
        )
        for k in range(n)
    ]
    if len(splits) > 1:
        handles += [
            Line2D(
                [],
                [],
                ls="",
                marker=SPLIT_MARKERS[s],
                ms=7,
                color="#888",
                markeredgecolor="black",
                markeredgewidth=0.6,
                label=f"{s} ({len(ds)})",
            )
            for s, ds in splits
        ]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
        title="shaded: predicted class",
        title_fontsize="small",
        frameon=False,
    )
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_aspect("equal", adjustable="box")
    names_xy = (dataset.columns or ["x1", "x2"])[:2]
    ax.set_xlabel(names_xy[0])
    ax.set_ylabel(names_xy[1])
    ax.set_title(title or f"{dataset.name}: decision boundary")
    return save_png(fig, path)


# -- regression -------------------------------------------------------------------------------


def plot_regression_fit(
    model: Model,
    dataset: Dataset,
    path: PathLike,
    *,
    val: Dataset | None = None,
    test: Dataset | None = None,
    resolution: int = 400,
    title: str | None = None,
) -> Path:
    """The model's curve over the input range of 1-D regression data, with the data points."""
    if dataset.task != "regression":
        raise ValueError(f"plot_regression_fit needs a regression dataset, got {dataset.task!r}")
    _check_features(dataset, 1, "plot_regression_fit")
    splits = _splits(dataset, val, test)
    xs_all = np.concatenate([ds.X[:, 0] for _, ds in splits])
    lo, hi = float(xs_all.min()), float(xs_all.max())
    pad = max((hi - lo) * 0.05, 0.1)
    xs = np.linspace(lo - pad, hi + pad, resolution)
    curve = raw_outputs(model, xs[:, None])[:, 0]

    fig = new_figure(8.0, 4.8)
    ax = fig.subplots()
    colors = {"train": TRAIN_COLOR, "validation": VAL_COLOR, "test": TEST_COLOR}
    for split, ds in splits:
        ax.scatter(
            ds.X[:, 0],
            ds.y,
            s=22,
            marker=SPLIT_MARKERS[split],
            color=colors[split],
            edgecolors="white",
            linewidths=0.5,
            alpha=0.85,
            label=f"{split} data",
            zorder=3,
        )
    ax.plot(xs, curve, color="#d62728", lw=2.2, label="model", zorder=4)
    names = dataset.columns or ["x", "y"]
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[-1])
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    ax.set_title(title or f"{dataset.name}: model fit")
    return save_png(fig, path)


# -- comparisons ------------------------------------------------------------------------------


def _strip(ax: Any, groups: Sequence[list[float]], seed: int = 0) -> None:
    """Box plots with every run drawn on top as a jittered point."""
    rng = np.random.default_rng(seed)
    positions = list(range(1, len(groups) + 1))
    filled = [(p, g) for p, g in zip(positions, groups, strict=True) if g]
    if filled:
        ax.boxplot(
            [g for _, g in filled],
            positions=[p for p, _ in filled],
            widths=0.5,
            showfliers=False,
            medianprops={"color": "#333"},
            boxprops={"color": "#666"},
            whiskerprops={"color": "#666"},
            capprops={"color": "#666"},
        )
    for k, (p, g) in enumerate(zip(positions, groups, strict=True)):
        if g:
            jitter = rng.uniform(-0.12, 0.12, size=len(g))
            ax.scatter(
                p + jitter,
                g,
                s=28,
                color=_class_color(k),
                edgecolors="black",
                linewidths=0.5,
                alpha=0.85,
                zorder=3,
            )
        else:
            ax.text(
                p,
                0.5,
                "no finished\nruns",
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="center",
                color="#777",
                fontsize="small",
            )


def plot_comparison(
    summaries: Mapping[str, RunsSummary],
    path: PathLike,
    *,
    option: str | None = None,
    title: str | None = None,
    loss_name: str | None = None,
) -> Path:
    """Final loss (left) and accuracy or RMSE (right) of every run, one column per setting.

    `summaries` maps each setting's name (e.g. "tanh") to its `RunsSummary`; `option` names
    what was varied; `loss_name` (e.g. "hinge") the loss every setting trains with. Diverged
    runs have no final loss: their count is noted under the setting.
    """
    if not summaries:
        raise ValueError("plot_comparison needs at least one setting")
    names = list(summaries)
    runs = list(summaries.values())
    metrics = sorted({s.metric for s in runs})
    metric = metrics[0] if len(metrics) == 1 else " / ".join(metrics)
    losses = [[r.loss for r in s.finished] for s in runs]
    scores = [[r.metric for r in s.finished] for s in runs]

    labels = []
    for name, s in zip(names, runs, strict=True):
        extra = f"\n({s.diverged} diverged)" if s.diverged else ""
        labels.append(f"{name}{extra}")
    fig = new_figure(min(16.0, max(9.0, 4.0 + 1.5 * len(names))), 4.6)
    ax_loss, ax_metric = fig.subplots(1, 2)
    better = "lower" if metric in ("rmse", "final loss") else "higher"
    loss_label = f"final {loss_name} loss" if loss_name else "final loss"
    panels = (
        (ax_loss, losses, loss_label, "final training loss (lower is better)"),
        (ax_metric, scores, metric, f"final training {metric} ({better} is better)"),
    )
    for ax, values, what, heading in panels:
        _strip(ax, values)
        ax.set_xticks(range(1, len(names) + 1), labels)
        ax.set_xlim(0.4, len(names) + 0.6)
        ax.set_xlabel(option or "setting")
        ax.set_ylabel(what)
        ax.set_title(heading)
        ax.grid(True, axis="y", alpha=0.3)
    flat = [v for g in losses for v in g if math.isfinite(v)]
    if flat and min(flat) > 0 and max(flat) / min(flat) > 100:
        ax_loss.set_yscale("log")
        ax_loss.set_ylabel(f"{loss_label} (log scale)")
    if metric == "accuracy":
        low = min((v for g in scores for v in g), default=0.0)
        ax_metric.set_ylim(max(0.0, low - 0.05), 1.01)
    counts = sorted({len(s.runs) for s in runs})
    each = f"{counts[0]} runs" if len(counts) == 1 else "runs"
    fig.suptitle(title or f"{option or 'settings'}: {each} per setting, one point per seed")
    return save_png(fig, path)
