"""Saving and loading models as JSON: exact round trips for both forms (MLP and BatchedMLP write
the same file and read each other's), metadata, state dicts, precise errors for every kind of
corrupt file with the existing model left unchanged, and atomic writes."""

from __future__ import annotations

import copy
import json
import math
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from micrograd import MLP, Value
from micrograd.batched import BatchedMLP, Model, batched, flat_parameters
from micrograd.serialization import (
    FORMAT,
    VERSION,
    ModelFileError,
    ModelFileNotFoundError,
    load,
    load_metadata,
    load_state,
    load_state_dict,
    save,
    state_dict,
)

# Floats whose text form is easy to get wrong: all must come back bit for bit.
TRICKY = [0.1 + 0.2, 5e-324, -0.0, 1e308, -1 / 3, 2.0**-1074 * 3, 123456789.00000001]


def make_model(seed: int = 7) -> MLP:
    model = MLP(3, [4, 4, 2], activation="tanh", step=0.1, output_activation="sigmoid",
                rng=random.Random(seed))  # fmt: skip
    return model


def bits(model: Model) -> list[str]:
    """Every weight exactly (-0.0 and 0.0 differ), in MLP.parameters() order, for either form."""
    return [x.hex() for x in flat_parameters(model)]


def architecture(model: Model) -> tuple[Any, ...]:
    return (model.nin, model.nouts, model.activation, model.output_activation, model.step)


@pytest.fixture
def model() -> MLP:
    m = make_model()
    for p, x in zip(m.parameters()[: len(TRICKY)], TRICKY, strict=True):  # the first few
        p.data = x
    return m


# -- round trips -------------------------------------------------------------------------------


def test_round_trip_is_bit_exact(tmp_path: Path, model: MLP) -> None:
    path = tmp_path / "model.json"
    save(model, path)
    loaded = load(path)
    assert architecture(loaded) == architecture(model)
    assert bits(loaded) == bits(model)
    X = np.random.default_rng(0).normal(size=(5, 3))
    for x in X:
        assert [v.data for v in loaded(list(x))] == [v.data for v in model(list(x))]  # type: ignore[union-attr]
    assert np.array_equal(batched(loaded)(X).data, batched(model)(X).data)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear", None])
@pytest.mark.parametrize("output_activation", [None, "tanh", "relu"])
def test_round_trip_keeps_the_architecture(
    tmp_path: Path, activation: str | None, output_activation: str | None
) -> None:
    model = MLP(2, [3, 1], activation, 0.01, output_activation, rng=random.Random(0))
    save(model, str(tmp_path / "m.json"))
    loaded = load(str(tmp_path / "m.json"))
    assert architecture(loaded) == architecture(model)
    assert [layer.activation for layer in loaded.layers] == [
        layer.activation for layer in model.layers
    ]
    assert bits(loaded) == bits(model)


def test_the_file_is_plain_json_with_a_format_tag(tmp_path: Path, model: MLP) -> None:
    path = tmp_path / "model.json"
    save(model, path)
    state = json.loads(path.read_text(encoding="utf-8"))
    assert state["format"] == FORMAT == "micrograd.mlp"
    assert state["version"] == VERSION == 1
    assert state["architecture"] == {
        "nin": 3,
        "nouts": [4, 4, 2],
        "activation": "tanh",
        "output_activation": "sigmoid",
        "step": 0.1,
    }
    first = model.layers[0].neurons[0]
    assert state["layers"][0][0] == {"w": [w.data for w in first.w], "b": first.b.data}
    assert [len(layer) for layer in state["layers"]] == [4, 4, 2]
    assert "metadata" not in state
    assert state == state_dict(model)


def test_a_loaded_model_trains(tmp_path: Path, model: MLP) -> None:
    save(model, tmp_path / "m.json")
    loaded = load(tmp_path / "m.json")
    out = loaded([1.0, 2.0, 3.0])
    assert isinstance(out, list)
    (out[0] + out[1]).backward()
    assert any(p.grad != 0.0 for p in loaded.parameters())


def test_load_leaves_the_global_random_stream_alone(tmp_path: Path, model: MLP) -> None:
    save(model, tmp_path / "m.json")
    random.seed(5)
    expected = random.random()
    random.seed(5)
    load(tmp_path / "m.json")
    assert random.random() == expected


