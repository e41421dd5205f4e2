"""Moving models to PyTorch and ONNX, and back from PyTorch.

The exports take either form of a network, the per-sample `MLP` or the batched `BatchedMLP`
(`micrograd.batched`): both give the same file for the same weights.

- `to_torch(model)` gives a `torch.nn.Sequential` of float64 `Linear` layers, each followed by
  its activation module (`ReLU`, `Tanh`, `Sigmoid`; none for a linear layer), with the very same
  weights: `seq[i].weight[j]` is neuron j's `w`, `seq[i].bias[j]` its `b`. On a batch it returns
  (samples x outputs), also for one output, where micrograd's batched forward returns (samples,).
- `from_torch(seq)` reads such a stack back into an `MLP`: `Linear` layers with `ReLU`, `Tanh`,
  `Sigmoid` or `Identity` between them (or nothing, for a linear layer). The hidden layers must
  share one activation, as an `MLP`'s do; anything else is refused with a message naming the
  module and its position. For the batched form, convert the result:
  `BatchedMLP.from_mlp(from_torch(seq))` holds the very same weights as arrays.
- `save_torch(model, path)` writes `to_torch(model)` as a `torch.export` program (a .pt2 file,
  batch dimension dynamic) that PyTorch loads without micrograd or any Python class:
  `torch.export.load(path).module()(x)`.
- `to_onnx(model, path)` writes an ONNX file built with the `onnx` package's helper API (torch
  is not needed), at opset `OPSET`: one graph input named `input` of shape (batch, nin) and an
  output named `output` of shape (batch, nout), the batch dimension symbolic. Each layer is a
  `MatMul` with the transposed weight matrix, an `Add` of the biases and the activation node.
  `dtype` is 'float32' (what most runtimes expect) or 'float64' (matches micrograd to rounding).
  Given a classifier's `task` (and its `classes` and `loss`), two outputs follow, named as
  sklearn-onnx names them: `label` (batch,), the class as the model's `classes` hold it (int64
  when they are whole numbers; binary: `output` > 0; multiclass: its argmax, as
  `micrograd.loop.predict` decides), and `probabilities` (batch, classes) when
  `micrograd.loop.probabilities` gives them for that loss (a `Softmax` node for cross-entropy; a
  `Sigmoid` and its complement for bce, columns [P(class 0), P(class 1)]), never for hinge or
  mse, whose scores are not log-odds. The file's metadata (`metadata_props`) holds the task, the
  loss, the classes and their names as JSON, and why probabilities are absent when they are.

Both exports take an optional `Standardizer` (the one training fitted, kept in model.json) so the
exported model reads raw features: ONNX subtracts the mean and divides by the scale in two nodes
before the first layer; `to_torch` folds the transform into the first `Linear` layer
(W' = W / scale, b' = b - W' mean), exact up to float rounding.

torch, onnx and onnxruntime are optional (the `export` extra) and imported inside the functions.
"""

from __future__ import annotations

import io
import json
import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .batched import BatchedMLP, Model, batched
from .dataset import TASKS
from .files import write_atomic
from .loop import PROBABILISTIC_LOSSES
from .nn import MLP
from .optional import require
from .preprocessing import Standardizer
from .serialization import FORMAT, VERSION, load_state_dict

__all__ = [
    "DTYPES",
    "INPUT_NAME",
    "LABEL_NAME",
    "OPSET",
    "OUTPUT_NAME",
    "PROBABILITIES_NAME",
    "RangeError",
    "from_torch",
    "save_torch",
    "to_onnx",
    "to_onnx_bytes",
    "to_torch",
    "torch_program_bytes",
]

OPSET = 17
INPUT_NAME = "input"
OUTPUT_NAME = "output"
# sklearn-onnx's names for a classifier's outputs (with its ZipMap off: plain tensors)
LABEL_NAME = "label"
PROBABILITIES_NAME = "probabilities"
DTYPES = ("float32", "float64")
# The ONNX IR version written: 8 is what opset 17 came with, readable by any runtime since 2022.
_IR_VERSION = 8

