"""What `micrograd export` gives beyond the raw scores, through the installed command: the ONNX
file's `label` and `probabilities` outputs (sklearn-onnx's names) agree with micrograd's
`predict` on every digit, probabilities appear only where the loss makes them meaningful, and
the class names travel in the file's metadata. An existing file is replaced only with `--force`,
and a model whose outputs overflow is refused in one line, leaving no file behind (issue 27,
items 3 and 4; issue 26, defect 14)."""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_helpers import assert_error, installed, one_error

from micrograd import MLP, cli
from micrograd.data import load_dataset
from micrograd.loop import predict, predict_proba
from micrograd.preprocessing import Standardizer
from micrograd.serialization import load, load_metadata, save

pytest.importorskip("onnx", reason="export needs onnx (the export extra)")
ort = pytest.importorskip("onnxruntime", reason="export needs onnxruntime (the export extra)")


def micrograd(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    """The installed command."""
    return installed([*map(str, argv)], Path.cwd())


def session(path: Path) -> Any:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def train(folder: Path, *argv: str) -> Path:
    assert cli.main(["train", *argv, "--out", str(folder), "--quiet", "--no-plots"]) == 0
    return folder / "model.json"


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("sklearn", reason="the digits need scikit-learn (the datasets extra)")
    folder = tmp_path_factory.mktemp("digits") / "run"
    return train(
        folder,
        *("--dataset", "digits", "--layers", "16,10", "--optimizer", "adam", "--lr", "0.01"),
        *("--epochs", "4", "--batch-size", "64", "--test", "0.2"),
    )


def micrograd_reading(model_path: Path, X: np.ndarray) -> tuple[list[Any], np.ndarray | None]:
    """(labels, probabilities) as micrograd gives them for the raw samples X."""
    meta = load_metadata(model_path)
    model = load(model_path, batched=True)
    if meta.get("standardize"):
        X = Standardizer.from_dict(meta["standardize"]).transform(X)
    classes = meta["classes"] or list(range(meta["n_classes"]))
    labels = [classes[k] for k in predict(model, X, meta["task"]).tolist()]
    return labels, predict_proba(model, X, meta["task"], meta["loss"])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_onnx_label_and_probabilities_match_predict_on_every_digit(
    digits_model: Path, tmp_path: Path, dtype: str
) -> None:
    target = tmp_path / "digits.onnx"
    done = micrograd("export", digits_model, "--format", "onnx", "--dtype", dtype,
                     "--output", target)  # fmt: skip
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    assert "'label'" in said and "'probabilities'" in said
    ds = load_dataset("digits")
    X = ds.X
    assert len(X) == 1797
    s = session(target)
    assert [o.name for o in s.get_outputs()] == ["output", "label", "probabilities"]
    scores, labels, probs = s.run(None, {"input": X.astype(dtype)})
    assert scores.shape == (1797, 10) and labels.dtype == np.int64 and labels.shape == (1797,)
    want_labels, want_probs = micrograd_reading(digits_model, X)
    assert want_probs is not None
    # every digit, float32 too: this model's closest call is a 2e-3 gap between two scores,
    # far above float32's rounding of them (~1e-5)
    assert labels.tolist() == want_labels
    np.testing.assert_allclose(probs, want_probs, atol=1e-5 if dtype == "float32" else 1e-12)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # and `micrograd predict`, the command, gives the same classes
    with (tmp_path / "digits.csv").open("w", newline="") as f:
        csv.writer(f).writerows([*row, y] for row, y in zip(X.tolist(), ds.y.tolist(), strict=True))
    pred = tmp_path / "pred.csv"
    done = micrograd("predict", "--model", digits_model, "--csv", tmp_path / "digits.csv",
                     "--format", "csv", "--output", pred)  # fmt: skip
    assert done.returncode == 0, done.stderr
    with pred.open() as f:
        shown = [int(row["class"]) for row in csv.DictReader(f)]
    assert shown == labels.tolist()
    meta = s.get_modelmeta().custom_metadata_map
    assert json.loads(meta["classes"]) == list(range(10))
    assert json.loads(meta["class_names"]) == [str(k) for k in range(10)]
    assert meta["task"] == "multiclass" and meta["loss"] == "cross_entropy"


def test_onnx_file_with_labels_passes_the_full_check(digits_model: Path, tmp_path: Path) -> None:
    import onnx

    target = tmp_path / "m.onnx"
    assert micrograd("export", digits_model, "--format", "onnx", "--output", target).returncode == 0
    model = onnx.load(target)
    onnx.checker.check_model(model, full_check=True)
    assert [o.version for o in model.opset_import] == [17]


@pytest.mark.parametrize("loss", ["hinge", "bce"])
def test_binary_exports_a_label_and_probabilities_only_for_a_log_loss(
    tmp_path: Path, loss: str
) -> None:
    model_path = train(tmp_path / "run", "--dataset", "moons", "--layers", "8,1", "--loss", loss,
                       "--epochs", "20", "--data-seed", "3")  # fmt: skip
    target = tmp_path / "m.onnx"
    done = micrograd("export", model_path, "--format", "onnx", "--dtype", "float64",
                     "--output", target)  # fmt: skip
    assert done.returncode == 0, done.stderr
    s = session(target)
    X = np.random.default_rng(1).normal(size=(300, 2)) * 1.5
    got = dict(zip([o.name for o in s.get_outputs()], s.run(None, {"input": X}), strict=True))
    want_labels, want_probs = micrograd_reading(model_path, X)
    assert got["label"].tolist() == want_labels
    meta = s.get_modelmeta().custom_metadata_map
    if loss == "hinge":
        assert list(got) == ["output", "label"] and want_probs is None
        assert "hinge" in meta["probabilities"]
    else:
        assert list(got) == ["output", "label", "probabilities"] and want_probs is not None
        assert got["probabilities"].shape == (300, 2)
        np.testing.assert_allclose(got["probabilities"], want_probs, atol=1e-12)


def test_a_regression_model_exports_its_values_only(tmp_path: Path) -> None:
    model_path = train(tmp_path / "run", "--dataset", "regression_1d", "--layers", "8,1",
                       "--optimizer", "adam", "--epochs", "5")  # fmt: skip
    target = tmp_path / "m.onnx"
    assert micrograd("export", model_path, "--format", "onnx", "--output", target).returncode == 0
    assert [o.name for o in session(target).get_outputs()] == ["output"]


def test_export_replaces_an_existing_file_only_with_force(tmp_path: Path) -> None:
    fmt, name = "onnx", "model.onnx"  # the target is checked before the format matters
    save(MLP(3, [4, 1]), tmp_path / "model.json")
    old = tmp_path / name
    old.write_bytes(b"precious")
    one_error(micrograd("export", tmp_path / "model.json", "--format", fmt), name, "--force")
    assert old.read_bytes() == b"precious"
    other = tmp_path / f"other{old.suffix}"
    other.write_bytes(b"precious")
    one_error(
        micrograd("export", tmp_path / "model.json", "--format", fmt, "--output", other),
        other.name,
        "--force",
    )
    assert other.read_bytes() == b"precious"
    done = micrograd("export", tmp_path / "model.json", "--format", fmt, "--force")
    assert done.returncode == 0, done.stderr
    assert old.read_bytes() != b"precious" and "replacing" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["model.json", name, other.name])