def test_step_is_optional_and_integer_weights_are_read(tmp_path: Path, model: MLP) -> None:
    state = state_dict(model)
    del state["architecture"]["step"]
    state["layers"][0][0]["b"] = 2
    path = tmp_path / "m.json"
    path.write_text(json.dumps(state), encoding="utf-8")
    loaded = load(path)
    assert loaded.step == 0.05
    assert loaded.layers[0].neurons[0].b.data == 2.0
    assert isinstance(loaded.layers[0].neurons[0].b.data, float)


# -- metadata ----------------------------------------------------------------------------------


def test_metadata_round_trip(tmp_path: Path, model: MLP) -> None:
    metadata = {
        "epochs": 100,
        "loss": 0.012345678901234567,
        "history": [1.5, 0.75, 0.1 + 0.2],
        "dataset": {"name": "moons", "noise": 0.1, "seed": None},
        "note": "héllo ✓",
        "ok": True,
    }
    path = tmp_path / "m.json"
    save(model, path, metadata=metadata)
    assert load_metadata(path) == metadata
    assert load_state(path)["metadata"] == metadata
    assert bits(load(path)) == bits(model)


def test_load_metadata_without_metadata_is_empty(tmp_path: Path, model: MLP) -> None:
    save(model, tmp_path / "m.json")
    assert load_metadata(tmp_path / "m.json") == {}


@pytest.mark.parametrize(
    ("metadata", "error", "match"),
    [
        ([1, 2], TypeError, r"metadata must be a dict, got list"),
        ({"a": {1, 2}}, TypeError, r"metadata must hold only JSON values"),
        ({"a": object()}, TypeError, r"metadata must hold only JSON values"),
        ({"loss": math.nan}, ValueError, r"metadata cannot be written as JSON"),
        ({"shape": (3, 4)}, ValueError, r"tuples become lists"),
        ({1: "x"}, ValueError, r"non-string keys become strings"),
    ],
)
def test_bad_metadata_is_refused_before_writing(
    tmp_path: Path, model: MLP, metadata: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        save(model, tmp_path / "m.json", metadata=metadata)
    assert os.listdir(tmp_path) == []


# -- state dicts -------------------------------------------------------------------------------


def test_state_dict_round_trip_in_place(model: MLP) -> None:
    other = make_model(seed=99)
    params_before = other.parameters()
    assert bits(other) != bits(model)
    state = state_dict(model)
    assert json.loads(json.dumps(state)) == state
    load_state_dict(other, state)
    assert bits(other) == bits(model)
    assert all(a is b for a, b in zip(other.parameters(), params_before, strict=True))


def test_state_dict_is_a_copy(model: MLP) -> None:
    state = state_dict(model)
    saved = copy.deepcopy(state)
    model.parameters()[0].data = 42.0
    model.layers[0].neurons[0].w.append(Value(1.0))
    assert state == saved


def test_load_state_dict_refuses_another_architecture(model: MLP) -> None:
    other = MLP(3, [4, 2], activation="tanh", output_activation="sigmoid", rng=random.Random(1))
    before = bits(other)
    with pytest.raises(
        ModelFileError,
        match=r"state dict: the architecture does not match the "
        r"model: nouts is \[4, 4, 2\] in the state but \[4, 2\] in the model",
    ):
        load_state_dict(other, state_dict(model))
    relu = MLP(3, [4, 4, 2], output_activation="sigmoid", rng=random.Random(1))
    with pytest.raises(ModelFileError, match=r"activation is 'tanh' in the state but 'relu'"):
        load_state_dict(relu, state_dict(model))
    assert bits(other) == before


def test_wrong_model_types() -> None:
    with pytest.raises(TypeError, match="save expects an MLP or a BatchedMLP, got dict"):
        save({}, "x.json")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="state_dict expects an MLP or a BatchedMLP, got Value"):
        state_dict(Value(1.0))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="load_state_dict expects an MLP or a BatchedMLP, got list"):
        load_state_dict([], {})  # type: ignore[arg-type]


# -- the batched form --------------------------------------------------------------------------