_TORCH_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}
_ONNX_ACTIVATIONS = {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid"}


class RangeError(ValueError):
    """A value of the model (a weight, a bias, a standardisation number) beyond what the export's
    number type holds: it would become infinite in the file. `name` says which tensor, `value`
    is its largest magnitude (float64, infinite when the float64 arithmetic itself overflowed)."""

    def __init__(self, who: str, name: str, value: float, dtype: str) -> None:
        self.name, self.value, self.dtype = name, value, dtype
        hint = "; dtype='float64' holds it" if dtype == "float32" and np.isfinite(value) else ""
        super().__init__(
            f"{who}: {name} reaches {value:.3g}, beyond {dtype}'s range "
            f"(+-{float(np.finfo(dtype).max):.3g}){hint}"
        )


def _cast(values: np.ndarray, dtype: str, name: str, who: str) -> np.ndarray:
    """`values` in `dtype`, refused (RangeError) where they would not fit, rather than turned
    into infinities with numpy's overflow warning."""
    largest = float(np.max(np.abs(values), initial=0.0))
    if not largest <= float(np.finfo(dtype).max):
        raise RangeError(who, name, largest, dtype)
    return np.asarray(values, dtype=dtype)


def _check_dtype(dtype: str, who: str) -> None:
    if dtype not in DTYPES:
        raise ValueError(f"{who}: dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")


def _check_model(model: object, who: str) -> Model:
    if not isinstance(model, (MLP, BatchedMLP)):
        raise TypeError(f"{who} expects a micrograd MLP or BatchedMLP, got {type(model).__name__}")
    return model


def _layer_arrays(model: Model) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """(W (nout x nin), b (nout,), activation) per layer, as float64 arrays (copies)."""
    return [
        (
            np.array(layer.weight.data, dtype=np.float64),
            np.array(layer.bias.data, dtype=np.float64),
            layer.activation,
        )
        for layer in batched(model).layers
    ]


def _check_scaler(scaler: Standardizer | None, model: Model, who: str) -> None:
    if scaler is not None and scaler.n_features != model.nin:
        raise ValueError(
            f"{who}: the standardizer has {scaler.n_features} features but the model takes "
            f"{model.nin} inputs"
        )


def to_torch(model: Model, scaler: Standardizer | None = None) -> Any:
    """A float64 `torch.nn.Sequential` computing what `model` computes (see the module doc)."""
    _check_model(model, "to_torch")
    _check_scaler(scaler, model, "to_torch")
    torch = require("torch", "torch", "export", "to_torch")
    modules = []
    for W, b, activation in _torch_arrays(model, scaler, "float64", "to_torch"):
        linear = torch.nn.Linear(W.shape[1], W.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        modules.append(linear)
        if activation in _TORCH_ACTIVATIONS:
            modules.append(getattr(torch.nn, _TORCH_ACTIVATIONS[activation])())
    return torch.nn.Sequential(*modules)


def _torch_arrays(
    model: Model, scaler: Standardizer | None, dtype: str, who: str
) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """`_layer_arrays` with the standardisation folded into the first layer, each checked to fit
    in `dtype` (folding divides by the scale, which can overflow even float64)."""
    layers = []
    for i, (W, b, activation) in enumerate(_layer_arrays(model)):
        if i == 0 and scaler is not None:
            with np.errstate(over="ignore", invalid="ignore"):  # checked just below
                W = W / scaler.scale
                b = b - W @ scaler.mean
        layers.append(
            (
                _cast(W, dtype, f"layers.{i}.weight", who).astype(np.float64),
                _cast(b, dtype, f"layers.{i}.bias", who).astype(np.float64),
                activation,
            )
        )
    return layers


def save_torch(
    model: Model,
    path: str | os.PathLike[str],
    *,
    dtype: str = "float64",
    scaler: Standardizer | None = None,
) -> None:
    """Write `to_torch(model, scaler)` in `dtype` as a `torch.export` program at `path`,
    atomically. Load it with `torch.export.load(path).module()`; it takes (batch, nin)."""
    write_atomic(Path(path), torch_program_bytes(model, dtype=dtype, scaler=scaler))


def torch_program_bytes(
    model: Model, *, dtype: str = "float64", scaler: Standardizer | None = None
) -> bytes:
    """The program `save_torch` writes, as bytes (`torch.export.load(io.BytesIO(data))`).
    A weight that `dtype` cannot hold raises `RangeError`."""
    _check_dtype(dtype, "save_torch")
    _check_model(model, "save_torch")
    _check_scaler(scaler, model, "save_torch")
    _torch_arrays(model, scaler, dtype, "save_torch")
    seq = to_torch(model, scaler)
    torch = require("torch", "torch", "export", "save_torch")
    seq = seq.to(getattr(torch, dtype))
    example = (torch.zeros(2, model.nin, dtype=getattr(torch, dtype)),)
    batch = torch.export.Dim("batch", min=1)
    program = torch.export.export(seq, example, dynamic_shapes=({0: batch},))
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    return buffer.getvalue()


def _torch_activation(module: Any, torch: Any) -> str | None:
    """The micrograd name of an activation module ('linear' for Identity), None if it is not one."""
    for name, cls in _TORCH_ACTIVATIONS.items():
        if type(module) is getattr(torch.nn, cls):
            return name
    if type(module) is torch.nn.Identity:
        return "linear"
    return None


def _torch_layers(seq: Any, torch: Any) -> list[tuple[Any, str]]:
    """(Linear module, activation after it) for each Linear in `seq`, checked."""
    layers: list[tuple[Any, str]] = []
    after_linear: str | None = None  # the activation seen since the last Linear, if any
    for index, module in enumerate(seq):
        where = f"module {index} ({type(module).__name__})"
        if type(module) is torch.nn.Linear:
            if layers and layers[-1][0].out_features != module.in_features:
                raise ValueError(
                    f"from_torch: {where} takes {module.in_features} inputs, but the Linear "
                    f"before it gives {layers[-1][0].out_features}"
                )
            layers.append((module, "linear"))
            after_linear = None
            continue
        activation = _torch_activation(module, torch)
        if activation is None:
            raise ValueError(
                f"from_torch: {where} is not supported: expected Linear layers with ReLU, Tanh, "
                "Sigmoid or Identity between them"
            )
        if not layers:
            raise ValueError(f"from_torch: {where} comes before the first Linear layer")
        if activation == "linear":
            continue
        if after_linear is not None:
            raise ValueError(
                f"from_torch: {where} follows another activation ({after_linear}); an MLP "
                "layer has one"
            )
        after_linear = activation
        layers[-1] = (layers[-1][0], activation)
    if not layers:
        raise ValueError("from_torch: the Sequential holds no Linear layer")
    return layers


def from_torch(seq: Any) -> MLP:
    """An `MLP` with the weights and activations of a `torch.nn.Sequential` (see the module doc).
    `BatchedMLP.from_mlp(from_torch(seq))` is the batched form, with the same weights."""
    torch = require("torch", "torch", "export", "from_torch")
    if not isinstance(seq, torch.nn.Sequential):
        raise TypeError(f"from_torch expects a torch.nn.Sequential, got {type(seq).__name__}")
    layers = _torch_layers(seq, torch)
    hidden = {activation for _, activation in layers[:-1]}
    if len(hidden) > 1:
        found = ", ".join(f"layer {i}: {a}" for i, (_, a) in enumerate(layers[:-1]))
        raise ValueError(
            f"from_torch: an MLP's hidden layers share one activation, but these differ ({found})"
        )
    activation = hidden.pop() if hidden else "relu"
    state: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": {
            "nin": layers[0][0].in_features,
            "nouts": [linear.out_features for linear, _ in layers],
            "activation": activation,
            "output_activation": layers[-1][1],
        },
        "layers": [],
    }
    for linear, _ in layers:
        W = linear.weight.detach().to(torch.float64).cpu().numpy()
        b = (
            linear.bias.detach().to(torch.float64).cpu().numpy()
            if linear.bias is not None
            else np.zeros(linear.out_features)
        )
        state["layers"].append(
            [{"w": row.tolist(), "b": float(bias)} for row, bias in zip(W, b, strict=True)]
        )
    model = MLP(
        state["architecture"]["nin"],
        state["architecture"]["nouts"],
        activation,
        output_activation=layers[-1][1],
        rng=random.Random(0),  # throwaway weights: the global stream stays untouched
    )
    try:
        load_state_dict(model, state)
    except ValueError as e:  # a NaN or infinite weight: say so in torch's terms
        raise ValueError(f"from_torch: {e}") from None
    return model


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
    _check_model(model, "to_onnx")
    _check_scaler(scaler, model, "to_onnx")
    _check_dtype(dtype, "to_onnx")
    classifier = _classifier(model, task, classes, loss, class_names)
    onnx = require("onnx", "onnx", "export", "to_onnx")
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    elem = onnx.TensorProto.FLOAT if dtype == "float32" else onnx.TensorProto.DOUBLE
    nodes: list[Any] = []
    inits: list[Any] = []

    def constant(name: str, values: np.ndarray, cast: bool = True) -> str:
        values = _cast(values, dtype, name, "to_onnx") if cast else values
        inits.append(numpy_helper.from_array(values, name))
        return name

    def node(op: str, inputs: list[str], name: str, **attributes: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attributes))
        return name

    x = INPUT_NAME
    if scaler is not None:
        x = node("Sub", [x, constant("standardize.mean", scaler.mean)], "standardize.centred")
        x = node("Div", [x, constant("standardize.scale", scaler.scale)], "standardize.output")
    arrays = _layer_arrays(model)
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
