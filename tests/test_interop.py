"""micrograd.interop and micrograd.onnx_export: models, in either form (MLP or BatchedMLP), move
to PyTorch and back with identical weights, and to ONNX; the copies compute what the original
computes (float64 to 1e-12, float32 ONNX to 1e-6), the torch copy's gradients are ours, and
anything that is not an MLP-shaped stack is refused by name."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import MLP, export_arrays, interop, onnx_export
from micrograd.batched import BatchedMLP, Model, batched, flat_parameters
from micrograd.engine import Value
from micrograd.export_arrays import RangeError
from micrograd.interop import from_torch, save_torch, to_torch, torch_program_bytes
from micrograd.loop import predict, predict_proba
from micrograd.losses import cross_entropy
from micrograd.nn import ACTIVATIONS
from micrograd.onnx_export import INPUT_NAME, OPSET, OUTPUT_NAME, to_onnx, to_onnx_bytes
from micrograd.optional import MissingDependencyError
from micrograd.preprocessing import Standardizer

torch = pytest.importorskip("torch", reason="interop tests need torch (the export extra)")


def ours(model: Model, X: np.ndarray) -> np.ndarray:
    """The model's outputs on a batch, (samples x outputs), through its batched form."""
    out = np.asarray(batched(model)(X).data, dtype=np.float64)
    return out[:, None] if out.ndim == 1 else out


def per_sample(model: MLP, X: np.ndarray) -> np.ndarray:
    """The per-sample MLP's own outputs, one sample at a time, (samples x outputs)."""
    rows = [model(list(x)) for x in X]
    return np.array([[v.data for v in r] if isinstance(r, list) else [r.data] for r in rows])


def theirs(seq: Any, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        out: np.ndarray = seq(torch.from_numpy(X)).numpy()
    return out


def params(model: Model) -> list[float]:
    return flat_parameters(model)


def make(
    nin: int, nouts: list[int], activation: str = "relu", out: str = "linear", seed: int = 0
) -> MLP:
    return MLP(nin, nouts, activation, output_activation=out, rng=random.Random(seed))


def inputs(n: int, d: int, seed: int = 0, scale: float = 2.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, scale, size=(n, d))


# -- to_torch / from_torch --------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    nin=st.integers(1, 6),
    nouts=st.lists(st.integers(1, 6), min_size=1, max_size=4),
    activation=st.sampled_from(tuple(ACTIVATIONS)),
    out=st.sampled_from(tuple(ACTIVATIONS)),
    seed=st.integers(0, 2**16),
)
def test_micrograd_to_torch_to_micrograd_keeps_every_parameter_bit_for_bit(
    nin: int, nouts: list[int], activation: str, out: str, seed: int
) -> None:
    model = make(nin, nouts, activation, out, seed)
    back = from_torch(to_torch(model))
    assert back.nouts == model.nouts and back.nin == model.nin
    assert back.output_activation == out
    if len(nouts) > 1:
        assert back.activation == activation
    for a, b in zip(params(model), params(back), strict=True):
        assert a == b
    X = inputs(5, nin, seed)
    np.testing.assert_array_equal(ours(back, X), ours(model, X))


@pytest.mark.parametrize("activation", tuple(ACTIVATIONS))
@pytest.mark.parametrize("out", tuple(ACTIVATIONS))
@pytest.mark.parametrize("width", [1, 3])
def test_to_torch_outputs_equal_ours_for_every_activation_and_width(
    activation: str, out: str, width: int
) -> None:
    model = make(4, [8, 6, width], activation, out, seed=width)
    seq = to_torch(model)
    assert all(p.dtype == torch.float64 for p in seq.parameters())
    X = inputs(64, 4, seed=1)
    got, want = theirs(seq, X), ours(model, X)
    assert got.shape == want.shape == (64, width)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_to_torch_lays_out_linear_layers_and_activation_modules() -> None:
    seq = to_torch(make(3, [4, 4, 2], "tanh", "sigmoid"))
    kinds = [type(m).__name__ for m in seq]
    assert kinds == ["Linear", "Tanh", "Linear", "Tanh", "Linear", "Sigmoid"]
    model = make(3, [4, 1])
    assert [type(m).__name__ for m in to_torch(model)] == ["Linear", "ReLU", "Linear"]
    neuron = model.layers[0].neurons[2]
    first = to_torch(model)[0]
    assert first.weight[2].tolist() == [w.data for w in neuron.w]
    assert first.bias[2].item() == neuron.b.data


