"""Pictures of a sweep: a heatmap of the score over two swept parameters, box plots of the
score per value of each swept parameter, and the best setting's training curves, as PNG files.

Each function takes the ranked `SettingResult`s of `sweep.summarise` and writes one figure
through `plots.new_figure` / `plots.save_png` (Agg canvas, written atomically).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .plots import PathLike, new_figure, save_png
from .sweep.results import SettingResult, higher_is_better, show_value

__all__ = ["plot_best_curves", "plot_boxes", "plot_heatmap", "plot_parallel", "plot_scatter"]


def _better(metric: str) -> str:
    return "higher is better" if higher_is_better(metric) else "lower is better"


def _numeric(results: Sequence[SettingResult], name: str) -> bool:
    """Are all of `name`'s values numbers (an axis of values, not of names)?"""
    return all(isinstance(r.values[name], int | float) for r in results)


def _spans_decades(values: Sequence[float]) -> bool:
    """Positive values over more than a factor 20, as log-uniform draws are: a log axis."""
    return bool(values) and min(values) > 0 and max(values) / min(values) > 20


def _ordered(texts: set[str]) -> list[str]:
    """Numbers by value; layer sizes (8,8,1) by their sizes, smaller networks first; the rest
    as text."""

    def key(text: str) -> tuple[int, tuple[float, ...], str]:
        try:
            return (0, tuple(float(part) for part in text.split(",")), text)
        except ValueError:
            return (1, (), text)

    return sorted(texts, key=key)


def _short(x: float) -> str:
    """A score in a few characters: 0.953, 12.4, 3.1e+05."""
    return f"{x:.3f}" if 1e-3 <= abs(x) < 100 or x == 0 else f"{x:.3g}"


def _scores(result: SettingResult) -> list[float]:
    return [r.metric for r in result.summary.finished if math.isfinite(r.metric)]


def plot_heatmap(results: Sequence[SettingResult], x: str, y: str, path: PathLike) -> Path:
    """The mean score of every (x value, y value) cell: over the seeds, and over the values of
    the other swept parameters when there are some. A cell with no finished run says why."""
    if x == y:
        raise ValueError(f"a heatmap needs two different parameters, got {x} twice")
    for name in (x, y):
        if not results or name not in results[0].values:
            swept = ", ".join(results[0].values) if results else "none"
            raise ValueError(f"{name} is not a swept parameter (swept: {swept})")
    metric = results[0].metric
    xs = _ordered({show_value(r.values[x]) for r in results})
    ys = _ordered({show_value(r.values[y]) for r in results})
    cells: dict[tuple[str, str], list[float]] = {}
    counts: dict[tuple[str, str], list[int]] = {}
    for r in results:
        cell = (show_value(r.values[x]), show_value(r.values[y]))
        cells.setdefault(cell, []).extend(_scores(r))
        total = counts.setdefault(cell, [0, 0])
        total[0] += r.summary.diverged
        total[1] += len(r.records)
    grid = np.full((len(ys), len(xs)), np.nan)
    for (cx, cy), values in cells.items():
        if values:
            grid[ys.index(cy), xs.index(cx)] = statistics.fmean(values)
    others = [k for k in results[0].values if k not in (x, y)]
    fig = new_figure(max(5.5, 1.3 * len(xs) + 2.5), max(3.8, 0.8 * len(ys) + 2.0))
    ax = fig.subplots()
    from matplotlib import colormaps

    # Higher accuracy, lower RMSE: better is always bright. Cells with no score are grey.
    cmap = colormaps["viridis" if higher_is_better(metric) else "viridis_r"].with_extremes(
        bad="#dddddd"
    )
    finite = grid[np.isfinite(grid)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    # Errors and losses that span decades (a blown-up run) get a log colour scale, or the one
    # bad cell would flatten every other into the same colour.
    log = metric != "accuracy" and low > 0 and high / low > 100
    from matplotlib.colors import LogNorm, Normalize

    norm = LogNorm(low, high) if log else Normalize(low, high)
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, aspect="auto", norm=norm)
    mid = float(norm.inverse(0.5))
    for i, cy in enumerate(ys):
        for j, cx in enumerate(xs):
            value = grid[i, j]
            diverged, runs = counts.get((cx, cy), [0, 0])
            if math.isfinite(value):
                light = (value < mid) == higher_is_better(metric)
                text = _short(value) + (f"\n{diverged} diverged" if diverged else "")
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize="small",
                    color="white" if light else "black",
                )
            else:
                ax.text(
                    j,
                    i,
                    f"{diverged} diverged"
                    if diverged
                    else ("no runs yet" if not runs else "no score"),
                    ha="center",
                    va="center",
                    fontsize="small",
                    color="#555",
                )
    ax.set_xticks(range(len(xs)), xs)
    ax.set_yticks(range(len(ys)), ys)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    scale = ", log scale" if log else ""
    fig.colorbar(image, ax=ax, label=f"mean {metric} ({_better(metric)}{scale})")
    seeds = max(r.planned for r in results)
    over = f"{seeds} seeds" + (f" and {', '.join(others)}" if others else "")
    ax.set_title(f"mean final {metric} over {over}")
    return save_png(fig, path)


