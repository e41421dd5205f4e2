"""Writing a model as an ONNX file, for any ONNX runtime.

`to_onnx(model, path)` takes either form of a network, the per-sample `MLP` or the batched
`BatchedMLP` (`micrograd.batched`): both give the same file for the same weights. The file is
built with the `onnx` package's helper API (torch is not needed), at opset `OPSET`: one graph
input named `input` of shape (batch, nin) and an output named `output` of shape (batch, nout),
the batch dimension symbolic. Each layer is a `MatMul` with the transposed weight matrix, an
`Add` of the biases and the activation node. `dtype` is 'float32' (what most runtimes expect) or
'float64' (matches micrograd to rounding); a weight the chosen type cannot hold raises
`RangeError` (`micrograd.export_arrays`).

Given a classifier's `task` (and its `classes` and `loss`), two outputs follow, named as
sklearn-onnx names them: `label` (batch,), the class as the model's `classes` hold it (int64 when
they are whole numbers; binary: `output` > 0; multiclass: its argmax, as `micrograd.loop.predict`
decides), and `probabilities` (batch, classes) when `micrograd.loop.probabilities` gives them for
that loss (a `Softmax` node for cross-entropy; a `Sigmoid` and its complement for bce, columns
[P(class 0), P(class 1)]), never for hinge or mse, whose scores are not log-odds. The file's
metadata (`metadata_props`) holds the task, the loss, the classes and their names as JSON, and
why probabilities are absent when they are.

An optional `Standardizer` (the one training fitted, kept in model.json) makes the exported model
read raw features: two nodes subtract the mean and divide by the scale before the first layer.

onnx (and onnxruntime, to run the file) are optional (the `export` extra) and imported inside the
functions. `micrograd.interop` re-exports these names beside the PyTorch export.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .batched import Model
from .dataset import TASKS
from .export_arrays import check_dtype, check_model, check_scaler, checked_cast, layer_arrays
from .files import write_atomic
from .loop import PROBABILISTIC_LOSSES
from .optional import require
from .preprocessing import Standardizer

__all__ = [
    "INPUT_NAME",
    "LABEL_NAME",
    "OPSET",
    "OUTPUT_NAME",
    "PROBABILITIES_NAME",
    "to_onnx",
    "to_onnx_bytes",
]

OPSET = 17
INPUT_NAME = "input"
OUTPUT_NAME = "output"
# sklearn-onnx's names for a classifier's outputs (with its ZipMap off: plain tensors)
LABEL_NAME = "label"
PROBABILITIES_NAME = "probabilities"
# The ONNX IR version written: 8 is what opset 17 came with, readable by any runtime since 2022.
_IR_VERSION = 8

_ONNX_ACTIVATIONS = {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid"}


def _classifier(
    model: Model,
    task: str | None,
    classes: Sequence[float] | None,
    loss: str | None,
    class_names: Sequence[str] | None,
) -> tuple[list[float], bool] | None:
    """(the class labels, whether probabilities follow) for a classifier's extra outputs, None
    for none (no task, or regression); checked against the model's shape."""
    if task is None:
        return None
    if task not in TASKS:
        raise ValueError(f"to_onnx: task must be one of {', '.join(TASKS)}, got {task!r}")
    nout = model.nouts[-1]
    if task == "regression":
        return None
    want = 1 if task == "binary" else nout
    if nout != want:
        raise ValueError(f"to_onnx: a {task} model has {want} output(s), this one has {nout}")
    n = 2 if task == "binary" else nout
    labels = [float(c) for c in (range(n) if classes is None else classes)]
    for what, values in (("classes", labels), ("class_names", class_names)):
        if values is not None and len(values) != n:
            raise ValueError(f"to_onnx: {what} must hold {n} entries, got {len(values)}")
    if not all(np.isfinite(labels)):
        raise ValueError(f"to_onnx: classes must be finite numbers, got {labels}")
    return labels, loss in PROBABILISTIC_LOSSES.get(task, ())


def _label_values(labels: list[float]) -> np.ndarray:
    """The classes as the label output carries them: int64 when they are all whole numbers (as
    sklearn-onnx gives them), float64 otherwise."""
    if all(c == int(c) and abs(c) < 2**63 for c in labels):
        return np.array([int(c) for c in labels], dtype=np.int64)
    return np.array(labels, dtype=np.float64)


def _probability_note(task: str, loss: str | None) -> str:
    if loss in PROBABILISTIC_LOSSES.get(task, ()):
        how = "softmax" if task == "multiclass" else "logistic function"
        return f"the {how} of '{OUTPUT_NAME}' (trained with {loss}, whose scores are log-odds)"
    if loss is None:
        return "none: the model does not say which loss trained it (its scores may not be log-odds)"
    return f"none: trained with {loss}, whose scores are not log-odds (not probabilities)"