@pytest.mark.parametrize("activation", tuple(ACTIVATIONS))
@pytest.mark.parametrize("width", [1, 3])
def test_to_torch_of_either_form_computes_what_that_form_computes(
    activation: str, width: int
) -> None:
    mlp = make(3, [5, 4, width], activation, "tanh", seed=20 + width)
    fast = BatchedMLP.from_mlp(mlp)
    X = inputs(16, 3, seed=21)
    from_mlp, from_batched = to_torch(mlp), to_torch(fast)
    for a, b in zip(
        from_mlp.state_dict().values(), from_batched.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)  # the very same weights, whichever form they came from
    np.testing.assert_allclose(theirs(from_mlp, X), per_sample(mlp, X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(theirs(from_batched, X), ours(fast, X), rtol=1e-12, atol=1e-12)


def test_a_batched_model_built_directly_exports() -> None:
    fast = BatchedMLP(4, [6, 2], "sigmoid", rng=random.Random(22))
    X = inputs(12, 4, seed=23)
    np.testing.assert_allclose(theirs(to_torch(fast), X), ours(fast, X), rtol=1e-12, atol=1e-12)
    back = from_torch(to_torch(fast))
    assert isinstance(back, MLP)
    assert params(back) == params(fast)
    assert params(BatchedMLP.from_mlp(back)) == params(fast)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("form", ["per-sample", "batched"])
def test_gradients_of_the_torch_copy_equal_ours(activation: str, form: str) -> None:
    mlp = make(5, [7, 7, 4], activation, seed=3)
    X, y = inputs(32, 5, seed=4), np.random.default_rng(5).integers(0, 4, size=32)
    seq = to_torch(mlp)
    if form == "batched":
        fast = BatchedMLP.from_mlp(mlp)
        loss = cross_entropy(fast(X), y)
        loss.backward()
        g = [
            x
            for layer in fast.layers
            for x in np.hstack([layer.weight.grad, layer.bias.grad[:, None]]).ravel().tolist()
        ]
    else:
        loss = cross_entropy([mlp(list(x)) for x in X], y)
        loss.backward()
        g = [p.grad for p in mlp.parameters()]
    t_loss = torch.nn.functional.cross_entropy(seq(torch.from_numpy(X)), torch.from_numpy(y))
    t_loss.backward()
    assert abs(t_loss.item() - float(loss.data)) <= 1e-12
    t_grads: list[float] = []
    for layer in seq:
        if isinstance(layer, torch.nn.Linear):
            for row, bias in zip(layer.weight.grad, layer.bias.grad, strict=True):
                t_grads += [*row.tolist(), bias.item()]
    np.testing.assert_allclose(t_grads, g, rtol=1e-10, atol=1e-12)


def test_to_torch_folds_a_standardizer_into_the_first_layer() -> None:
    raw = inputs(50, 3, seed=6) * [1.0, 100.0, 0.01] + [5.0, -300.0, 0.2]
    scaler = Standardizer.from_data(raw)
    model = make(3, [6, 2], "tanh", seed=7)
    seq = to_torch(model, scaler)
    np.testing.assert_allclose(
        theirs(seq, raw), ours(model, scaler.transform(raw)), rtol=1e-10, atol=1e-10
    )
    with pytest.raises(ValueError, match=r"standardizer has 2 features but the model takes 3"):
        to_torch(model, Standardizer.from_data(raw[:, :2]))


def test_from_torch_reads_identity_missing_bias_and_float32_layers() -> None:
    seq = torch.nn.Sequential(
        torch.nn.Linear(3, 4),
        torch.nn.Sigmoid(),
        torch.nn.Identity(),
        torch.nn.Linear(4, 2, bias=False),
        torch.nn.Identity(),
    )
    model = from_torch(seq)
    assert (model.nouts, model.activation, model.output_activation) == ([4, 2], "sigmoid", "linear")
    assert all(n.b.data == 0.0 for n in model.layers[1].neurons)
    X = inputs(10, 3, seed=8).astype(np.float32)
    with torch.no_grad():
        want = seq(torch.from_numpy(X)).double().numpy()
    np.testing.assert_allclose(ours(model, X.astype(np.float64)), want, rtol=1e-5, atol=1e-6)


def test_from_torch_keeps_the_global_random_stream() -> None:
    random.seed(11)
    expected = random.random()
    random.seed(11)
    from_torch(torch.nn.Sequential(torch.nn.Linear(2, 3)))
    assert random.random() == expected


@pytest.mark.parametrize(
    ("modules", "message"),
    [
        (
            lambda: [torch.nn.Linear(2, 3), torch.nn.Dropout(), torch.nn.Linear(3, 1)],
            r"module 1 \(Dropout\) is not supported",
        ),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.GELU()], r"module 1 \(GELU\) is not supported"),
        (
            lambda: [torch.nn.ReLU(), torch.nn.Linear(2, 3)],
            r"module 0 \(ReLU\) comes before the first Linear",
        ),
        (
            lambda: [torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Tanh()],
            r"module 2 \(Tanh\) follows another activation",
        ),
        (
            lambda: [
                torch.nn.Linear(2, 3),
                torch.nn.ReLU(),
                torch.nn.Linear(3, 3),
                torch.nn.Tanh(),
                torch.nn.Linear(3, 1),
            ],
            "hidden layers share one activation.*layer 0: relu, layer 1: tanh",
        ),
        (
            lambda: [torch.nn.Linear(2, 3), torch.nn.Linear(4, 1)],
            r"module 1 \(Linear\) takes 4 inputs, but the Linear before it gives 3",
        ),
        (
            lambda: [torch.nn.Linear(2, 3), torch.nn.Sequential(torch.nn.Linear(3, 1))],
            r"module 1 \(Sequential\) is not supported",
        ),
        (lambda: [], "holds no Linear layer"),
    ],
)
def test_from_torch_refuses_other_stacks_naming_the_module(modules: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_torch(torch.nn.Sequential(*modules()))


def test_from_torch_refuses_non_sequentials_and_non_finite_weights() -> None:
    with pytest.raises(TypeError, match=r"expects a torch\.nn\.Sequential, got Linear"):
        from_torch(torch.nn.Linear(2, 1))
    seq = torch.nn.Sequential(torch.nn.Linear(2, 1))
    with torch.no_grad():
        seq[0].weight[0, 1] = float("nan")
    with pytest.raises(ValueError, match=r"from_torch: .*layers\[0\]\[0\]\.w\[1\]"):
        from_torch(seq)
    with pytest.raises(TypeError, match="expects a micrograd MLP or BatchedMLP, got Sequential"):
        to_torch(seq)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_save_torch_writes_a_program_torch_loads_without_micrograd(
    tmp_path: Path, dtype: str
) -> None:
    raw = inputs(20, 3, seed=12) * 10.0 + 3.0
    scaler = Standardizer.from_data(raw)
    model = make(3, [5, 2], "sigmoid", seed=13)
    path = tmp_path / "model.pt2"
    save_torch(model, path, dtype=dtype, scaler=scaler)
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt2"]
    program = torch.export.load(path).module()
    want = ours(model, scaler.transform(raw))
    for rows in (raw, raw[:1]):  # any batch size, one included
        with torch.no_grad():
            got = program(torch.from_numpy(rows).to(getattr(torch, dtype))).double().numpy()
        tol = 1e-10 if dtype == "float64" else 1e-5
        np.testing.assert_allclose(got, want[: len(rows)], rtol=tol, atol=tol)
    with pytest.raises(ValueError, match="dtype must be one of float32, float64"):
        save_torch(model, path, dtype="half")


def test_save_torch_takes_a_batched_model(tmp_path: Path) -> None:
    fast = BatchedMLP(3, [5, 1], "tanh", rng=random.Random(14))
    save_torch(fast, tmp_path / "fast.pt2")
    program = torch.export.load(tmp_path / "fast.pt2").module()
    X = inputs(9, 3, seed=15)
    with torch.no_grad():
        got = program(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(got, ours(fast, X), rtol=1e-12, atol=1e-12)


# -- ONNX ------------------------------------------------------------------------------------


def onnx_run(data: bytes, X: np.ndarray) -> np.ndarray:
    ort = pytest.importorskip("onnxruntime", reason="needs onnxruntime (the export extra)")
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    out: np.ndarray = session.run([OUTPUT_NAME], {INPUT_NAME: X})[0]
    return out


@pytest.mark.parametrize("activation", tuple(ACTIVATIONS))
@pytest.mark.parametrize("out", ["linear", "sigmoid"])
@pytest.mark.parametrize("width", [1, 4])
def test_onnx_outputs_through_onnxruntime_equal_ours(activation: str, out: str, width: int) -> None:
    pytest.importorskip("onnx", reason="needs onnx (the export extra)")
    model = make(6, [10, 8, width], activation, out, seed=width)
    X = inputs(40, 6, seed=2)
    want = ours(model, X)
    got64 = onnx_run(to_onnx_bytes(model, dtype="float64"), X)
    assert got64.dtype == np.float64 and got64.shape == want.shape == (40, width)
    np.testing.assert_allclose(got64, want, rtol=1e-12, atol=1e-12)
    # float32: the same inputs, rounded to float32 on both sides; the weights' rounding and
    # float32 arithmetic then stay within 1e-6 of the outputs' scale.
    X32 = X.astype(np.float32)
    got32 = onnx_run(to_onnx_bytes(model), X32)
    assert got32.dtype == np.float32
    want32 = ours(model, X32.astype(np.float64))
    scale = max(1.0, float(np.abs(want32).max()))
    np.testing.assert_allclose(got32, want32, rtol=0, atol=1e-6 * scale)


def test_onnx_file_states_opset_names_and_symbolic_batch(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx", reason="needs onnx (the export extra)")
    path = tmp_path / "model.onnx"
    to_onnx(make(3, [5, 2]), path)
    model = onnx.load(path)
    onnx.checker.check_model(model)
    assert [(o.domain, o.version) for o in model.opset_import] == [("", OPSET)]
    (inp,), (out,) = model.graph.input, model.graph.output
    assert inp.name == INPUT_NAME and out.name == OUTPUT_NAME

    def dims(v: Any) -> list[Any]:
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]

    assert dims(inp) == ["batch", 3] and dims(out) == ["batch", 2]
    assert [n.op_type for n in model.graph.node] == ["MatMul", "Add", "Relu", "MatMul", "Add"]
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_onnx_with_a_standardizer_reads_raw_features() -> None:
    pytest.importorskip("onnx", reason="needs onnx (the export extra)")
    raw = inputs(30, 4, seed=9) * 50.0 + 7.0
    scaler = Standardizer.from_data(raw)
    model = make(4, [6, 3], "tanh", seed=10)
    want = ours(model, scaler.transform(raw))
    got = onnx_run(to_onnx_bytes(model, dtype="float64", scaler=scaler), raw)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_onnx_of_either_form_is_the_same_graph() -> None:
    pytest.importorskip("onnx", reason="needs onnx (the export extra)")
    mlp = make(4, [6, 3], "sigmoid", "tanh", seed=16)
    fast = BatchedMLP.from_mlp(mlp)
    for dtype in ("float32", "float64"):
        assert to_onnx_bytes(fast, dtype=dtype) == to_onnx_bytes(mlp, dtype=dtype)
    X = inputs(20, 4, seed=17)
    got = onnx_run(to_onnx_bytes(fast, dtype="float64"), X)
    np.testing.assert_allclose(got, per_sample(mlp, X), rtol=1e-12, atol=1e-12)


def test_onnx_refuses_bad_dtypes_and_models() -> None:
    with pytest.raises(ValueError, match="dtype must be one of float32, float64, got 'float16'"):
        to_onnx_bytes(make(2, [1]), dtype="float16")
    with pytest.raises(TypeError, match="expects a micrograd MLP or BatchedMLP, got str"):
        to_onnx_bytes("model.json")  # type: ignore[arg-type]


def test_a_missing_optional_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingDependencyError, match=r'to_onnx needs onnx.*"micrograd\[export\]"'):
        to_onnx_bytes(make(2, [1]))
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r'to_torch needs torch.*pip install "micrograd\[export'):
        to_torch(make(2, [1]))


