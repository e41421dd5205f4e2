"""The playground's messages: what a page may send, validated by pydantic, and the limits.

A page sends JSON objects over its WebSocket, each with a `type`: `setup` (the whole
configuration: data, network, training, view), `play`, `pause`, `step` (one epoch), `reset`
(fresh weights, same data) and `graph` (the computation graph of one data point). `parse`
turns the raw text into one of the models below or raises `MessageError` whose text is meant
for the page: it names each field that is wrong, what it got and what is allowed.

What the server sends back is described in `session.py` (`hello`, `ready`, `frame`, `state`,
`graph`, `error`).
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from ..features import FeatureName

__all__ = [
    "CSV_DATASET",
    "DATASET_CHOICES",
    "LIMITS",
    "MAX_DEPTH",
    "MAX_MESSAGE_BYTES",
    "GraphMessage",
    "Incoming",
    "Message",
    "MessageError",
    "Setup",
    "choices",
    "parse",
]

LIMITS: dict[str, int] = {
    "samples_min": 10,
    "samples_max": 2000,
    "layers_max": 6,
    "neurons_max": 16,
    "grid_min": 10,
    "grid_max": 100,
    "epochs_max": 100_000,
    "speed_max": 1000,
    "seed_max": 2**31 - 1,
}

DatasetName = Literal[
    "moons",
    "circles",
    "xor",
    "blobs",
    "spirals",
    "yinyang",
    "regression_1d",
    "regression_2d",
    "csv",
]
CSV_DATASET = "csv"
# The page draws the input plane, so it offers the registry's generated sets of one or two
# features; the toy set (3 features) and the bundled real sets (4 to 64) have more. The names
# are `DatasetName`'s, read from it so there is one list to keep in step.
DATASET_CHOICES: tuple[str, ...] = tuple(n for n in get_args(DatasetName) if n != CSV_DATASET)
Width = Annotated[int, Field(ge=1, le=LIMITS["neurons_max"])]


class _Strict(BaseModel):
    # Unknown keys are refused, not ignored: a misspelt setting must not pass silently.
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class Setup(_Strict):
    """Everything that defines a playground run; the page keeps it in its URL."""

    dataset: DatasetName = "moons"
    csv: str | None = Field(default=None, max_length=64)
    noise: float = Field(default=0.1, ge=0.0, le=1.0)
    samples: int = Field(default=200, ge=LIMITS["samples_min"], le=LIMITS["samples_max"])
    test: float = Field(default=0.2, ge=0.0, le=0.5)
    # TF Playground's input features (micrograd.features), computed from the raw inputs
    # before the network; None: the raw inputs themselves. Which ones fit the data set is
    # checked when the data is known (the session); the list itself is checked here.
    # (No max_length: more than the registry holds means a name twice, which says more.)
    features: list[FeatureName] | None = None
    layers: list[Width] = Field(default_factory=lambda: [8, 8], max_length=LIMITS["layers_max"])
    activation: Literal["relu", "tanh", "sigmoid", "linear"] = "tanh"
    loss: Literal["auto", "mse", "hinge", "bce", "cross_entropy"] = "auto"
    # "momentum" is SGD with momentum 0.9, as TF Playground's learners know it.
    optimizer: Literal["sgd", "momentum", "adam", "adamw"] = "sgd"
    lr: float = Field(default=0.1, gt=0.0, le=10.0)
    schedule: Literal["constant", "linear", "step", "exponential", "cosine"] = "constant"
    # 0: train until paused, as TF Playground does; a positive number stops there.
    epochs: int = Field(default=0, ge=0, le=LIMITS["epochs_max"])
    regularization: Literal["none", "l1", "l2"] = "none"
    reg_rate: float = Field(default=0.001, ge=0.0, le=1.0)
    batch_size: int = Field(default=0, ge=0, le=LIMITS["samples_max"])
    mode: Literal["batched", "per-sample"] = "batched"
    seed: int = Field(default=0, ge=0, le=LIMITS["seed_max"])
    grid: int = Field(default=50, ge=LIMITS["grid_min"], le=LIMITS["grid_max"])
    speed: int = Field(default=30, ge=0, le=LIMITS["speed_max"])

    @field_validator("features")
    @classmethod
    def _distinct_features(cls, names: list[FeatureName] | None) -> list[FeatureName] | None:
        if names is None:
            return None
        if not names:
            raise PydanticCustomError(
                "features", "choose at least one input feature (or leave the list out for x1, x2)"
            )
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise PydanticCustomError(
                "features",
                "each feature may appear once, but {twice} appears more than once",
                {"twice": ", ".join(twice)},
            )
        return names


def choices(field: str) -> tuple[str, ...]:
    """The values a `Setup` field allows (tests check them against the library's registries)."""
    return get_args(Setup.model_fields[field].annotation)


class SetupMessage(_Strict):
    type: Literal["setup"]
    setup: Setup


class PlayMessage(_Strict):
    type: Literal["play"]


class PauseMessage(_Strict):
    type: Literal["pause"]


class StepMessage(_Strict):
    type: Literal["step"]


class ResetMessage(_Strict):
    type: Literal["reset"]


class GraphMessage(_Strict):
    """Ask for the computation graph of data point `index` of the `split` set."""

    type: Literal["graph"]
    split: Literal["train", "test"] = "train"
    index: int = Field(ge=0, lt=LIMITS["samples_max"])


Incoming = SetupMessage | PlayMessage | PauseMessage | StepMessage | ResetMessage | GraphMessage
Message = Annotated[Incoming, Field(discriminator="type")]
_MESSAGE: TypeAdapter[Any] = TypeAdapter(Message)
MESSAGE_TYPES = ("setup", "play", "pause", "step", "reset", "graph")
# A setup is a few hundred bytes and nests 3 levels: these limits leave room to grow while
# keeping a hostile message from costing memory or time (uvicorn refuses frames far larger).
MAX_MESSAGE_BYTES = 64 * 1024
MAX_DEPTH = 32


class MessageError(ValueError):
    """A message the server cannot act on; its text is shown in the page as it is.

    `request` is the type of the message that failed, when it had a recognisable one."""

    def __init__(self, text: str, request: str | None = None) -> None:
        super().__init__(text)
        self.request = request


def _where(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("setup",) and not str(p).endswith("Message")]
    if parts and parts[0] in MESSAGE_TYPES:
        parts = parts[1:]
    if len(parts) >= 2 and parts[0] == "layers" and parts[1].isdigit():
        return f"hidden layer {int(parts[1]) + 1}"
    return ".".join(parts) or "message"


_PLAIN = {
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "literal_error": "must be one of {expected}",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "string_too_long": "is too long (at most {max_length} characters)",
    "missing": "is missing",
    "extra_forbidden": "is not a setting the playground knows",
}


def _explain(err: ValidationError) -> str:
    """pydantic's errors as one line a learner can act on: field, what is allowed, what came."""
    lines = []
    for e in err.errors():
        where = _where(tuple(e["loc"]))
        got = e.get("input")
        shown = "" if isinstance(got, dict) else f" (got {json.dumps(got)[:40]})"
        kind = e["type"]
        msg = _PLAIN[kind].format(**e.get("ctx", {})) if kind in _PLAIN else e["msg"]
        if kind == "too_long" and where == "layers":
            msg = f"at most {LIMITS['layers_max']} hidden layers are allowed"
            shown = f" (got {len(got)})" if isinstance(got, list) else ""
        elif where.startswith("hidden layer") and kind.endswith("than_equal"):
            msg = f"a layer has 1 to {LIMITS['neurons_max']} neurons"
        elif kind in ("extra_forbidden", "missing"):
            shown = ""
        elif kind == "union_tag_invalid":
            msg = f"unknown message type; expected one of {', '.join(MESSAGE_TYPES)}"
        lines.append(f"{where}: {msg}{shown}")
    return "; ".join(lines)


def _depth(value: Any) -> int:
    """How deep lists and objects nest in a parsed message (iteratively: no recursion limit)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:  # deeper than the limit is refused anyway: stop looking
                todo.extend(
                    (v, level + 1) for v in (item.values() if isinstance(item, dict) else item)
                )
    return deepest


def parse(text: str | bytes) -> Incoming:
    """One message from the page, validated, or `MessageError` saying what is wrong.

    The size is checked before the text is parsed, so an oversize message costs no parsing;
    too deep nesting and too long numbers are validation errors like any other, not crashes."""
    size = len(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    if size > MAX_MESSAGE_BYTES:
        raise MessageError(
            f"the message has {size:,} bytes; the playground takes messages of at most "
            f"{MAX_MESSAGE_BYTES:,} bytes"
        )
    too_deep = f"the message nests too deep (at most {MAX_DEPTH} levels of lists and objects)"
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise MessageError(f"the message is not JSON: {e}") from None
    except RecursionError:  # json's decoder recurses once per level
        raise MessageError(too_deep) from None
    except ValueError as e:  # Python refuses to convert integers longer than its digit limit
        if "digits" not in str(e):
            raise MessageError(f"the message is not JSON: {e}") from None
        limit = sys.get_int_max_str_digits()
        raise MessageError(
            f"a number in the message has too many digits (at most {limit:,})"
        ) from None
    if _depth(raw) > MAX_DEPTH:
        raise MessageError(too_deep)
    if not isinstance(raw, dict) or "type" not in raw:
        raise MessageError(
            f"a message must be a JSON object with a 'type' ({', '.join(MESSAGE_TYPES)})"
        )
    try:
        return _MESSAGE.validate_python(raw)  # type: ignore[no-any-return]
    except ValidationError as e:
        kind = raw["type"]
        known = isinstance(kind, str) and kind in MESSAGE_TYPES
        raise MessageError(_explain(e), kind if known else None) from None