def _panels(count: int) -> tuple[Any, list[Any]]:
    """A figure of `count` panels, three to a row; the grid's spare panels hidden."""
    cols = min(3, count)
    rows = math.ceil(count / cols)
    fig = new_figure(4.6 * cols, 3.9 * rows)
    axes = list(np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel())
    for ax in axes[count:]:
        ax.set_visible(False)
    return fig, axes[:count]


def plot_boxes(results: Sequence[SettingResult], path: PathLike) -> Path:
    """One panel per swept parameter: the final score of every finished run, a box per value."""
    if not results or not results[0].values:
        raise ValueError("box plots need at least one swept parameter")
    names = list(results[0].values)
    metric = results[0].metric
    fig, axes = _panels(len(names))
    rng = np.random.default_rng(0)
    for ax, name in zip(axes, names, strict=False):
        groups: dict[str, list[float]] = {}
        diverged: dict[str, int] = {}
        for r in results:
            text = show_value(r.values[name])
            groups.setdefault(text, []).extend(_scores(r))
            diverged[text] = diverged.get(text, 0) + r.summary.diverged
        labels = _ordered(set(groups))
        data = [groups[t] for t in labels]
        filled = [k for k, d in enumerate(data) if d]
        if filled:
            ax.boxplot(
                [data[k] for k in filled],
                positions=[k + 1 for k in filled],
                widths=0.5,
                showfliers=False,
                medianprops={"color": "#333"},
            )
        for k, values in enumerate(data):
            if values:
                ax.scatter(
                    k + 1 + rng.uniform(-0.12, 0.12, len(values)),
                    values,
                    s=12,
                    alpha=0.6,
                    color="#1f77b4",
                    zorder=3,
                )
        ax.set_xticks(
            range(1, len(labels) + 1),
            [t + (f"\n({diverged[t]} diverged)" if diverged[t] else "") for t in labels],
        )
        ax.set_xlim(0.4, len(labels) + 0.6)
        ax.set_xlabel(name)
        ax.set_ylabel(f"final {metric}")
        flat = [v for values in data for v in values]
        if metric != "accuracy" and flat and min(flat) > 0 and max(flat) / min(flat) > 100:
            ax.set_yscale("log")
            ax.set_ylabel(f"final {metric} (log scale)")
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle(
        f"final {metric} of every run, per value of each swept parameter ({_better(metric)})"
    )
    return save_png(fig, path)


def plot_scatter(results: Sequence[SettingResult], path: PathLike) -> Path:
    """A random search: one panel per swept parameter, the mean score of every setting against
    its value (a log axis where the values span decades, as log-uniform draws do), the best
    setting ringed. Parameters that are not numbers get their values side by side."""
    if not results or not results[0].values:
        raise ValueError("scatter plots need at least one swept parameter")
    names = list(results[0].values)
    metric = results[0].metric
    fig, axes = _panels(len(names))
    scored = [r for r in results if math.isfinite(r.score)]
    best = scored[0] if scored else None
    for ax, name in zip(axes, names, strict=False):
        texts = _ordered({show_value(r.values[name]) for r in results})
        numeric = _numeric(results, name)

        xs = [_position(r.values[name], texts, numeric) for r in scored]
        ys = [r.score for r in scored]
        ax.scatter(xs, ys, s=22, alpha=0.75, color="#1f77b4", zorder=3)
        if best is not None:
            ax.scatter(
                [_position(best.values[name], texts, numeric)],
                [best.score],
                s=140,
                facecolors="none",
                edgecolors="#d62728",
                linewidths=2,
                zorder=4,
                label="best",
            )
            ax.legend(loc="best", fontsize=8)
        if numeric and _spans_decades(xs):
            ax.set_xscale("log")
            ax.set_xlabel(f"{name} (log scale)")
        else:
            ax.set_xlabel(name)
        if not numeric:
            ax.set_xticks(range(len(texts)), texts)
        ax.set_ylabel(f"mean {metric} over seeds")
        ax.grid(True, alpha=0.3)
    fig.suptitle(f"random search: {metric} of every setting by parameter ({_better(metric)})")
    return save_png(fig, path)


