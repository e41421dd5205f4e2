"""A run's pictures, drawn after its model.json and run.json are saved: Ctrl-C stops the
drawing, not the run (`draw`, which `compare` draws its picture with too)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from .. import plots
from ..data import Dataset
from ..train import TrainResult
from .output import num
from .runs import interruptible

__all__ = ["Picture", "draw", "held_out", "interrupted", "pictures"]

# A picture: its file name, and a function that draws it into a folder and returns its path.
Picture = tuple[str, Callable[[Path], Path]]


def draw(
    pictures: list[Picture], folder: Path, skip: bool, announce: str | None, shown: Console
) -> tuple[list[Path], list[str]]:
    """Draw the `pictures` into the `folder` of a run (or a comparison), each written whole,
    after printing `announce` if given; none if `skip`. Called where Ctrl-C is held back
    (`save_run`), it lets Ctrl-C stop the drawing only, never the saving: (drawn, names not
    drawn)."""
    drawn: list[Path] = []
    try:
        with interruptible():
            if skip:
                raise KeyboardInterrupt
            if announce is not None:
                shown.print(announce)
            for _, picture in pictures:
                drawn.append(picture(folder))
    except KeyboardInterrupt:
        pass
    return drawn, [file for file, _ in pictures[len(drawn) :]]


def interrupted(before: bool, planned: bool, not_drawn: list[str], what: str) -> str:
    """When a Ctrl-C held back during a save (`save_run`) came, for the command's last line:
    `before` drawing `what` ("the pictures"), while (some are `not_drawn`) or after; with no
    picture `planned` (--no-plots), while saving."""
    if not planned:
        return "interrupted while saving"
    when = "before" if before else "while" if not_drawn else "after"
    return f"interrupted {when} drawing {what}"


def pictures(
    result: TrainResult, ds: Dataset, name: str, status: str, metrics: dict[str, float]
) -> list[Picture]:
    """The run's pictures, in the order they are drawn: (file name, draw into a folder)."""
    if not result.history.rows:
        return []
    h = result.history
    stopped = "" if status == "completed" else f" ({status}, epoch {h.epochs})"
    pictures: list[Picture] = [
        (
            "curves.png",
            lambda out: plots.plot_curves(
                h,
                out / "curves.png",
                title=f"{name}: training curves{stopped}",
                loss_name=result.loss,
            ),
        )
    ]
    if ds.task != "regression" and ds.n_features == 2:
        acc = metrics.get("accuracy", math.nan)
        pictures.append(
            (
                "decision_boundary.png",
                lambda out: plots.plot_decision_boundary(
                    result.model,
                    result.train,
                    out / "decision_boundary.png",
                    ds.task,
                    val=result.val,
                    test=result.test,
                    title=f"{name}: decision boundary (train accuracy {acc:.3f})",
                ),
            )
        )
    elif ds.task == "regression" and ds.n_features == 1:
        rmse = num(metrics.get("rmse", math.nan))
        pictures.append(
            (
                "fit.png",
                lambda out: plots.plot_regression_fit(
                    result.model,
                    result.train,
                    out / "fit.png",
                    val=result.val,
                    test=result.test,
                    title=f"{name}: fit (train rmse {rmse})",
                ),
            )
        )
    if ds.task == "multiclass":
        pictures += _mistake_plots(result, name)
    return pictures


def held_out(result: TrainResult) -> tuple[str, Dataset]:
    """The split a classifier is judged on: test, else validation, else training."""
    return next(
        (s, d)
        for s, d in (("test", result.test), ("validation", result.val), ("training", result.train))
        if d is not None and len(d)
    )


def _mistake_plots(result: TrainResult, name: str) -> list[Picture]:
    """The confusion matrix on the held-out split (test, else validation, else training), and
    for image data the misclassified images, drawn as the user would see them (unstandardised)."""
    from .. import errorplots

    split, ds = held_out(result)
    pictures: list[Picture] = [
        (
            "confusion_matrix.png",
            lambda out: errorplots.plot_confusion_matrix(
                result.model,
                ds,
                out / "confusion_matrix.png",
                title=f"{name}: confusion matrix on the {split} split",
            ),
        )
    ]
    if ds.image_shape is not None:
        images = ds.X if result.scaler is None else result.scaler.inverse_transform(ds.X)
        pictures.append(
            (
                "misclassified.png",
                lambda out: errorplots.plot_misclassified(
                    result.model,
                    ds,
                    out / "misclassified.png",
                    images=images,
                    title=f"{name}: misclassified on the {split} split",
                ),
            )
        )
    return pictures
