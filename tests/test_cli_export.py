"""`micrograd export` and the real datasets at the command line: a digits run writes its
confusion matrix and misclassified digits and saves its standardisation, `predict` applies it,
and the ONNX or PyTorch export of the run gives the same predictions on raw features; every bad
input is one line on stderr with exit status 2 and leaves no file behind, the missing `export`
extra included (those tests run whether or not it is installed)."""

from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_helpers import (  # the command's own checkers: one line, exit status 2
    assert_error,
    error_line,
    run_without,
)

from micrograd import MLP, cli
from micrograd.batched import BatchedMLP
from micrograd.data import load_dataset
from micrograd.serialization import load, load_metadata, save

Capsys = pytest.CaptureFixture[str]


def _installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


# Most tests need the extras; the ones about a missing extra, or about bad input refused before
# anything is exported, run without them.
needs_datasets = pytest.mark.skipif(
    not _installed("sklearn"), reason="the real datasets need scikit-learn (the datasets extra)"
)
needs_export = pytest.mark.skipif(
    not _installed("onnx", "onnxruntime", "torch"),
    reason="export needs onnx, onnxruntime and torch (the export extra)",
)


def onnxruntime() -> Any:
    return pytest.importorskip("onnxruntime", reason="needs onnxruntime (the export extra)")