def plot_parallel(results: Sequence[SettingResult], path: PathLike, top: int = 20) -> Path:
    """The best `top` settings as lines across one axis per swept parameter and one for the
    score (Optuna's and Ray Tune's parallel coordinates): which values the best runs share."""
    names = list(results[0].values) if results else []
    if len(names) < 2:
        raise ValueError("parallel coordinates need at least two swept parameters")
    metric = results[0].metric
    best = [r for r in results if math.isfinite(r.score)][:top]
    fig = new_figure(max(7.0, 1.9 * (len(names) + 1)), 4.6)
    ax = fig.subplots()
    axes: list[tuple[str, list[str], bool, bool]] = []
    spans: list[tuple[float, float]] = []  # each numeric axis's range, on its own scale
    for name in names:
        texts = _ordered({show_value(r.values[name]) for r in results})
        numeric = _numeric(results, name)
        values = [float(r.values[name]) for r in results] if numeric else [0.0]
        log = numeric and _spans_decades(values)
        scaled = [math.log10(v) for v in values] if log else values
        axes.append((name, texts, numeric, log))
        spans.append((min(scaled), max(scaled)))

    def height(k: int, r: SettingResult) -> float:
        name, texts, numeric, log = axes[k]
        if not numeric:
            return texts.index(show_value(r.values[name])) / max(len(texts) - 1, 1)
        lo, hi = spans[k]
        x = math.log10(float(r.values[name])) if log else float(r.values[name])
        return 0.5 if hi == lo else (x - lo) / (hi - lo)

    from matplotlib import colormaps

    scores = [r.score for r in best]
    lo, hi = (min(scores), max(scores)) if scores else (0.0, 1.0)
    cmap = colormaps["viridis" if higher_is_better(metric) else "viridis_r"]
    for r in reversed(best):  # the best drawn last, on top
        share = 0.5 if hi == lo else (r.score - lo) / (hi - lo)
        ys = [height(k, r) for k in range(len(axes))] + [share]
        ax.plot(range(len(ys)), ys, color=cmap(share), alpha=0.85, linewidth=1.6)
    for k, (_, texts, numeric, _log) in enumerate(axes):
        ax.axvline(k, color="#888", linewidth=0.8)
        if numeric:
            ticks = [texts[0], texts[-1]] if len(texts) > 1 else texts
            ax.text(k, -0.08, ticks[0], ha="center", va="top", fontsize=8)
            ax.text(k, 1.04, ticks[-1], ha="center", va="bottom", fontsize=8)
        else:
            for j, text in enumerate(texts):
                y = j / max(len(texts) - 1, 1)
                ax.text(k + 0.04, y, text, ha="left", va="center", fontsize=8)
    ax.axvline(len(axes), color="#888", linewidth=0.8)
    ax.text(len(axes), -0.08, _short(lo), ha="center", va="top", fontsize=8)
    ax.text(len(axes), 1.04, _short(hi), ha="center", va="bottom", fontsize=8)
    labels = [f"{n}{' (log)' if log else ''}" for n, _, _, log in axes] + [f"mean {metric}"]
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks([])
    ax.set_ylim(-0.15, 1.12)
    ax.set_xlim(-0.3, len(axes) + 0.3)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    fig.suptitle(f"the best {len(best)} settings, one line each ({metric}: {_better(metric)})")
    return save_png(fig, path)


def _position(value: Any, texts: list[str], numeric: bool) -> float:
    return float(value) if numeric else float(texts.index(show_value(value)))


def plot_best_curves(result: SettingResult, path: PathLike) -> Path:
    """The loss and score per epoch of every seed of one setting (the best, usually)."""
    runs = [r for r in result.records if r.history]
    if not runs:
        raise ValueError(f"the setting {result.label()} has no run with a history")
    metric = result.metric
    fig = new_figure(11.0, 4.2)
    ax_loss, ax_metric = fig.subplots(1, 2)
    positive = True
    for k, r in enumerate(sorted(runs, key=lambda r: r.seed)):
        epochs = [row["epoch"] for row in r.history]
        losses = [row["loss"] for row in r.history]
        positive = positive and all(v > 0 for v in losses)
        color = f"C{k % 10}"
        ax_loss.plot(epochs, losses, color=color, lw=1, alpha=0.8, label=f"seed {r.seed}")
        if metric in r.history[0]:
            ax_metric.plot(epochs, [row[metric] for row in r.history], color=color, lw=1, alpha=0.8)
    if positive:
        ax_loss.set_yscale("log")
    ax_loss.set_title("training loss" + (" (log scale)" if positive else ""))
    ax_metric.set_title(f"training {metric} ({_better(metric)})")
    if higher_is_better(metric):
        ax_metric.set_ylim(-0.02, 1.02)
    for ax in (ax_loss, ax_metric):
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
    if len(runs) <= 12:
        ax_loss.legend(fontsize="small", ncols=2)
    fig.suptitle(f"best setting: {result.label()}: {len(runs)} runs, one line per seed")
    return save_png(fig, path)
