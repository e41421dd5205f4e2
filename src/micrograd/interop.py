"""Moving models to PyTorch and back, and the one place both exports are imported from.

The PyTorch exports take either form of a network, the per-sample `MLP` or the batched
`BatchedMLP` (`micrograd.batched`): both give the same file for the same weights.

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

Both take an optional `Standardizer` (the one training fitted, kept in model.json) so the
exported model reads raw features: `to_torch` folds the transform into the first `Linear` layer
(W' = W / scale, b' = b - W' mean), exact up to float rounding.

The ONNX export (`to_onnx`, `to_onnx_bytes` and the graph's names) lives in
`micrograd.onnx_export`, and the shared checks (`DTYPES`, `RangeError`) in
`micrograd.export_arrays`; both are re-exported here, so `micrograd.interop.to_onnx` keeps working.

torch, onnx and onnxruntime are optional (the `export` extra) and imported inside the functions.
"""

from __future__ import annotations

import io
import os
import random
from pathlib import Path
from typing import Any

import numpy as np

from .batched import Model
from .export_arrays import (
    DTYPES,
    RangeError,
    check_dtype,
    check_model,
    check_scaler,
    checked_cast,
    layer_arrays,
)
from .files import write_atomic
from .model_file import FORMAT, VERSION
from .nn import MLP
from .onnx_export import (
    INPUT_NAME,
    LABEL_NAME,
    OPSET,
    OUTPUT_NAME,
    PROBABILITIES_NAME,
    to_onnx,
    to_onnx_bytes,
)
from .optional import require
from .preprocessing import Standardizer
from .serialization import load_state_dict

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

_TORCH_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}


def to_torch(model: Model, scaler: Standardizer | None = None) -> Any:
    """A float64 `torch.nn.Sequential` computing what `model` computes (see the module doc)."""
    check_model(model, "to_torch")
    check_scaler(scaler, model, "to_torch")
    return _sequential(_torch_arrays(model, scaler, "float64", "to_torch"), "to_torch")


def _sequential(layers: list[tuple[np.ndarray, np.ndarray, str]], who: str) -> Any:
    """A float64 `torch.nn.Sequential` of these (W, b, activation) layers."""
    torch = require("torch", "torch", "export", who)
    modules = []
    for W, b, activation in layers:
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
    """`layer_arrays` with the standardisation folded into the first layer, each checked to fit
    in `dtype` (folding divides by the scale, which can overflow even float64)."""
    layers = []
    for i, (W, b, activation) in enumerate(layer_arrays(model)):
        if i == 0 and scaler is not None:
            with np.errstate(over="ignore", invalid="ignore"):  # checked just below
                W = W / scaler.scale
                b = b - W @ scaler.mean
        layers.append(
            (
                checked_cast(W, dtype, f"layers.{i}.weight", who).astype(np.float64),
                checked_cast(b, dtype, f"layers.{i}.bias", who).astype(np.float64),
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
    check_dtype(dtype, "save_torch")
    check_model(model, "save_torch")
    check_scaler(scaler, model, "save_torch")
    # the layers checked to fit in `dtype` (kept in float64 until the whole module is cast)
    seq = _sequential(_torch_arrays(model, scaler, dtype, "save_torch"), "save_torch")
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