def test_values_stay_untouched_by_export() -> None:
    model = make(3, [4, 2])
    before = params(model)
    to_torch(model)
    to_onnx_bytes(model)
    assert params(model) == before
    assert all(isinstance(p, Value) for p in model.parameters())
    fast = BatchedMLP.from_mlp(model)
    arrays = [p.data for p in fast.parameters()]
    seq = to_torch(fast)
    to_onnx_bytes(fast)
    with torch.no_grad():
        seq[0].weight[0, 0] = 123.0  # the torch copy shares no memory with the model
    assert params(fast) == before
    assert all(p.data is a for p, a in zip(fast.parameters(), arrays, strict=True))


@pytest.mark.parametrize(
    ("task", "nout", "loss", "classes", "outputs"),
    [
        ("multiclass", 3, "cross_entropy", [2, 5, 7], ["output", "label", "probabilities"]),
        ("binary", 1, "bce", [-1, 1], ["output", "label", "probabilities"]),
        ("binary", 1, "hinge", [0.5, 1.5], ["output", "label"]),
        ("multiclass", 3, None, None, ["output", "label"]),
        ("regression", 1, "mse", None, ["output"]),
    ],
)
def test_onnx_label_and_probabilities_are_predicts(
    task: str, nout: int, loss: str | None, classes: list[float] | None, outputs: list[str]
) -> None:
    ort = pytest.importorskip("onnxruntime", reason="needs onnxruntime (the export extra)")
    model = make(4, [6, nout], "tanh", seed=nout)
    data = to_onnx_bytes(model, dtype="float64", task=task, classes=classes, loss=loss)
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == outputs
    X = inputs(200, 4, seed=3) * 3
    got = dict(zip(outputs, session.run(None, {INPUT_NAME: X}), strict=True))
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["task"] == task
    if task == "regression":
        return
    labels = classes if classes is not None else list(range(nout))
    assert got["label"].tolist() == [labels[k] for k in predict(model, X, task).tolist()]
    assert got["label"].dtype == (np.float64 if labels == [0.5, 1.5] else np.int64)
    assert meta["classes"] == str(labels).replace("'", '"')
    if "probabilities" in got:
        want = predict_proba(model, X, task, str(loss))
        np.testing.assert_allclose(got["probabilities"], want, rtol=0, atol=1e-14)
    else:
        assert meta["probabilities"].startswith("none: ")