def to_onnx_bytes(
    model: Model,
    *,
    dtype: str = "float32",
    scaler: Standardizer | None = None,
    task: str | None = None,
    classes: Sequence[float] | None = None,
    loss: str | None = None,
    class_names: Sequence[str] | None = None,
) -> bytes:
    """The ONNX model `to_onnx` writes, as bytes."""
    check_model(model, "to_onnx")
    check_scaler(scaler, model, "to_onnx")
    check_dtype(dtype, "to_onnx")
    classifier = _classifier(model, task, classes, loss, class_names)
    onnx = require("onnx", "onnx", "export", "to_onnx")
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    elem = onnx.TensorProto.FLOAT if dtype == "float32" else onnx.TensorProto.DOUBLE
    nodes: list[Any] = []
    inits: list[Any] = []

    def constant(name: str, values: np.ndarray, cast: bool = True) -> str:
        values = checked_cast(values, dtype, name, "to_onnx") if cast else values
        inits.append(numpy_helper.from_array(values, name))
        return name

    def node(op: str, inputs: list[str], name: str, **attributes: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attributes))
        return name

    x = INPUT_NAME
    if scaler is not None:
        x = node("Sub", [x, constant("standardize.mean", scaler.mean)], "standardize.centred")
        x = node("Div", [x, constant("standardize.scale", scaler.scale)], "standardize.output")
    arrays = layer_arrays(model)
    for i, (W, b, activation) in enumerate(arrays):
        last = i == len(arrays) - 1
        x = node("MatMul", [x, constant(f"layers.{i}.weight_t", W.T.copy())], f"layers.{i}.matmul")
        z_name = OUTPUT_NAME if last and activation == "linear" else f"layers.{i}.linear"
        x = node("Add", [x, constant(f"layers.{i}.bias", b)], z_name)
        if activation != "linear":
            out_name = OUTPUT_NAME if last else f"layers.{i}.{activation}"
            x = node(_ONNX_ACTIVATIONS[activation], [x], out_name)
    outputs = [helper.make_tensor_value_info(OUTPUT_NAME, elem, ["batch", model.nouts[-1]])]
    metadata: dict[str, str] = {}
    if classifier is not None and task is not None:
        labels, with_probabilities = classifier
        values = _label_values(labels)
        if task == "binary":  # class 1 where the score is positive, as `loop.predict` decides
            positive = node("Greater", [OUTPUT_NAME, constant("zero", np.zeros(1))], "positive")
            index = node("Cast", [positive], "label.index_2d", to=onnx.TensorProto.INT64)
            flat = constant("flat", np.array([-1], dtype=np.int64), cast=False)
            index = node("Reshape", [index, flat], "label.index")
        else:  # the first of equal scores, as numpy's argmax
            index = node("ArgMax", [OUTPUT_NAME], "label.index", axis=1, keepdims=0)
        node("Gather", [constant("classes", values, cast=False), index], LABEL_NAME, axis=0)
        label_elem = onnx.helper.np_dtype_to_tensor_dtype(values.dtype)
        outputs.append(helper.make_tensor_value_info(LABEL_NAME, label_elem, ["batch"]))
        if with_probabilities:
            if task == "binary":  # columns [P(class 0), P(class 1)], as scikit-learn's
                p1 = node("Sigmoid", [OUTPUT_NAME], "probabilities.positive")
                p0 = node("Sub", [constant("one", np.ones(1)), p1], "probabilities.negative")
                node("Concat", [p0, p1], PROBABILITIES_NAME, axis=1)
            else:
                node("Softmax", [OUTPUT_NAME], PROBABILITIES_NAME, axis=1)
            outputs.append(
                helper.make_tensor_value_info(PROBABILITIES_NAME, elem, ["batch", len(labels)])
            )
        metadata = {
            "task": task,
            "classes": json.dumps(values.tolist()),
            "probabilities": _probability_note(task, loss),
        }
        if class_names is not None:
            metadata["class_names"] = json.dumps(list(class_names))
    elif task is not None:
        metadata = {"task": task}
    if loss is not None:
        metadata["loss"] = loss
    graph = helper.make_graph(
        nodes,
        "micrograd_mlp",
        [helper.make_tensor_value_info(INPUT_NAME, elem, ["batch", model.nin])],
        outputs,
        initializer=inits,
    )
    sizes = "-".join(map(str, [model.nin, *model.nouts]))
    graph.doc_string = (
        f"micrograd MLP {sizes}, hidden activation {model.activation}, output activation "
        f"{model.output_activation}; input '{INPUT_NAME}' (batch, {model.nin})"
        + (", raw features (standardised inside the graph)" if scaler is not None else "")
        + "; outputs "
        + ", ".join(f"'{o.name}'" for o in outputs)
    )
    onnx_model = helper.make_model(
        graph, producer_name="micrograd", opset_imports=[helper.make_opsetid("", OPSET)]
    )
    onnx_model.ir_version = _IR_VERSION
    if metadata:
        helper.set_model_props(onnx_model, metadata)
    onnx.checker.check_model(onnx_model, full_check=True)
    data: bytes = onnx_model.SerializeToString()
    return data


def to_onnx(
    model: Model,
    path: str | os.PathLike[str],
    *,
    dtype: str = "float32",
    scaler: Standardizer | None = None,
    task: str | None = None,
    classes: Sequence[float] | None = None,
    loss: str | None = None,
    class_names: Sequence[str] | None = None,
) -> None:
    """Write `model` as an ONNX file at `path`, atomically (see the module doc for the graph).
    A weight that `dtype` cannot hold raises `RangeError` (a `ValueError`)."""
    data = to_onnx_bytes(
        model,
        dtype=dtype,
        scaler=scaler,
        task=task,
        classes=classes,
        loss=loss,
        class_names=class_names,
    )
    write_atomic(Path(path), data)