def test_both_forms_write_the_same_file(tmp_path: Path, model: MLP) -> None:
    save(model, tmp_path / "mlp.json", metadata={"run": 1})
    save(BatchedMLP.from_mlp(model), tmp_path / "batched.json", metadata={"run": 1})
    assert (tmp_path / "batched.json").read_bytes() == (tmp_path / "mlp.json").read_bytes()
    assert state_dict(BatchedMLP.from_mlp(model)) == state_dict(model)
    # Built alike, the two forms draw the same weights and so write the same file too.
    save(MLP(2, [5, 3], "tanh", 0.1, "sigmoid", rng=random.Random(4)), tmp_path / "a.json")
    save(BatchedMLP(2, [5, 3], "tanh", 0.1, "sigmoid", rng=random.Random(4)), tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_a_saved_batched_model_loads_in_either_form_exactly(tmp_path: Path, model: MLP) -> None:
    fast = BatchedMLP.from_mlp(model)
    fast.layers[1].weight.data[2, 1] = -0.0  # a sign a careless copy would lose
    path = tmp_path / "m.json"
    save(fast, path)
    as_mlp = load(path)
    as_batched = load(path, batched=True)
    assert type(as_mlp) is MLP and type(as_batched) is BatchedMLP
    assert bits(as_mlp) == bits(as_batched) == bits(fast)
    assert architecture(as_mlp) == architecture(as_batched) == architecture(fast)
    assert [layer.activation for layer in as_batched.layers] == ["tanh", "tanh", "sigmoid"]
    for layer in as_batched.layers:
        assert layer.weight.data.dtype == layer.bias.data.dtype == np.float64
    X = np.random.default_rng(1).normal(size=(6, 3))
    assert np.array_equal(as_batched(X).data, fast(X).data)


def test_a_saved_mlp_loads_batched_exactly(tmp_path: Path, model: MLP) -> None:
    path = tmp_path / "m.json"
    save(model, path)
    fast = load(path, batched=True)
    assert isinstance(fast, BatchedMLP)
    assert bits(fast) == bits(model)
    assert architecture(fast) == architecture(model)
    X = np.random.default_rng(2).normal(size=(4, 3))
    want = np.array([[v.data for v in model(list(x))] for x in X])  # type: ignore[union-attr]
    np.testing.assert_allclose(fast(X).data, want, rtol=1e-12, atol=1e-12)


def test_load_batched_leaves_the_global_random_stream_alone(tmp_path: Path, model: MLP) -> None:
    save(model, tmp_path / "m.json")
    random.seed(5)
    expected = random.random()
    random.seed(5)
    load(tmp_path / "m.json", batched=True)
    assert random.random() == expected


def test_state_dict_loads_into_a_batched_model_in_place(model: MLP) -> None:
    other = BatchedMLP(3, [4, 4, 2], activation="tanh", output_activation="sigmoid",
                       rng=random.Random(99))  # fmt: skip
    params_before = other.parameters()
    arrays_before = [p.data for p in params_before]
    assert bits(other) != bits(model)
    load_state_dict(other, state_dict(model))
    assert bits(other) == bits(model)
    # The same Values (an optimizer holding them keeps working), holding new float64 arrays.
    assert all(a is b for a, b in zip(other.parameters(), params_before, strict=True))
    for p, old in zip(other.parameters(), arrays_before, strict=True):
        assert p.data is not old and p.data.dtype == np.float64
    # And back: a batched model's state loads into an MLP's existing Values.
    mlp = make_model(seed=3)
    values = mlp.parameters()
    load_state_dict(mlp, state_dict(other))
    assert bits(mlp) == bits(model)
    assert all(a is b for a, b in zip(mlp.parameters(), values, strict=True))


def test_a_batched_state_dict_is_a_copy(model: MLP) -> None:
    fast = BatchedMLP.from_mlp(model)
    state = state_dict(fast)
    saved = copy.deepcopy(state)
    fast.layers[0].weight.data[0, 0] = 42.0
    fast.layers[0].bias.data = fast.layers[0].bias.data + 1.0
    assert state == saved


def test_load_state_dict_refuses_another_architecture_for_a_batched_model(model: MLP) -> None:
    other = BatchedMLP(3, [4, 2], activation="tanh", output_activation="sigmoid",
                       rng=random.Random(1))  # fmt: skip
    before = bits(other)
    with pytest.raises(ModelFileError, match=r"nouts is \[4, 4, 2\] in the state but \[4, 2\]"):
        load_state_dict(other, state_dict(model))
    assert bits(other) == before


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_weights_of_a_batched_model_are_refused(
    tmp_path: Path, model: MLP, bad: float
) -> None:
    fast = BatchedMLP.from_mlp(model)
    fast.layers[2].bias.data[1] = bad
    with pytest.raises(
        ValueError, match=rf"cannot save the model: layers\[2\]\[1\].b is {bad!r}, and JSON"
    ):
        save(fast, tmp_path / "m.json")
    assert os.listdir(tmp_path) == []


# -- corrupt files and states ------------------------------------------------------------------


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], Any]:
    def mutate(state: dict[str, Any]) -> Any:
        target: Any = state
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return state

    return mutate


