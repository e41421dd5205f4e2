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

Everything read is validated before it is used; a bad file raises `ModelFileError` naming the
file, the place in it, what was found and what was expected, and `load_state_dict` assigns
nothing unless the whole state is valid.
"""

from __future__ import annotations

import errno
import json
import math
import os
import random
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

from .batched import BatchedMLP, Model
from .files import write_atomic
from .nn import ACTIVATIONS, MLP
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

FORMAT = "micrograd.mlp"
# Reading stops here: a model this size would have tens of millions of weights.
MAX_FILE_BYTES = 256 * 2**20
_MAX_INTEGER_DIGITS = 4000  # Python's own limit for int() is 4300
VERSION = 1

_TOP_KEYS = ("format", "version", "architecture", "layers")
_ARCH_KEYS = ("nin", "nouts", "activation", "output_activation")
_DEFAULT_STEP = 0.05

PathLike = str | os.PathLike[str]


class ModelFileError(ValueError):
    """A model file or state dict that cannot be loaded: the message says where and why."""


class ModelFileNotFoundError(ModelFileError, FileNotFoundError):
    """The model file does not exist (catchable as `FileNotFoundError` too)."""

    def __str__(self) -> str:
        # OSError would print "[Errno 2] ...": keep the message that names the file instead.
        return str(self.args[0]) if self.args else super().__str__()


# -- describing what was found -----------------------------------------------------------------


def _kind(x: object) -> str:
    """How a JSON value is named in messages: its JSON type, and the value when it is short."""
    if x is None:
        return "null"
    if isinstance(x, bool):
        return f"boolean {'true' if x else 'false'}"
    if isinstance(x, (int, float)):
        return f"number {x!r}"
    if isinstance(x, str):
        text = repr(x)
        return f"string {text if len(text) <= 40 else text[:37] + '...'}"
    if isinstance(x, list):
        return f"an array of {len(x)} items"
    if isinstance(x, dict):
        return "an object"
    return f"a {type(x).__name__}"


def _fail(source: str, problem: str) -> ModelFileError:
    return ModelFileError(f"{source}: {problem}")


# -- validation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _State:
    """A fully validated model: the architecture and every neuron's (weights, bias)."""

    nin: int
    nouts: list[int]
    activation: str
    output_activation: str
    step: float
    layers: list[list[tuple[list[float], float]]]
    metadata: dict[str, Any] | None

    def to_dict(self, with_metadata: bool) -> dict[str, Any]:
        state: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "architecture": {
                "nin": self.nin,
                "nouts": list(self.nouts),
                "activation": self.activation,
                "output_activation": self.output_activation,
                "step": self.step,
            },
            "layers": [[{"w": list(w), "b": b} for w, b in layer] for layer in self.layers],
        }
        if with_metadata and self.metadata is not None:
            state["metadata"] = json.loads(json.dumps(self.metadata))  # a deep copy
        return state


def _object(
    source: str, where: str, x: object, required: tuple[str, ...], optional: tuple[str, ...]
) -> dict[str, Any]:
    """Check that `x` is a JSON object with all `required` keys and no keys beyond `optional`."""
    expected = ", ".join(required) + (
        f" (and optionally {', '.join(optional)})" if optional else ""
    )
    if not isinstance(x, dict):
        raise _fail(source, f"{where} must be a JSON object with keys {expected}, got {_kind(x)}")
    for key in x:
        if not isinstance(key, str) or key not in required + optional:
            raise _fail(source, f"{where} has an unexpected key {key!r}: expected only {expected}")
    for key in required:
        if key not in x:
            raise _fail(source, f"{where} is missing the key {key!r}: expected keys {expected}")
    return x


def _count(source: str, where: str, x: object) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or x < 1:
        raise _fail(source, f"{where} must be a positive integer, got {_kind(x)}")
    return x


def _number(source: str, where: str, x: object) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise _fail(source, f"{where} must be a number, got {_kind(x)}")
    try:
        f = float(x)
    except OverflowError:
        raise _fail(source, f"{where} is an integer too large for a float") from None
    if not math.isfinite(f):
        raise _fail(source, f"{where} is {x!r}: expected a finite number")
    return f


