"""A saved model as `predict`, `export` and `graph` see it: its task, classes, loss and input
names (either form, `MLP` or `BatchedMLP`: only the sizes are read)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..batched import Model
from ..data import TASKS, DataError, label_text
from ..preprocessing import Standardizer
from .arguments import UsageError, count

__all__ = ["ModelInfo", "check_width", "label", "model_info", "model_scaler", "sample_text"]


@dataclass(frozen=True)
class ModelInfo:
    task: str
    classes: list[float] | None
    n_classes: int
    feature_names: list[str]
    target_name: str
    loss: str | None = None  # the loss that trained it, if the metadata says
    class_names: list[str] | None = None  # a classifier's readable class names, if well formed


def model_info(model: Model, meta: dict[str, Any], path: str) -> ModelInfo:
    """The model's task and labels from its metadata, checked against its shape."""
    where = f"model file {path!r}: metadata"
    nout = model.nouts[-1]
    task = meta.get("task")
    if task is None:  # a model saved without metadata: show raw outputs, classes by argmax
        task = "multiclass" if nout > 1 else "regression"
    elif task not in TASKS:
        raise UsageError(f"{where}.task is {task!r}: expected one of {', '.join(TASKS)}")
    n_classes = meta.get("n_classes", nout if task == "multiclass" else 0)
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 0:
        raise UsageError(f"{where}.n_classes must be a whole number, got {n_classes!r}")
    if task == "binary":
        n_classes = 2
    want = n_classes if task == "multiclass" else 1
    if nout != want:
        raise UsageError(
            f"{where} says {task} with {n_classes} classes, but the model has {nout} outputs"
        )
    classes = meta.get("classes")
    if classes is not None and (
        not isinstance(classes, list)
        or len(classes) != n_classes
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in classes)
    ):
        raise UsageError(f"{where}.classes must list {n_classes} numbers, got {classes!r}")
    names = meta.get("feature_names")
    if not (
        isinstance(names, list)
        and len(names) == model.nin
        and all(isinstance(n, str) for n in names)
    ):
        names = [f"x{i + 1}" for i in range(model.nin)]
    target = meta.get("target_name")
    loss = meta.get("loss")
    class_names = meta.get("class_names")
    if not (
        task != "regression"
        and isinstance(class_names, list)
        and len(class_names) == n_classes
        and all(isinstance(n, str) for n in class_names)
    ):
        class_names = None
    return ModelInfo(
        task,
        classes,
        n_classes,
        names,
        target if isinstance(target, str) else "target",
        loss if isinstance(loss, str) else None,
        class_names,
    )


def label(info: ModelInfo, k: int) -> str:
    """Class `k` as written in the data the model was trained on."""
    value: float = info.classes[k] if info.classes is not None else k
    return label_text(value)


def sample_text(sample: list[float]) -> str:
    return ",".join(f"{x:g}" for x in sample)


def check_width(sample: list[float], model: Model, path: str) -> None:
    if len(sample) != model.nin:
        raise UsageError(
            f"--input {sample_text(sample)} has {count(len(sample), 'value')}, but the model in "
            f"{path} takes {count(model.nin, 'input')}: give "
            + ("1 number" if model.nin == 1 else f"{model.nin} numbers separated by commas")
        )


def model_scaler(model: Model, meta: dict[str, Any], path: str) -> Standardizer | None:
    """The standardisation training applied to the features (metadata 'standardize'), or None:
    the model reads raw features through it."""
    raw = meta.get("standardize")
    if raw is None:
        return None
    where = f"model file {path!r}: metadata.standardize"
    try:
        scaler = Standardizer.from_dict(raw, where)
    except DataError as e:
        raise UsageError(str(e)) from None
    if scaler.n_features != model.nin:
        raise UsageError(
            f"{where} holds {scaler.n_features} features, but the model takes {model.nin} inputs"
        )
    return scaler
