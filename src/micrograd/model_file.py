"""Reading and validating a model file: the one gate every saved model passes through.

`read_model(path)` reads a file strictly (a regular file of at most `MAX_FILE_BYTES`, UTF-8,
JSON with no duplicate key and no absurdly long integer) and `parse_model(state, source)` checks
a whole model structure: the format and version, the architecture, every neuron's weights and
bias (finite numbers, as many as the layer sizes say), and the optional metadata. Both return a
`ModelState`, or raise `ModelFileError` naming the source, the place in it, what was found and
what was expected. Nothing is built here: `micrograd.serialization` turns a `ModelState` into a
model (and describes the file format); it is where users import these names from.
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
from dataclasses import dataclass
from typing import Any

from .nn import ACTIVATIONS

__all__ = [
    "FORMAT",
    "MAX_FILE_BYTES",
    "VERSION",
    "ModelFileError",
    "ModelFileNotFoundError",
    "ModelState",
    "PathLike",
    "parse_model",
    "read_model",
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
class ModelState:
    """A fully validated model: the architecture and every neuron's (weights, bias)."""

    nin: int
    nouts: list[int]
    activation: str
    output_activation: str
    step: float
    layers: list[list[tuple[list[float], float]]]
    metadata: dict[str, Any] | None

    def to_dict(self, with_metadata: bool) -> dict[str, Any]:
        """The model as `state_dict` gives it, plus the metadata if asked for and present."""
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


def parse_model(state: object, source: str) -> ModelState:
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
    return ModelState(nin, nouts, activation, output_activation, step, layers, metadata)


# -- reading a file ----------------------------------------------------------------------------


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


def read_model(path: PathLike) -> ModelState:
    """Read and validate the model file at `path` (`ModelFileNotFoundError` if there is none)."""
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
    return parse_model(state, source)
