"""Saving and loading models as JSON files (never pickle), plus PyTorch-style state dicts.

Both forms of a network are saved alike: the per-sample `MLP` and the batched `BatchedMLP`
(`micrograd.batched`) with the same weights write the very same file, and either form reads
any file:

    save(model, "model.json")                  # an MLP or a BatchedMLP
    mlp = load("model.json")                   # an MLP: scalar Values, one sample at a time
    fast = load("model.json", batched=True)    # a BatchedMLP: arrays, whole batches at once

A model file is one JSON object:

    {
      "format": "micrograd.mlp",
      "version": 1,
      "architecture": {"nin": 3, "nouts": [4, 4, 1], "activation": "relu",
                       "output_activation": "linear", "step": 0.05},
      "layers": [[{"w": [0.1, -0.2, 0.3], "b": 0.05}, ...], ...],
      "metadata": {...}
    }

`layers[i][j]` is neuron j of layer i: its weights, one per input of the layer, and its bias.
`architecture` holds the `MLP` constructor's arguments (`step` may be left out: it defaults to
0.05). `metadata` is optional and holds whatever JSON the user saved with the model.
`state_dict(model)` returns the same structure without metadata, and `load_state_dict(model,
state)` copies such a structure into either form: into an MLP's existing Values, or into a
BatchedMLP's weight and bias Values as new float64 arrays.

Weights round-trip bit for bit: Python writes a float as its shortest repr, which reads back to
the same float. NaN and infinity have no JSON spelling, so a model holding them is refused
rather than written in a form other readers would reject. Files are written to a temporary file
in the same folder and renamed over the target, so a crash never leaves half a file behind.

Everything read is validated before it is used, by `micrograd.model_file` (its error classes
and constants are importable from here too): a bad file raises `ModelFileError` naming the
file, the place in it, what was found and what was expected, and `load_state_dict` assigns
nothing unless the whole state is valid.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, overload

from .batched import BatchedMLP, Model
from .files import write_atomic
from .model_file import (
    FORMAT,
    VERSION,
    ModelFileError,
    ModelFileNotFoundError,
    ModelState,
    parse_model,
    read_model,
)
from .model_file import MAX_FILE_BYTES as MAX_FILE_BYTES
from .model_file import PathLike as PathLike
from .nn import MLP
from .numeric import numpy

__all__ = [
    "FORMAT",
    "VERSION",
    "ModelFileError",
    "ModelFileNotFoundError",
    "load",
    "load_metadata",
    "load_state",
    "load_state_dict",
    "save",
    "state_dict",
]


# -- models and state dicts --------------------------------------------------------------------


def _check_model(model: object, who: str) -> Model:
    if not isinstance(model, (MLP, BatchedMLP)):
        raise TypeError(f"{who} expects an MLP or a BatchedMLP, got {type(model).__name__}")
    return model


def _layers(model: Model) -> list[list[dict[str, Any]]]:
    """Every neuron's {"w": [...], "b": ...}, layer by layer, from either form."""
    if isinstance(model, MLP):
        return [
            [{"w": [w.data for w in n.w], "b": n.b.data} for n in layer.neurons]
            for layer in model.layers
        ]
    return [
        [
            {"w": w, "b": b}
            for w, b in zip(layer.weight.data.tolist(), layer.bias.data.tolist(), strict=True)
        ]
        for layer in model.layers
    ]


def state_dict(model: Model) -> dict[str, Any]:
    """The model's architecture and weights as a plain, JSON-able dict (a copy, not a view).
    An `MLP` and a `BatchedMLP` with the same weights give equal dicts."""
    _check_model(model, "state_dict")
    return {
        "format": FORMAT,
        "version": VERSION,
        "architecture": {
            "nin": model.nin,
            "nouts": model.nouts,
            "activation": model.activation,
            "output_activation": model.output_activation,
            "step": model.step,
        },
        "layers": _layers(model),
    }


def _assign(model: Model, state: ModelState) -> None:
    if isinstance(model, BatchedMLP):
        np = numpy()
        for linear, layer_state in zip(model.layers, state.layers, strict=True):
            linear.weight.data = np.array([w for w, _ in layer_state], dtype=np.float64)
            linear.bias.data = np.array([b for _, b in layer_state], dtype=np.float64)
        return
    for layer, layer_state in zip(model.layers, state.layers, strict=True):
        for neuron, (w, b) in zip(layer.neurons, layer_state, strict=True):
            for p, x in zip(neuron.w, w, strict=True):
                p.data = x
            neuron.b.data = b