def _delete(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], Any]:
    def mutate(state: dict[str, Any]) -> Any:
        target: Any = state
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
        return state

    return mutate


# Faults in weights sit in the last layer, so a loader that assigned as it went would already
# have changed the earlier layers when it hit them.
CORRUPT = [
    ("top-level array", lambda s: [s], r"expected a JSON object \(a micrograd model\) at the top "
     r"level, got an array of 1 items"),
    ("no format", _delete(("format",)), r"no 'format' key: expected 'format': 'micrograd.mlp'"),
    ("wrong format", _set(("format",), "torch.model"),
     r"format is string 'torch.model', expected 'micrograd.mlp'"),
    ("no version", _delete(("version",)), r"no 'version' key: expected 'version': 1"),
    ("newer version", _set(("version",), 2),
     r"version 2 is newer than this micrograd supports \(up to 1\): upgrade micrograd"),
    ("version as string", _set(("version",), "1"),
     r"version must be a positive integer, got string '1'"),
    ("no architecture", _delete(("architecture",)),
     r"the model is missing the key 'architecture': expected keys format, version, "
     r"architecture, layers \(and optionally metadata\)"),
    ("no layers", _delete(("layers",)), r"the model is missing the key 'layers'"),
    ("unknown top key", _set(("weights",), []),
     r"the model has an unexpected key 'weights': expected only format"),
    ("architecture not an object", _set(("architecture",), [3, [4]]),
     r"architecture must be a JSON object with keys nin, nouts, activation, "
     r"output_activation \(and optionally step\), got an array of 2 items"),
    ("no nin", _delete(("architecture", "nin")), r"architecture is missing the key 'nin'"),
    ("nin as string", _set(("architecture", "nin"), "3"),
     r"architecture.nin must be a positive integer, got string '3'"),
    ("nin zero", _set(("architecture", "nin"), 0),
     r"architecture.nin must be a positive integer, got number 0"),
    ("nouts empty", _set(("architecture", "nouts"), []),
     r"architecture.nouts must be a non-empty array of layer sizes, got an array of 0 items"),
    ("nouts float", _set(("architecture", "nouts", 1), 4.0),
     r"architecture.nouts\[1\] must be a positive integer, got number 4.0"),
    ("unknown activation", _set(("architecture", "activation"), "gelu"),
     r"architecture.activation is 'gelu', an unknown activation: expected one of relu, tanh, "
     r"sigmoid, linear"),
    ("null output activation", _set(("architecture", "output_activation"), None),
     r"architecture.output_activation must be a string naming an activation, got null"),
    ("step not finite", _set(("architecture", "step"), math.inf),
     r"architecture.step is inf: expected a finite number"),
    ("layers not an array", _set(("layers",), {}),
     r"layers must be an array of layers, got an object"),
    ("missing layer", lambda s: s["layers"].pop() and s,
     r"layers holds 2 layers but architecture.nouts \[4, 4, 2\] describes 3"),
    ("missing neuron", lambda s: s["layers"][2].pop() and s,
     r"layers\[2\] has 1 neurons, expected 2 \(architecture.nouts\[2\]\)"),
    ("too few weights", lambda s: s["layers"][2][1]["w"].pop() and s,
     r"layers\[2\]\[1\].w has 3 weights, expected 4 \(one per input of layer 2\)"),
    ("too many weights", lambda s: s["layers"][2][1]["w"].append(0.5) or s,
     r"layers\[2\]\[1\].w has 5 weights, expected 4"),
    ("weights not an array", _set(("layers", 2, 1, "w"), 0.5),
     r"layers\[2\]\[1\].w must be an array of weights, got number 0.5"),
    ("weight as string", _set(("layers", 2, 1, "w", 3), "0.5"),
     r"layers\[2\]\[1\].w\[3\] must be a number, got string '0.5'"),
    ("weight as boolean", _set(("layers", 2, 1, "w", 0), True),
     r"layers\[2\]\[1\].w\[0\] must be a number, got boolean true"),
    ("bias null", _set(("layers", 2, 1, "b"), None),
     r"layers\[2\]\[1\].b must be a number, got null"),
    ("bias NaN", _set(("layers", 2, 1, "b"), math.nan),
     r"layers\[2\]\[1\].b is nan: expected a finite number"),
    ("weight infinite", _set(("layers", 2, 0, "w", 2), -math.inf),
     r"layers\[2\]\[0\].w\[2\] is -inf: expected a finite number"),
    ("weight too large", _set(("layers", 2, 0, "w", 2), 10**400),
     r"layers\[2\]\[0\].w\[2\] is an integer too large for a float"),
    ("no bias", _delete(("layers", 2, 1, "b")),
     r"layers\[2\]\[1\] is missing the key 'b': expected keys w, b"),
    ("extra neuron key", _set(("layers", 2, 1, "bias"), 0.0),
     r"layers\[2\]\[1\] has an unexpected key 'bias': expected only w, b"),
    ("neuron not an object", _set(("layers", 2, 1), [0.1, 0.2, 0.3, 0.4, 0.5]),
     r"layers\[2\]\[1\] must be a JSON object with keys w, b, got an array of 5 items"),
    ("metadata not an object", _set(("metadata",), [1, 2]),
     r"metadata must be a JSON object, got an array of 2 items"),
]  # fmt: skip