def test_onnx_refuses_a_task_that_does_not_fit_the_model() -> None:
    pytest.importorskip("onnx", reason="needs onnx (the export extra)")
    with pytest.raises(ValueError, match="a binary model has 1 output"):
        to_onnx_bytes(make(2, [3]), task="binary")
    with pytest.raises(ValueError, match="classes must hold 3 entries, got 2"):
        to_onnx_bytes(make(2, [3]), task="multiclass", classes=[1, 2])
    with pytest.raises(ValueError, match="task must be one of"):
        to_onnx_bytes(make(2, [3]), task="ranking")


def test_weights_beyond_the_number_type_raise_range_error() -> None:
    pytest.importorskip("onnx", reason="needs onnx (the export extra)")
    model = make(3, [4, 2], "tanh")
    model.layers[0].neurons[1].w[2].data = -1e300
    with pytest.raises(RangeError, match=r"layers.0.weight_t reaches 1e\+300, beyond float32"):
        to_onnx_bytes(model)
    with pytest.raises(RangeError, match=r"layers.0.weight reaches 1e\+300, beyond float32"):
        torch_program_bytes(model, dtype="float32")
    to_onnx_bytes(model, dtype="float64")  # float64 holds it
    # folding the standardisation into the first layer divides by the scale: float64 overflows
    scaler = Standardizer(np.zeros(3), np.full(3, 1e-10))
    with pytest.raises(RangeError, match=r"to_torch: layers.0.weight reaches inf, beyond float64"):
        to_torch(model, scaler)


def test_interop_still_offers_the_onnx_export_and_its_checks() -> None:
    # The README documents micrograd.interop.to_onnx: the split into modules keeps it there.
    for name in onnx_export.__all__:
        assert getattr(interop, name) is getattr(onnx_export, name)
    for name in ("DTYPES", "RangeError"):
        assert getattr(interop, name) is getattr(export_arrays, name)
    assert set(interop.__all__) >= set(onnx_export.__all__)