def load_state_dict(model: Model, state: Mapping[str, Any]) -> None:
    """Copy the weights in `state` into `model`, in place: its Values stay the same objects (an
    optimizer holding them keeps working); a `BatchedMLP`'s weight and bias get new float64
    arrays.

    `state` must describe the model's own architecture. It is validated completely before any
    weight is assigned, so on error the model is unchanged. `step` and metadata are not applied.
    """
    _check_model(model, "load_state_dict")
    parsed = parse_model(state, "state dict")
    have = (model.nin, model.nouts, model.activation, model.output_activation)
    want = (parsed.nin, parsed.nouts, parsed.activation, parsed.output_activation)
    if have != want:
        names = ("nin", "nouts", "activation", "output_activation")
        diff = "; ".join(
            f"{n} is {w!r} in the state but {h!r} in the model"
            for n, h, w in zip(names, have, want, strict=True)
            if h != w
        )
        raise ModelFileError(f"state dict: the architecture does not match the model: {diff}")
    _assign(model, parsed)


# -- files -------------------------------------------------------------------------------------


def _check_metadata(metadata: object) -> dict[str, Any]:
    if not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    try:
        text = json.dumps(metadata, allow_nan=False)
    except TypeError as e:
        raise TypeError(
            "metadata must hold only JSON values (dicts with string keys, lists, strings, "
            f"numbers, booleans, None): {e}"
        ) from e
    except ValueError as e:
        raise ValueError(f"metadata cannot be written as JSON: {e}") from e
    if json.loads(text) != metadata:
        raise ValueError(
            "metadata would not read back the same from JSON (tuples become lists, non-string "
            "keys become strings): convert it to dicts with string keys and lists first"
        )
    return metadata


def _check_finite(state: dict[str, Any]) -> None:
    for i, layer in enumerate(state["layers"]):
        for j, neuron in enumerate(layer):
            for where, x in [
                *((f"w[{k}]", w) for k, w in enumerate(neuron["w"])),
                ("b", neuron["b"]),
            ]:
                if not isinstance(x, float) or not math.isfinite(x):
                    raise ValueError(
                        f"cannot save the model: layers[{i}][{j}].{where} is {x!r}, and JSON can "
                        "only hold finite numbers (has training diverged?)"
                    )


def _format(state: dict[str, Any]) -> str:
    """Indented JSON with one line per neuron: readable and diff-friendly, yet compact."""

    def dump(x: object) -> str:
        return json.dumps(x, allow_nan=False)

    layers = ",\n".join(
        "    [\n" + ",\n".join(f"      {dump(n)}" for n in layer) + "\n    ]"
        for layer in state["layers"]
    )
    lines = [
        f'  "format": {dump(state["format"])}',
        f'  "version": {dump(state["version"])}',
        f'  "architecture": {dump(state["architecture"])}',
        f'  "layers": [\n{layers}\n  ]',
    ]
    if "metadata" in state:
        meta = json.dumps(state["metadata"], indent=2, allow_nan=False).replace("\n", "\n  ")
        lines.append(f'  "metadata": {meta}')
    return "{\n" + ",\n".join(lines) + "\n}\n"


def save(model: Model, path: PathLike, metadata: dict[str, Any] | None = None) -> None:
    """Write `model` (an `MLP` or a `BatchedMLP`; the same file for the same weights) and
    optional JSON-able `metadata` to `path` as JSON, atomically.

    Raises ValueError, before touching the disk, if a weight is NaN or infinite or if the
    metadata would not read back the same.
    """
    state = state_dict(_check_model(model, "save"))
    _check_finite(state)
    if metadata is not None:
        state["metadata"] = _check_metadata(metadata)
    parse_model(state, "cannot save the model")  # whatever is written, `load` must read back
    write_atomic(Path(path), _format(state).encode("utf-8"))


def load_state(path: PathLike) -> dict[str, Any]:
    """Read and validate a model file; return its dict (as `state_dict`, plus any metadata)."""
    return read_model(path).to_dict(with_metadata=True)


@overload
def load(path: PathLike, *, batched: Literal[False] = False) -> MLP: ...
@overload
def load(path: PathLike, *, batched: Literal[True]) -> BatchedMLP: ...
@overload
def load(path: PathLike, *, batched: bool) -> Model: ...


def load(path: PathLike, *, batched: bool = False) -> Model:
    """Read a model file written by `save` and return a new model with its weights: an `MLP`,
    or with `batched=True` a `BatchedMLP` (the same weights as arrays, for whole batches)."""
    state = read_model(path)
    # A private generator: the throwaway initial weights must not consume the global stream.
    model = MLP(
        state.nin,
        state.nouts,
        state.activation,
        state.step,
        state.output_activation,
        rng=random.Random(0),
    )
    _assign(model, state)
    return BatchedMLP.from_mlp(model) if batched else model


def load_metadata(path: PathLike) -> dict[str, Any]:
    """The metadata saved with a model file ({} if none), after validating the whole file."""
    metadata = read_model(path).metadata
    return {} if metadata is None else json.loads(json.dumps(metadata))