DIGITS = [
    "train",
    "--dataset",
    "digits",
    "--activation",
    "tanh",
    "--layers",
    "32,10",
    "--optimizer",
    "adam",
    "--lr",
    "0.01",
    "--schedule",
    "cosine",
    "--batch-size",
    "32",
    "--l2",
    "0.001",
    "--val",
    "0.1",
    "--test",
    "0.2",
]


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short digits run (5 epochs: what matters here is the files, not the accuracy)."""
    pytest.importorskip("sklearn", reason="the digits need scikit-learn (the datasets extra)")
    out = tmp_path_factory.mktemp("digits")
    assert cli.main([*DIGITS, "--epochs", "5", "--out", str(out), "--quiet"]) == 0
    return out


def test_a_digits_run_draws_its_mistakes_and_saves_its_standardisation(digits_run: Path) -> None:
    names = sorted(p.name for p in digits_run.iterdir())
    assert names == [
        "confusion_matrix.png",
        "curves.png",
        "misclassified.png",
        "model.json",
        "run.json",
    ]
    meta = load_metadata(digits_run / "model.json")
    assert meta["dataset"] == "digits" and meta["class_names"] == [str(k) for k in range(10)]
    assert len(meta["standardize"]["mean"]) == len(meta["standardize"]["scale"]) == 64


def write_digits_csv(path: Path, rows: slice) -> tuple[np.ndarray, np.ndarray]:
    ds = load_dataset("digits")
    X, y = ds.X[rows], ds.y[rows]
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        for row, label in zip(X.tolist(), y.tolist(), strict=True):
            writer.writerow([*row, label])
    return X, y


def test_predict_standardises_raw_features_as_training_did(
    digits_run: Path, tmp_path: Path, capsys: Capsys
) -> None:
    X, y = write_digits_csv(tmp_path / "digits.csv", slice(0, 200))
    model_path = digits_run / "model.json"
    out = tmp_path / "pred.csv"
    assert (
        cli.main(
            [
                "predict",
                "--model",
                str(model_path),
                "--csv",
                str(tmp_path / "digits.csv"),
                "--output",
                str(out),
            ]
        )
        == 0
    )
    assert "accuracy" in capsys.readouterr().out
    with out.open() as f:
        predicted = [int(row["class"]) for row in csv.DictReader(f)]
    meta = load_metadata(model_path)
    mean, scale = (np.array(meta["standardize"][k]) for k in ("mean", "scale"))
    model = load(model_path, batched=True)
    want = np.asarray(model((X - mean) / scale).data).argmax(axis=1)
    assert predicted == want.tolist()
    assert np.mean(want == y) > 0.8  # the raw pixels, standardised, are what it learned from


@needs_export
def test_onnx_export_runs_in_onnxruntime_with_the_same_predictions(
    digits_run: Path, tmp_path: Path, capsys: Capsys
) -> None:
    X, _ = write_digits_csv(tmp_path / "digits.csv", slice(0, 300))
    target = tmp_path / "digits.onnx"
    assert (
        cli.main(
            ["export", str(digits_run / "model.json"), "--format", "onnx", "--output", str(target)]
        )
        == 0
    )
    out = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert "ONNX opset 17, float32" in out and "checked: onnxruntime" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits.csv", "digits.onnx"]
    session = onnxruntime().InferenceSession(str(target), providers=["CPUExecutionProvider"])
    scores = session.run(["output"], {"input": X.astype(np.float32)})[0]
    pred = tmp_path / "pred.csv"
    assert (
        cli.main(
            [
                "predict",
                "--model",
                str(digits_run / "model.json"),
                "--csv",
                str(tmp_path / "digits.csv"),
                "--output",
                str(pred),
                "--format",
                "csv",
            ]
        )
        == 0
    )
    with pred.open() as f:
        predicted = [int(row["class"]) for row in csv.DictReader(f)]
    assert scores.argmax(axis=1).tolist() == predicted


@needs_export
def test_onnx_export_in_float64_and_the_default_path(tmp_path: Path, digits_run: Path) -> None:
    model_path = tmp_path / "model.json"
    shutil.copy(digits_run / "model.json", model_path)
    assert (
        cli.main(["export", str(model_path), "--format", "onnx", "--dtype", "float64", "--quiet"])
        == 0
    )
    session = onnxruntime().InferenceSession(
        str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    X = load_dataset("digits").X[:50]
    meta = load_metadata(model_path)
    mean, scale = (np.array(meta["standardize"][k]) for k in ("mean", "scale"))
    want = np.asarray(load(model_path, batched=True)((X - mean) / scale).data)
    got = session.run(["output"], {"input": X})[0]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@needs_export
def test_torch_export_loads_in_pytorch_alone(
    digits_run: Path, tmp_path: Path, capsys: Capsys
) -> None:
    target = tmp_path / "digits.pt2"
    assert (
        cli.main(
            ["export", str(digits_run / "model.json"), "--format", "torch", "--output", str(target)]
        )
        == 0
    )
    assert "checked: PyTorch" in " ".join(capsys.readouterr().out.split())
    X = load_dataset("digits").X[:40]
    code = (
        "import sys, numpy as np, torch; m = torch.export.load(sys.argv[1]).module(); "
        "x = torch.from_numpy(np.load(sys.argv[2])); print(m(x).argmax(1).tolist())"
    )
    np.save(tmp_path / "x.npy", X)
    done = subprocess.run(
        [sys.executable, "-c", code, str(target), str(tmp_path / "x.npy")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    meta = load_metadata(digits_run / "model.json")
    mean, scale = (np.array(meta["standardize"][k]) for k in ("mean", "scale"))
    model = load(digits_run / "model.json", batched=True)
    want = np.asarray(model((X - mean) / scale).data).argmax(axis=1)
    assert done.stdout.strip() == str(want.tolist())


@needs_export
def test_export_of_a_model_saved_without_metadata(tmp_path: Path, capsys: Capsys) -> None:
    save(MLP(3, [4, 1]), tmp_path / "m.json")
    assert cli.main(["export", str(tmp_path / "m.json"), "--format", "onnx"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "standardised" not in out and "(batch, 3)" in out
    assert "checked: onnxruntime" in out
    assert (tmp_path / "m.onnx").is_file()


@needs_export
@pytest.mark.parametrize("fmt", ["onnx", "torch"])
def test_export_of_a_model_saved_in_batched_form(tmp_path: Path, capsys: Capsys, fmt: str) -> None:
    save(BatchedMLP(2, [6, 3], "tanh"), tmp_path / "m.json", metadata={"task": "multiclass"})
    assert cli.main(["export", str(tmp_path / "m.json"), "--format", fmt]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "the 2-6-3 network" in out and "checked:" in out and "not checked" not in out


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["export", "{d}/missing.json", "--format", "onnx"], ["missing.json", "no such file"]),
        (["export", "{d}", "--format", "onnx"], ["is a folder"]),
        (["export", "{d}/model.json", "--format", "onnx", "--output", "{d}"], ["is a folder"]),
        (
            ["export", "{d}/model.json", "--format", "onnx", "--output", "{d}/model.json"],
            ["is the model file itself"],
        ),
        (
            ["export", "{d}/model.json", "--format", "torch", "--output", "{d}/x.onnx"],
            [".onnx", "--format torch writes a .pt2 file"],
        ),
        (
            ["export", "{d}/model.json", "--format", "onnx", "--output", "{d}/no/x.onnx"],
            ["the folder", "does not exist"],
        ),
        (["export", "{d}/model.json", "--format", "keras"], ["invalid choice: 'keras'"]),
        (["export", "{d}/model.json"], ["--format"]),
        (
            ["export", "{d}/model.json", "--format", "onnx", "--dtype", "float16"],
            ["invalid choice: 'float16'"],
        ),
        (["export", "{d}/model.json", "--form", "onnx"], ["--form"]),
        (["export", "{d}/broken.json", "--format", "onnx"], ["broken.json", "not valid JSON"]),
        (["export", "{d}/badscale.json", "--format", "onnx"], ["standardize"]),
    ],
)
def test_export_errors_are_one_line_and_write_nothing(
    tmp_path: Path, capsys: Capsys, argv: list[str], needles: list[str]
) -> None:
    save(MLP(3, [4, 1]), tmp_path / "model.json")
    (tmp_path / "broken.json").write_text('{"format": "micrograd.mlp",')
    save(
        MLP(3, [4, 1]),
        tmp_path / "badscale.json",
        metadata={"standardize": {"mean": [0.0, 1.0], "scale": [1.0, 1.0]}},
    )
    before = sorted(p.name for p in tmp_path.iterdir())
    assert_error([a.format(d=tmp_path) for a in argv], capsys, *needles)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_model_named_like_its_export_is_told_apart_from_its_default_output(
    tmp_path: Path, capsys: Capsys
) -> None:
    """A model file named m.onnx is its own default output: the error named an --output that was
    not given, and advised the very same path."""
    save(MLP(3, [4, 1]), tmp_path / "m.onnx")
    err = assert_error(
        ["export", str(tmp_path / "m.onnx"), "--format", "onnx"],
        capsys,
        "the default output",
        "is the model file itself",
        f"--output {tmp_path / 'm-export.onnx'}",
    )
    assert "--output " + str(tmp_path / "m.onnx") not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_missing_export_packages_are_one_line(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    save(MLP(3, [4, 1]), tmp_path / "model.json")
    for fmt, module in (("onnx", "onnx"), ("torch", "torch")):
        monkeypatch.setitem(sys.modules, module, None)
        assert_error(
            ["export", str(tmp_path / "model.json"), "--format", fmt],
            capsys,
            f"micrograd export --format {fmt} needs {module}",
            'pip install "micrograd[export]"',
        )
        assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    assert_error(
        ["train", "--dataset", "iris", "--out", str(tmp_path / "r")],
        capsys,
        'pip install "micrograd[datasets]"',
    )


@pytest.mark.parametrize("fmt", ["onnx", "torch"])
def test_without_the_export_extra_export_is_one_line_and_exit_2(tmp_path: Path, fmt: str) -> None:
    """The extra as truly absent: a fresh interpreter in which importing torch, onnx or
    onnxruntime fails, as it does where they were never installed."""
    save(MLP(3, [4, 1]), tmp_path / "model.json")
    status, out, err, _ = run_without(
        ("torch", "onnx", "onnxruntime"),
        ["export", str(tmp_path / "model.json"), "--format", fmt],
        tmp_path,
        timeout=120,
    )
    assert status == 2, (out, err)
    error_line(err, 'pip install "micrograd[export]"')
    assert out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]


@needs_datasets
def test_standardize_takes_yes_no_or_auto(tmp_path: Path, capsys: Capsys) -> None:
    assert_error(
        ["train", "--standardize", "maybe", "--out", str(tmp_path)],
        capsys,
        "--standardize",
        "expected yes, no or auto, got 'maybe'",
    )
    argv = [
        "train",
        "--dataset",
        "iris",
        "--layers",
        "3",
        "--epochs",
        "1",
        "--quiet",
        "--no-plots",
        "--standardize",
        "no",
        "--out",
        str(tmp_path / "raw"),
    ]
    assert cli.main(argv) == 0
    meta = load_metadata(tmp_path / "raw" / "model.json")
    assert meta["standardize"] is None and meta["config"]["standardize"] is False


@needs_datasets
def test_real_datasets_refuse_samples_and_noise(tmp_path: Path, capsys: Capsys) -> None:
    assert_error(
        ["train", "--dataset", "iris", "--samples", "50", "--out", str(tmp_path)],
        capsys,
        "iris is a fixed real dataset",
    )


@needs_export
def test_the_installed_command_exports(digits_run: Path, tmp_path: Path) -> None:
    exe = shutil.which("micrograd")
    if exe is None:
        pytest.skip("the micrograd command is not on PATH (install the package: pip install -e .)")
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "COLUMNS")}
    target = tmp_path / "m.onnx"
    done = subprocess.run(
        [
            exe,
            "export",
            str(digits_run / "model.json"),
            "--format",
            "onnx",
            "--output",
            str(target),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert target.is_file() and "wrote" in done.stdout
    bad = subprocess.run(
        [exe, "export", str(tmp_path / "nope.json"), "--format", "onnx"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
