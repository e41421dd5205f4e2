"""The plotting module: every function writes a real PNG of a sensible size, draws what it says
(regions on the side of their class's points, in that class's colour), refuses data it cannot
draw, and leaves no temporary files or pyplot state behind."""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from micrograd import MLP, plots
from micrograd.batched import BatchedMLP
from micrograd.data import Dataset, make_moons, make_regression_1d
from micrograd.train import History, RunOutcome, RunsSummary, TrainConfig, fit

pytest.importorskip("matplotlib", reason="the plots need matplotlib")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def assert_picture(path: Path) -> None:
    width, height = png_size(path)
    assert 300 <= width <= 3000 and 250 <= height <= 3000, (width, height)
    leftovers = [p.name for p in path.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == [], leftovers


def pixels(path: Path) -> np.ndarray:
    import matplotlib.image

    return np.asarray(matplotlib.image.imread(path))[:, :, :3]


def near(image: np.ndarray, rgb: tuple[float, float, float], tol: float = 0.02) -> np.ndarray:
    """A mask of the pixels within `tol` of a colour."""
    return np.all(np.abs(image - np.asarray(rgb)) <= tol, axis=-1)


def history(rows: int, *, val: bool = True, metric: str = "accuracy") -> History:
    h = History(tolerance=0.05)
    for epoch in range(1, rows + 1):
        row = {
            "epoch": float(epoch),
            "loss": 1.0 / epoch,
            metric: 1 - 0.5 / epoch,
            "lr": 0.1,
            "seconds": 0.01,
        }
        if val:
            row.update({"val_loss": 1.2 / epoch, f"val_{metric}": 1 - 0.6 / epoch})
        h.rows.append(row)
    return h


def halves_model() -> MLP:
    """A linear model whose output is x1: class 1 exactly where x1 > 0."""
    model = MLP(2, [1], rng=random.Random(0))
    neuron = model.layers[0].neurons[0]
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 1.0, 0.0, 0.0
    return model


def halves_data() -> Dataset:
    """Class 0 on the left (x1 < 0), class 1 on the right."""
    ys = np.linspace(-1, 1, 10)
    X = np.array([[-1.0, y] for y in ys] + [[1.0, y] for y in ys])
    y = np.array([0] * 10 + [1] * 10, dtype=np.int64)
    return Dataset(X, y, "halves", "binary", 2)


# -- curves -----------------------------------------------------------------------------------


def test_curves_with_validation_tolerance_and_best_epoch(tmp_path: Path) -> None:
    h = history(40)
    h.stop_reason, h.best_epoch = "patience", 30
    path = plots.plot_curves(h, tmp_path / "curves.png", title="a run", loss_name="hinge")
    assert path == tmp_path / "curves.png"
    assert_picture(path)
    width, height = png_size(path)
    assert width > height  # two panels side by side


def test_curves_for_regression_and_a_single_epoch(tmp_path: Path) -> None:
    assert_picture(plots.plot_curves(history(25, metric="rmse"), tmp_path / "rmse.png"))
    assert_picture(plots.plot_curves(history(1, val=False), tmp_path / "one.png"))


def test_curves_need_an_epoch(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one epoch"):
        plots.plot_curves(History(), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_curves_from_a_real_fit(tmp_path: Path) -> None:
    ds = make_moons(40, 0.1, 0)
    model = MLP(2, [8, 1], rng=random.Random(0))
    h = fit(model, ds.X, ds.y, epochs=15, validation=(ds.X[:10], ds.y[:10]))
    assert_picture(plots.plot_curves(h, tmp_path / "curves.png"))


# -- decision boundaries ----------------------------------------------------------------------


def test_regions_sit_with_their_points_in_matching_colours(tmp_path: Path) -> None:
    from matplotlib.colors import to_rgb

    path = plots.plot_decision_boundary(halves_model(), halves_data(), tmp_path / "db.png")
    assert_picture(path)
    image = pixels(path)
    columns = np.arange(image.shape[1])[None, :].repeat(image.shape[0], axis=0)
    region = [near(image, plots._lighten(plots._class_color(k))) for k in (0, 1)]
    point = [near(image, to_rgb(plots._class_color(k)), tol=0.03) for k in (0, 1)]
    for k in (0, 1):
        assert region[k].sum() > 5000, f"the class {k} region is missing"
        assert point[k].sum() > 50, f"the class {k} points are missing"
    # Class 0 (left points) owns the left region, class 1 the right: same colour, same side.
    # (Medians, as the legend's markers add a few pixels of each colour on the far right.)
    assert columns[region[0]].mean() < columns[region[1]].mean()
    assert np.median(columns[point[0]]) < np.median(columns[point[1]])
    assert np.median(columns[point[0]]) < columns[region[1]].min()
    assert np.median(columns[point[1]]) > columns[region[0]].max()


def test_multiclass_boundary_with_validation_and_test(tmp_path: Path) -> None:
    from micrograd.train import train

    result = train(
        TrainConfig(
            dataset="yinyang",
            samples=150,
            layers=(8, 3),
            optimizer="adam",
            lr=0.05,
            epochs=10,
            val=0.2,
            test=0.2,
        )
    )
    path = plots.plot_decision_boundary(
        result.model,
        result.train,
        tmp_path / "yy.png",
        "multiclass",
        val=result.val,
        test=result.test,
        resolution=60,
    )
    assert_picture(path)
    image = pixels(path)
    present = [near(image, plots._lighten(plots._class_color(k))).sum() for k in range(3)]
    assert sum(p > 0 for p in present) >= 2  # at least two predicted regions after 10 epochs


def test_either_form_of_a_model_draws_the_same_picture(tmp_path: Path) -> None:
    """A per-sample MLP and its BatchedMLP (the same weights) predict alike: same pixels."""
    model = halves_model()
    model.layers[0].neurons[0].w[1].data = 0.4  # a slanted boundary
    a = plots.plot_decision_boundary(model, halves_data(), tmp_path / "a.png", resolution=50)
    b = plots.plot_decision_boundary(
        BatchedMLP.from_mlp(model), halves_data(), tmp_path / "b.png", resolution=50
    )
    np.testing.assert_array_equal(pixels(a), pixels(b))


def test_boundary_refuses_what_it_cannot_draw(tmp_path: Path) -> None:
    reg = make_regression_1d(20, 0.1, 0)
    with pytest.raises(ValueError, match="classification"):
        plots.plot_decision_boundary(MLP(1, [1]), reg, tmp_path / "a.png")
    three = Dataset(np.zeros((4, 3)), np.array([0, 1, 0, 1]), "three", "binary", 2)
    with pytest.raises(ValueError, match="2 input features"):
        plots.plot_decision_boundary(MLP(3, [1]), three, tmp_path / "b.png")
    with pytest.raises(ValueError, match="resolution"):
        plots.plot_decision_boundary(
            halves_model(), halves_data(), tmp_path / "c.png", resolution=1
        )
    assert list(tmp_path.iterdir()) == []


def test_class_names_use_the_original_labels() -> None:
    ds = Dataset(np.zeros((2, 2)), np.array([0, 1]), "pm", "binary", 2, classes=[-1.0, 1.0])
    assert plots.class_names(ds) == ["class -1", "class 1"]
    assert plots.class_names(halves_data()) == ["class 0", "class 1"]


# -- regression -------------------------------------------------------------------------------


def test_regression_fit(tmp_path: Path) -> None:
    ds = make_regression_1d(30, 0.1, 0)
    model = MLP(1, [8, 1], rng=random.Random(0))
    fit(model, ds.X, ds.y, task="regression", epochs=5)
    val = make_regression_1d(10, 0.1, 1)
    assert_picture(plots.plot_regression_fit(model, ds, tmp_path / "fit.png", val=val))
    with pytest.raises(ValueError, match="regression"):
        plots.plot_regression_fit(model, halves_data(), tmp_path / "x.png")


# -- comparisons ------------------------------------------------------------------------------


def summary(losses: list[float], diverged: int = 0) -> RunsSummary:
    runs = [RunOutcome(i, loss, 1 - loss, 20, None, False) for i, loss in enumerate(losses)]
    runs += [RunOutcome(len(runs) + i, math.nan, math.nan, 0, None, True) for i in range(diverged)]
    return RunsSummary(TrainConfig(), "accuracy", runs)


def test_comparison_with_diverged_and_empty_settings(tmp_path: Path) -> None:
    summaries = {
        "tanh": summary([0.1, 0.12, 0.08]),
        "relu": summary([0.05, 0.3], diverged=1),
        "huge lr": summary([], diverged=3),
    }
    path = plots.plot_comparison(summaries, tmp_path / "compare.png", option="--activation")
    assert_picture(path)
    width, height = png_size(path)
    assert width > height


def test_comparison_names_its_loss_on_the_axis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    figures: list[Any] = []
    real_save = plots.save_png

    def keep(fig: Any, path: Path) -> Path:
        figures.append(fig)
        return real_save(fig, path)

    monkeypatch.setattr(plots, "save_png", keep)
    summaries = {"tanh": summary([0.1, 0.12]), "relu": summary([0.05, 0.3])}
    plots.plot_comparison(summaries, tmp_path / "c.png", option="--activation", loss_name="hinge")
    plots.plot_comparison(summaries, tmp_path / "d.png", option="--activation")
    named, unnamed = ([ax.get_ylabel() for ax in fig.axes] for fig in figures)
    assert named[0] == "final hinge loss" and unnamed[0] == "final loss"


def test_comparison_needs_a_setting(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one setting"):
        plots.plot_comparison({}, tmp_path / "x.png")


def test_no_pyplot_and_overwriting(tmp_path: Path) -> None:
    had_pyplot = "matplotlib.pyplot" in sys.modules
    path = tmp_path / "c.png"
    plots.plot_curves(history(5), path)
    first = path.read_bytes()
    plots.plot_curves(history(12), path)
    assert path.read_bytes() != first
    assert_picture(path)
    if not had_pyplot:
        assert "matplotlib.pyplot" not in sys.modules