def huge(path: Path, weight: float, activation: str, layers: tuple[int, ...]) -> Path:
    """A saved 3-4-2 classifier whose first neuron in each of `layers` has `weight` as w[0]."""
    model = MLP(3, [4, 2], activation)
    for layer in layers:
        model.layers[layer].neurons[0].w[0].data = weight
    save(model, path, metadata={"task": "multiclass", "n_classes": 2, "loss": "cross_entropy"})
    return path


@pytest.mark.parametrize("fmt", ["onnx", "torch"])
def test_a_model_whose_outputs_overflow_is_refused_and_leaves_no_file(
    tmp_path: Path, fmt: str
) -> None:
    # 1e308 twice along a ReLU path: micrograd's own outputs overflow float64 on usual inputs
    model_path = huge(tmp_path / "big.json", 1e308, "relu", (0, 1))
    done = micrograd("export", model_path, "--format", fmt, "--dtype", "float64")
    one_error(done, "big.json", "overflow", "float64")
    assert "bug" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.json"]


def test_weights_beyond_float32_are_refused_for_a_float32_export(tmp_path: Path) -> None:
    # 1e308 before a tanh: micrograd's outputs stay finite, but float32 cannot hold the weight
    model_path = huge(tmp_path / "big.json", 1e308, "tanh", (0,))
    for fmt in ("onnx", "torch"):
        done = micrograd("export", model_path, "--format", fmt, "--dtype", "float32")
        one_error(done, "big.json", "float32", "--dtype float64")
        assert "bug" not in done.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["big.json"]
    done = micrograd("export", model_path, "--format", "onnx", "--dtype", "float64")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "big.onnx").is_file()


def test_force_replaces_only_a_regular_file_and_a_refused_export_keeps_the_old_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save(MLP(3, [4, 1]), tmp_path / "model.json")
    fifo = tmp_path / "pipe.onnx"
    os.mkfifo(fifo)
    argv = ["export", str(tmp_path / "model.json"), "--format", "onnx", "--force"]
    assert_error([*argv, "--output", str(fifo)], capsys, "pipe.onnx", "not a regular file")
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    big = huge(tmp_path / "big.json", 1e308, "relu", (0, 1))
    old = tmp_path / "big.onnx"
    old.write_bytes(b"the previous export")
    assert_error([*argv[:1], str(big), *argv[2:]], capsys, "big.json", "overflow float64")
    assert old.read_bytes() == b"the previous export"


def test_a_network_that_overflows_float32_inside_is_refused(tmp_path: Path) -> None:
    # every weight fits float32 and the outputs stay near 1e9, but a hidden ReLU reaches ~1e39
    model = MLP(3, [4, 2], "relu")
    model.layers[0].neurons[0].w[0].data = 3e38
    for neuron in model.layers[1].neurons:
        neuron.w[0].data = 1e-30
    save(model, tmp_path / "inner.json", metadata={"task": "multiclass", "n_classes": 2})
    done = micrograd("export", tmp_path / "inner.json", "--format", "onnx")
    one_error(done, "inner.json", "overflows float32 inside", "--dtype float64")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inner.json"]