@pytest.mark.parametrize(("mutate", "match"), [c[1:] for c in CORRUPT], ids=[c[0] for c in CORRUPT])
def test_corrupt_state_is_refused_precisely(
    tmp_path: Path, model: MLP, mutate: Callable[[dict[str, Any]], Any], match: str
) -> None:
    bad = mutate(state_dict(model))

    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    for read in (load, load_metadata, load_state, lambda p: load(p, batched=True)):
        with pytest.raises(ModelFileError, match=rf"^model file '{path}': {match}") as info:
            read(path)
        assert not isinstance(info.value, FileNotFoundError)

    for existing in (make_model(seed=3), BatchedMLP.from_mlp(make_model(seed=3))):
        before = bits(existing)
        with pytest.raises(ModelFileError, match=rf"^state dict: {match}"):
            load_state_dict(existing, bad)
        assert bits(existing) == before


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "bad.json"
    path.write_bytes(data)
    return path


def test_truncated_file(tmp_path: Path, model: MLP) -> None:
    good = tmp_path / "good.json"
    save(model, good)
    text = good.read_bytes()
    for cut in (len(text) // 3, len(text) // 2, len(text) - 3):
        path = _write(tmp_path, text[:cut])
        with pytest.raises(
            ModelFileError,
            match=rf"^model file '{path}': not valid JSON: .* at "
            r"line \d+, column \d+ \(the file ends early: was it truncated\?\)$",
        ):
            load(path)


def test_not_json(tmp_path: Path) -> None:
    path = _write(tmp_path, b'{"format": "micrograd.mlp",\n "version": 1,,\n}')
    with pytest.raises(
        ModelFileError,
        match=r"not valid JSON: Expecting property name enclosed "
        r"in double quotes at line 2, column 15$",
    ):
        load(path)


def test_empty_file(tmp_path: Path) -> None:
    path = _write(tmp_path, b"  \n")
    with pytest.raises(ModelFileError, match=r"the file is empty: expected a JSON model file"):
        load(path)


def test_binary_file(tmp_path: Path) -> None:
    path = _write(tmp_path, b"\x80\x04\x95\x1a\x00\x00\x00")  # what a pickle starts with
    with pytest.raises(
        ModelFileError,
        match=rf"^model file '{path}': not UTF-8 text \(invalid "
        r"start byte at byte 0\): expected a JSON model file",
    ):
        load(path)


def test_duplicate_keys(tmp_path: Path, model: MLP) -> None:
    text = json.dumps(state_dict(model)).replace('"b":', '"b": 0.0, "b":', 1)
    path = _write(tmp_path, text.encode())
    with pytest.raises(ModelFileError, match=r"duplicate key 'b' in a JSON object"):
        load(path)


def test_overflowing_literal(tmp_path: Path, model: MLP) -> None:
    state = state_dict(model)
    state["layers"][1][3]["b"] = 12345.0
    text = json.dumps(state).replace("12345.0", "1e999")
    with pytest.raises(ModelFileError, match=r"layers\[1\]\[3\].b is inf: expected a finite"):
        load(_write(tmp_path, text.encode()))


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.json"
    for read in (load, load_metadata, load_state):
        with pytest.raises(ModelFileNotFoundError, match=rf"^model file '{path}': no such file$"):
            read(path)
    with pytest.raises(FileNotFoundError) as info:
        load(path)
    assert isinstance(info.value, ModelFileError)
    assert info.value.filename == str(path)


# -- writing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_weights_are_refused(tmp_path: Path, model: MLP, bad: float) -> None:
    path = tmp_path / "m.json"
    save(model, path)
    original = path.read_bytes()
    model.layers[1].neurons[2].w[1].data = bad
    with pytest.raises(
        ValueError,
        match=rf"layers\[1\]\[2\].w\[1\] is {bad!r}, and JSON can "
        "only hold finite numbers",
    ):
        save(model, path)
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["m.json"]
    with pytest.raises(ValueError, match=r"cannot save the model: layers\[1\]\[2\].w\[1\]"):
        save(model, tmp_path / "other.json")
    assert os.listdir(tmp_path) == ["m.json"]


@pytest.mark.parametrize("step", [math.nan, None])
def test_a_step_that_cannot_be_read_back_is_refused(tmp_path: Path, model: MLP, step: Any) -> None:
    model.step = step
    with pytest.raises(ValueError, match=r"cannot save the model: architecture.step"):
        save(model, tmp_path / "m.json")
    assert os.listdir(tmp_path) == []


def test_save_leaves_no_temporary_files(tmp_path: Path, model: MLP) -> None:
    path = tmp_path / "m.json"
    save(model, path)
    save(model, path, metadata={"again": True})
    assert os.listdir(tmp_path) == ["m.json"]
    assert load_metadata(path) == {"again": True}


def test_save_overwrites(tmp_path: Path, model: MLP) -> None:
    path = tmp_path / "m.json"
    save(make_model(seed=1), path)
    save(model, path)
    assert bits(load(path)) == bits(model)


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_a_crash_while_saving_keeps_the_old_file(
    tmp_path: Path, model: MLP, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    path = tmp_path / "m.json"
    save(make_model(seed=1), path)
    original = path.read_bytes()

    def crash(*args: Any) -> None:
        raise OSError("simulated crash")

    monkeypatch.setattr(os, failing, crash)
    with pytest.raises(OSError, match="simulated crash"):
        save(model, path)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["m.json"]


def test_save_into_a_missing_folder(tmp_path: Path, model: MLP) -> None:
    with pytest.raises(FileNotFoundError, match=r"the folder '.*missing' does not exist"):
        save(model, tmp_path / "missing" / "m.json")


def test_save_keeps_an_existing_files_permissions(tmp_path: Path, model: MLP) -> None:
    if os.name != "posix":
        pytest.skip("file modes are a POSIX notion")
    path = tmp_path / "m.json"
    save(model, path)
    path.chmod(0o600)
    save(model, path)
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_model_file_names_are_still_importable_from_serialization() -> None:
    """Reading and validation live in `model_file`; users keep importing from `serialization`."""
    from micrograd import model_file, serialization

    for name in ("FORMAT", "VERSION", "MAX_FILE_BYTES", "ModelFileError", "ModelFileNotFoundError"):
        assert getattr(serialization, name) is getattr(model_file, name)
    assert serialization.PathLike == model_file.PathLike