def _activation(source: str, where: str, x: object) -> str:
    if not isinstance(x, str):
        raise _fail(source, f"{where} must be a string naming an activation, got {_kind(x)}")
    if x not in ACTIVATIONS:
        raise _fail(
            source,
            f"{where} is {x!r}, an unknown activation: expected one of {', '.join(ACTIVATIONS)}",
        )
    return x


def _array(source: str, where: str, x: object, length: int, what: str, why: str) -> list[Any]:
    """`x` as a JSON array of `length` items (`what`, e.g. "weights"; `why` that many)."""
    if not isinstance(x, list):
        raise _fail(source, f"{where} must be an array of {what}, got {_kind(x)}")
    if len(x) != length:
        raise _fail(source, f"{where} has {len(x)} {what}, expected {length} ({why})")
    return x


def _parse(state: object, source: str) -> _State:
    """Validate a whole model structure (as read from JSON); raise ModelFileError on any fault."""
    if not isinstance(state, dict):
        raise _fail(
            source,
            f"expected a JSON object (a micrograd model) at the top level, got {_kind(state)}",
        )
    # The format and version come first: for anything else, the other keys mean nothing.
    if "format" not in state:
        raise _fail(
            source,
            f"no 'format' key: expected 'format': {FORMAT!r} (is this a micrograd model file?)",
        )
    if state["format"] != FORMAT:
        raise _fail(
            source,
            f"format is {_kind(state['format'])}, expected {FORMAT!r} "
            "(is this a micrograd model file?)",
        )
    if "version" not in state:
        raise _fail(source, f"no 'version' key: expected 'version': {VERSION}")
    version = state["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _fail(source, f"version must be a positive integer, got {_kind(version)}")
    if version > VERSION:
        raise _fail(
            source,
            f"version {version} is newer than this micrograd supports "
            f"(up to {VERSION}): upgrade micrograd to load it",
        )
    top = _object(source, "the model", state, _TOP_KEYS, ("metadata",))

    arch = _object(source, "architecture", top["architecture"], _ARCH_KEYS, ("step",))
    nin = _count(source, "architecture.nin", arch["nin"])
    nouts_raw = arch["nouts"]
    if not isinstance(nouts_raw, list) or not nouts_raw:
        raise _fail(
            source,
            f"architecture.nouts must be a non-empty array of layer sizes, got {_kind(nouts_raw)}",
        )
    nouts = [_count(source, f"architecture.nouts[{i}]", n) for i, n in enumerate(nouts_raw)]
    activation = _activation(source, "architecture.activation", arch["activation"])
    output_activation = _activation(
        source, "architecture.output_activation", arch["output_activation"]
    )
    step = _number(source, "architecture.step", arch.get("step", _DEFAULT_STEP))

    layers_raw = top["layers"]
    if not isinstance(layers_raw, list):
        raise _fail(source, f"layers must be an array of layers, got {_kind(layers_raw)}")
    if len(layers_raw) != len(nouts):
        raise _fail(
            source,
            f"layers holds {len(layers_raw)} layers but architecture.nouts "
            f"{nouts} describes {len(nouts)}",
        )
    layers: list[list[tuple[list[float], float]]] = []
    fan_in = nin
    for i, (layer_raw, nout) in enumerate(zip(layers_raw, nouts, strict=True)):
        _array(source, f"layers[{i}]", layer_raw, nout, "neurons", f"architecture.nouts[{i}]")
        layer = []
        for j, neuron_raw in enumerate(layer_raw):
            where = f"layers[{i}][{j}]"
            neuron = _object(source, where, neuron_raw, ("w", "b"), ())
            w_raw = _array(
                source, f"{where}.w", neuron["w"], fan_in, "weights", f"one per input of layer {i}"
            )
            w = [_number(source, f"{where}.w[{k}]", x) for k, x in enumerate(w_raw)]
            layer.append((w, _number(source, f"{where}.b", neuron["b"])))
        layers.append(layer)
        fan_in = nout

    metadata = top.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise _fail(source, f"metadata must be a JSON object, got {_kind(metadata)}")
        try:
            json.dumps(metadata, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise _fail(
                source, f"metadata must hold only JSON values and finite numbers: {e}"
            ) from e
    return _State(nin, nouts, activation, output_activation, step, layers, metadata)


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


def _assign(model: Model, state: _State) -> None:
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
    parsed = _parse(state, "state dict")
    have = (model.nin, model.nouts, model.activation, model.output_activation)
    want = (parsed.nin, parsed.nouts, parsed.activation, parsed.output_activation)
    if have != want:
        names = ("nin", "nouts", "activation", "output_activation")
        diff = "; ".join(
            f"{n} is {w!r} in the state but {h!r} in the model"
            for n, h, w in zip(names, have, want, strict=True)
            if h != w
        )
        raise _fail("state dict", f"the architecture does not match the model: {diff}")
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
    _parse(state, "cannot save the model")  # whatever is written, `load` must read back
    write_atomic(Path(path), _format(state).encode("utf-8"))


class _DuplicateKey(ValueError):
    pass


class _LongInteger(ValueError):
    pass


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _DuplicateKey(f"duplicate key {key!r} in a JSON object")
        obj[key] = value
    return obj


def _integer(text: str) -> int:
    # A float holds at most 309 integer digits: longer ones are refused later, by key.
    if len(text.lstrip("-")) > _MAX_INTEGER_DIGITS:
        raise _LongInteger(
            f"it holds an integer of {len(text.lstrip('-'))} digits, too long to be a weight, "
            "a count or a version: expected a model file written by micrograd"
        )
    return int(text)


def _read_limited(path: PathLike, source: str) -> bytes:
    """The file's bytes, refusing what is not a regular file or is over `MAX_FILE_BYTES`."""
    with open(path, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise _fail(source, "not a regular file (a device or a pipe): expected a JSON file")
        raw = f.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise _fail(
            source,
            f"larger than {MAX_FILE_BYTES // 2**20} MB, the most a model file may be (a model "
            "that size has tens of millions of weights)",
        )
    return raw


def _read(path: PathLike) -> _State:
    source = f"model file {os.fspath(path)!r}"
    try:
        raw = _read_limited(path, source)
    except FileNotFoundError as e:
        err = ModelFileNotFoundError(f"{source}: no such file")
        err.errno, err.strerror, err.filename = errno.ENOENT, e.strerror, os.fspath(path)
        raise err from e
    try:
        text = raw.decode("utf-8-sig")  # a byte order mark is allowed, as in CSV files
    except UnicodeDecodeError as e:
        raise _fail(
            source,
            f"not UTF-8 text ({e.reason} at byte {e.start}): expected a JSON "
            "model file written by micrograd.serialization.save",
        ) from e
    if not text.strip():
        raise _fail(source, "the file is empty: expected a JSON model file")
    try:
        state = json.loads(text, object_pairs_hook=_reject_duplicates, parse_int=_integer)
    except json.JSONDecodeError as e:
        hint = " (the file ends early: was it truncated?)" if e.pos >= len(text.rstrip()) else ""
        raise _fail(
            source, f"not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}{hint}"
        ) from e
    except _DuplicateKey as e:
        raise _fail(source, f"{e}: expected each key once") from e
    except _LongInteger as e:
        raise _fail(source, f"{e}") from e
    except RecursionError as e:
        raise _fail(source, "the JSON is nested too deeply to be a micrograd model") from e
    return _parse(state, source)


def load_state(path: PathLike) -> dict[str, Any]:
    """Read and validate a model file; return its dict (as `state_dict`, plus any metadata)."""
    return _read(path).to_dict(with_metadata=True)


@overload
def load(path: PathLike, *, batched: Literal[False] = False) -> MLP: ...
@overload
def load(path: PathLike, *, batched: Literal[True]) -> BatchedMLP: ...
@overload
def load(path: PathLike, *, batched: bool) -> Model: ...


def load(path: PathLike, *, batched: bool = False) -> Model:
    """Read a model file written by `save` and return a new model with its weights: an `MLP`,
    or with `batched=True` a `BatchedMLP` (the same weights as arrays, for whole batches)."""
    state = _read(path)
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
    metadata = _read(path).metadata
    return {} if metadata is None else json.loads(json.dumps(metadata))
