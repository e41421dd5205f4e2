"""The `micrograd` command line: train, compare, predict and graph, their files, their help and
their errors (one line on stderr, exit status 2, never a traceback).

Most tests call `cli.main([...])` in-process; one test per subcommand runs the installed
`micrograd` command in a subprocess. Runs are kept small (few samples and epochs) so the file
stays fast.
"""

from __future__ import annotations

import csv
import importlib.metadata
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import assert_error, installed, read_json, run, run_without

from micrograd import cli
from micrograd.cli import output
from micrograd.cli import train as train_command
from micrograd.serialization import load_metadata

Capsys = pytest.CaptureFixture[str]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ANSI = re.compile(r"\x1b\[")
HAS_DOT = shutil.which("dot") is not None


# -- helpers ----------------------------------------------------------------------------------


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) of a PNG file, after checking its signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def assert_picture(path: Path, min_side: int = 300) -> None:
    width, height = png_size(path)
    assert min_side <= width <= 4000 and min_side <= height <= 4000, (path, width, height)


def run_command(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return installed(args, cwd, timeout=120)


SMALL = ["--samples", "60", "--epochs", "15"]
REGRESSION = ["train", "--dataset", "regression_1d", "--samples", "40", "--optimizer", "adam"]
REGRESSION += ["--lr", "0.02", "--epochs", "30"]


@pytest.fixture(scope="module")
def moons_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small trained moons model, shared by the predict and graph tests."""
    out = tmp_path_factory.mktemp("moons")
    assert cli.main(["train", "--epochs", "40", "--out", str(out), "--quiet"]) == 0
    return out


# -- train ------------------------------------------------------------------------------------


def test_default_train_learns_the_moons_and_writes_every_file(
    tmp_path: Path, capsys: Capsys
) -> None:
    assert cli.main(["train", "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    # Plain, short output: a header, the table, epochs, time, the files. No per-epoch lines.
    assert not ANSI.search(out)
    assert len(out.splitlines()) < 20, out
    assert "moons" in out and "accuracy" in out and "ran every epoch" in out
    assert re.search(r"^time: (\d+ ms|\d+\.\d s)$", out, re.M), out  # never "0.0 s"
    assert "model.json" in out and "decision_boundary.png" in out

    run_json = read_json(tmp_path / "run.json")
    assert {
        "config",
        "metrics",
        "history",
        "epochs",
        "stop_reason",
        "seconds",
        "files",
        "data",
        "model",
        "loss",
    } <= set(run_json)
    config = run_json["config"]
    assert (config["dataset"], config["layers"], config["activation"], config["optimizer"]) == (
        "moons",
        None,
        "relu",
        "sgd",
    )
    assert (config["lr"], config["schedule"], config["l2"], config["epochs"], config["mode"]) == (
        1.0,
        "linear",
        1e-4,
        100,
        "batched",
    )
    assert run_json["loss"] == "hinge"
    assert run_json["model"]["layers"] == [2, 16, 16, 1]
    assert run_json["model"]["parameters"] == 3 * 16 + 17 * 16 + 17  # every weight and bias
    assert run_json["data"]["samples"]["train"] == 100
    assert run_json["metrics"]["accuracy"] >= 0.97
    assert run_json["epochs"] == len(run_json["history"]) == 100
    assert run_json["stop_reason"] == "max_epochs"

    meta = load_metadata(tmp_path / "model.json")
    assert meta["task"] == "binary" and meta["n_classes"] == 2 and meta["dataset"] == "moons"
    assert meta["n_features"] == 2 and meta["loss"] == "hinge" and meta["mode"] == "batched"
    assert "classes" in meta

    assert sorted(run_json["files"]) == sorted(
        ["model.json", "run.json", "curves.png", "decision_boundary.png"]
    )
    assert_picture(tmp_path / "curves.png")
    assert_picture(tmp_path / "decision_boundary.png")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files


def test_a_seeded_run_is_repeatable(tmp_path: Path) -> None:
    for name in ("a", "b"):
        argv = [
            "train",
            *SMALL,
            "--seed",
            "3",
            "--batch-size",
            "16",
            "--out",
            str(tmp_path / name),
            "--no-plots",
            "--quiet",
        ]
        assert cli.main(argv) == 0
    a, b = (read_json(tmp_path / n / "run.json") for n in ("a", "b"))
    assert a["metrics"] == b["metrics"]
    assert [r["loss"] for r in a["history"]] == [r["loss"] for r in b["history"]]


def test_every_option_reaches_the_config(tmp_path: Path, capsys: Capsys) -> None:
    argv = [
        "train",
        "--dataset",
        "circles",
        "--samples",
        "50",
        "--noise",
        "0.02",
        "--data-seed",
        "2",
        "--val",
        "0.2",
        "--test",
        "0.2",
        "--layers",
        "6,1",
        "--activation",
        "tanh",
        "--loss",
        "bce",
        "--optimizer",
        "sgd",
        "--lr",
        "0.3",
        "--momentum",
        "0.5",
        "--schedule",
        "cosine",
        "--epochs",
        "6",
        "--batch-size",
        "8",
        "--l1",
        "1e-5",
        "--l2",
        "0",
        "--seed",
        "4",
        "--mode",
        "per-sample",
        "--standardize",
        "yes",
        "--out",
        str(tmp_path),
    ]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "validation" in out and "test" in out
    got = read_json(tmp_path / "run.json")
    expected = {
        "dataset": "circles",
        "data_path": None,
        "samples": 50,
        "noise": 0.02,
        "data_seed": 2,
        "val": 0.2,
        "test": 0.2,
        "layers": [6, 1],
        "activation": "tanh",
        "loss": "bce",
        "optimizer": "sgd",
        "lr": 0.3,
        "momentum": 0.5,
        "schedule": "cosine",
        "epochs": 6,
        "batch_size": 8,
        "l1": 1e-5,
        "l2": 0.0,
        "tolerance": None,
        "patience": None,
        "seed": 4,
        "mode": "per-sample",
        "standardize": True,
        "task": None,
    }
    assert got["config"] == expected
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "test_loss", "test_accuracy"} <= set(
        got["metrics"]
    )
    assert got["data"]["samples"] == {"train": 30, "val": 10, "test": 10}


def test_default_run_folder_is_named_after_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert (
        cli.main(["train", *SMALL, "--activation", "tanh", "--seed", "2", "--no-plots", "--quiet"])
        == 0
    )
    assert (tmp_path / "runs" / "moons-tanh-seed2" / "model.json").is_file()


def test_tolerance_and_patience_stop_early(tmp_path: Path, capsys: Capsys) -> None:
    assert (
        cli.main(["train", "--tolerance", "0.2", "--out", str(tmp_path / "t"), "--no-plots"]) == 0
    )
    assert "reached the tolerance 0.2" in capsys.readouterr().out
    run_json = read_json(tmp_path / "t" / "run.json")
    assert run_json["stop_reason"] == "tolerance"
    assert run_json["epochs"] < 100 and run_json["metrics"]["loss"] <= 0.2

    assert cli.main(["train", "--val", "0.3", "--patience", "3", "--out", str(tmp_path / "p")]) == 0
    assert "no better validation loss for 3 epochs" in capsys.readouterr().out
    run_json = read_json(tmp_path / "p" / "run.json")
    assert run_json["stop_reason"] == "patience"
    # The metrics reported are those of the weights kept: the best epoch's.
    best = run_json["history"][run_json["best_epoch"] - 1]
    assert run_json["metrics"]["val_loss"] == best["val_loss"]
    assert_picture(tmp_path / "p" / "curves.png")


def test_multiclass_run_draws_its_classes(tmp_path: Path) -> None:
    assert (
        cli.main(
            [
                "train",
                "--dataset",
                "yinyang",
                "--samples",
                "150",
                "--layers",
                "8,3",
                "--optimizer",
                "adam",
                "--lr",
                "0.05",
                "--epochs",
                "20",
                "--out",
                str(tmp_path),
                "--quiet",
            ]
        )
        == 0
    )
    meta = load_metadata(tmp_path / "model.json")
    assert (meta["task"], meta["n_classes"], meta["loss"]) == ("multiclass", 3, "cross_entropy")
    assert_picture(tmp_path / "decision_boundary.png")


def test_regression_draws_a_fit_and_replaces_an_older_runs_pictures(tmp_path: Path) -> None:
    assert cli.main(["train", *SMALL, "--out", str(tmp_path), "--quiet"]) == 0
    assert (tmp_path / "decision_boundary.png").exists()
    assert cli.main([*REGRESSION, "--out", str(tmp_path), "--quiet", "--force"]) == 0
    assert_picture(tmp_path / "fit.png")
    assert not (tmp_path / "decision_boundary.png").exists()
    run_json = read_json(tmp_path / "run.json")
    assert {"rmse", "r2"} <= set(run_json["metrics"])
    assert load_metadata(tmp_path / "model.json")["task"] == "regression"


def test_no_plots_and_quiet(tmp_path: Path, capsys: Capsys) -> None:
    assert cli.main(["train", *SMALL, "--out", str(tmp_path), "--no-plots", "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "run.json"]


def test_csv_data_with_minus_one_plus_one_labels(tmp_path: Path, capsys: Capsys) -> None:
    data = tmp_path / "points.csv"
    rows = ["x,y,label"] + [f"{i / 10},{(i % 7) / 10},{1 if i % 2 else -1}" for i in range(30)]
    data.write_text("\n".join(rows) + "\n")
    out = tmp_path / "run"
    assert (
        cli.main(["train", "--data", str(data), "--epochs", "5", "--out", str(out), "--quiet"]) == 0
    )
    meta = load_metadata(out / "model.json")
    assert meta["classes"] == [-1.0, 1.0] and meta["dataset"] == "points"
    assert meta["feature_names"] == ["x", "y"] and meta["target_name"] == "label"
    # predict maps the classes back to the file's labels, and reads -1/1 targets.
    assert (
        cli.main(
            ["predict", "--model", str(out / "model.json"), "--csv", str(data), "--format", "csv"]
        )
        == 0
    )
    captured = capsys.readouterr()
    table = list(csv.reader(io.StringIO(captured.out)))
    assert table[0] == ["x", "y", "label (given)", "output", "class"]
    assert {row[-1] for row in table[1:]} <= {"-1", "1"}
    assert {row[2] for row in table[1:]} == {"-1", "1"}
    assert captured.err.startswith("accuracy ")


def test_training_diverged_is_one_line(tmp_path: Path, capsys: Capsys) -> None:
    assert_error(
        ["train", "--lr", "1e6", "--loss", "mse", "--epochs", "30", "--out", str(tmp_path)],
        capsys,
        "training diverged",
        "smaller learning rate",
    )


def test_keyboard_interrupt_exits_130(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(train_command, "train", interrupted)
    assert cli.main(["train", "--out", str(tmp_path)]) == 130
    err = capsys.readouterr().err
    assert err.strip() == "micrograd: interrupted"


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["train", "--dataset", "nope"], ["--dataset", "invalid choice", "moons"]),
        (["train", "--layers", "16,,1"], ["--layers", "empty width", "e.g. 16,16,1"]),
        (["train", "--layers", "a,b"], ["--layers", "'a'", "not a whole number"]),
        (["train", "--layers", "0"], ["--layers", "at least one neuron"]),
        (["train", "--lr", "0"], ["--lr", "> 0"]),
        (["train", "--lr", "-0.5"], ["--lr", "> 0"]),
        (["train", "--lr", "nan"], ["--lr", "finite"]),
        (["train", "--epochs", "0"], ["--epochs", ">= 1"]),
        (["train", "--val", "1.5"], ["--val", "[0, 1)"]),
        (["train", "--activation", "swish"], ["--activation", "invalid choice", "tanh"]),
        (["train", "--optimizer", "lbfgs"], ["--optimizer", "invalid choice", "adam"]),
        (["train", "--mode", "fast"], ["--mode", "per-sample"]),
        (["train", "--bogus"], ["unknown option --bogus", "micrograd train --help"]),
        (["train", "--dataset", "moons", "--data", "x.csv"], ["not allowed with"]),
        (
            ["train", "--dataset", "yinyang", "--layers", "16,16,1"],
            ["--layers 16,16,1", "3 classes", "--layers 16,16,3"],
        ),
        (["train", "--loss", "cross_entropy"], ["--loss cross_entropy", "hinge, bce, mse"]),
        (["train", "--patience", "5"], ["--patience", "--val"]),
        (["train", "--optimizer", "adam", "--momentum", "0.9"], ["momentum", "sgd optimizer only"]),
        (["train", "--samples", "1"], ["n_samples must be >= 2"]),
        (["train", "--val", "0.6", "--test", "0.5"], ["val + test must be < 1"]),
        (["compare"], ["two or more values", "--activation tanh relu"]),
        (["compare", "--activation", "tanh"], ["two or more values"]),
        (
            ["compare", "--activation", "tanh", "relu", "--lr", "0.1", "0.2"],
            ["one option at a time", "--activation and --lr"],
        ),
        (["compare", "--lr", "0.1", "0.1"], ["twice"]),
        (["compare", "--layers", "8,1", "8,3"], ["--layers 8,3", "end it with 1"]),
        (["compare", "--runs", "0", "--lr", "0.1", "1"], ["--runs"]),
        (["predict", "--input", "1,2"], ["--model"]),
        (["graph"], ["give an expression"]),
        (["graph", "__import__('os').system('ls')"], ["is not allowed"]),
        (["graph", "__import__('os')"], ["calling '__import__' is not allowed"]),
        (["graph", "a.__class__", "a=1"], ["'__class__' is not allowed"]),
        (["graph", "a*b", "a=1"], ["unknown name 'b'", "b=1.0"]),
        (["graph", "a*", "a=1"], ["syntax error"]),
        (["graph", "log(a)", "a=-1"], ["log", "positive"]),
        (["graph", "a/b", "a=1", "b=0"], ["division by zero"]),
        (["graph", "a", "a=x"], ["bad assignment 'a=x'"]),
        (["graph", "a", "a=1", "--max-nodes", "0"], ["--max-nodes"]),
    ],
)
def test_errors_are_one_line_with_status_2(
    argv: list[str],
    needles: list[str],
    tmp_path: Path,
    capsys: Capsys,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing may be written outside the test's folder
    assert_error(argv, capsys, *needles)


def test_graph_too_large_is_one_line(tmp_path: Path, capsys: Capsys) -> None:
    expression = " + ".join(f"a{i}" for i in range(12))
    values = [f"a{i}={i}" for i in range(12)]
    assert_error(
        ["graph", expression, *values, "--max-nodes", "5", "--out", str(tmp_path / "g")],
        capsys,
        "more than 5 values",
    )


def test_file_errors(tmp_path: Path, capsys: Capsys, moons_run: Path) -> None:
    model = str(moons_run / "model.json")
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,y\n0.5,1.0,1\n0.2,abc,0\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("0.5,1.0\n0.2\n")
    wide = tmp_path / "wide.csv"
    wide.write_text("1,2,3,4\n")
    labels = tmp_path / "labels.csv"
    labels.write_text("0.5,1.0,7\n")
    not_json = tmp_path / "model.txt"
    not_json.write_text("hello")
    not_model = tmp_path / "other.json"
    not_model.write_text('{"weights": [1, 2]}')
    truncated = tmp_path / "truncated.json"
    truncated.write_text((moons_run / "model.json").read_text()[:200])
    out = str(tmp_path / "out")

    assert_error(
        ["train", "--data", str(tmp_path / "missing.csv"), "--out", out],
        capsys,
        "missing.csv does not exist",
        "CSV",
    )
    assert_error(["train", "--data", str(tmp_path), "--out", out], capsys, "is a folder")
    assert_error(
        ["train", "--data", str(bad), "--out", out],
        capsys,
        "line 3",
        "column 2",
        "'abc' is not a number",
    )
    assert_error(["train", "--data", str(empty), "--out", out], capsys, "empty")
    assert_error(["train", "--data", str(bad), "--samples", "5", "--out", out], capsys, "--samples")
    assert_error(["train", "--out", str(bad)], capsys, "is a file")
    assert_error(
        ["predict", "--model", str(tmp_path / "nope.json"), "--input", "1,2"],
        capsys,
        "nope.json",
        "no such file",
    )
    assert_error(["predict", "--model", str(not_json), "--input", "1,2"], capsys, "not valid JSON")
    assert_error(
        ["predict", "--model", str(not_model), "--input", "1,2"], capsys, "micrograd model"
    )
    assert_error(["predict", "--model", str(truncated), "--input", "1,2"], capsys, "truncated")
    assert_error(
        ["predict", "--model", model, "--input", "1,2,3"],
        capsys,
        "--input 1,2,3 has 3 values",
        "takes 2 inputs",
    )
    assert_error(["predict", "--model", model, "--input", "1,x"], capsys, "'x'", "not a number")
    assert_error(["predict", "--model", model], capsys, "--input", "--csv")
    assert_error(
        ["predict", "--model", model, "--csv", str(tmp_path / "none.csv")], capsys, "does not exist"
    )
    assert_error(
        ["predict", "--model", model, "--csv", str(bad)], capsys, "line 3", "'abc' is not a number"
    )
    assert_error(["predict", "--model", model, "--csv", str(empty)], capsys, "empty")
    assert_error(
        ["predict", "--model", model, "--csv", str(ragged)],
        capsys,
        "line 2 has 1 column, expected 2",
    )
    assert_error(
        ["predict", "--model", model, "--csv", str(wide)], capsys, "4 columns", "takes 2 inputs"
    )
    assert_error(
        ["predict", "--model", model, "--csv", str(labels)],
        capsys,
        "target 7 is not one of the model's classes",
    )
    assert_error(
        ["graph", "--model", model, "--input", "1", "--out", out],
        capsys,
        "--input 1 has 1 value",
        "takes 2 inputs",
    )
    assert_error(["graph", "--model", model, "--out", out], capsys, "needs one --input")
    assert_error(["graph", "a", "a=1", "--model", model, "--input", "1,2"], capsys, "not both")
    assert_error(["graph", "--model", str(not_json), "--input", "1,2"], capsys, "not valid JSON")


# -- compare ----------------------------------------------------------------------------------


def test_compare_activations(tmp_path: Path, capsys: Capsys) -> None:
    argv = [
        "compare",
        "--activation",
        "tanh",
        "relu",
        "--runs",
        "3",
        "--epochs",
        "20",
        "--out",
        str(tmp_path),
    ]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert not ANSI.search(out)
    assert "tanh" in out and "relu" in out and "±" in out and "0/3" in out  # none diverged
    assert "converged" not in out  # it means "reached the tolerance", and none was given
    result = read_json(tmp_path / "compare.json")
    assert result["option"] == "activation" and result["values"] == ["tanh", "relu"]
    assert result["seeds"] == [0, 1, 2] and result["fixed"]["epochs"] == 20
    for name in ("tanh", "relu"):
        setting = result["settings"][name]
        assert setting["config"]["activation"] == name
        assert {"loss", "accuracy", "converged", "diverged", "epochs_to_tolerance", "runs"} <= set(
            setting
        )
        assert {"mean", "std", "min", "max"} <= set(setting["loss"])
        assert setting["converged"] is None  # no --tolerance, no convergence to count
        assert [r["seed"] for r in setting["runs"]] == [0, 1, 2]
    assert_picture(tmp_path / "compare.png")


def test_compare_is_the_same_serially_and_counts_convergence(
    tmp_path: Path, capsys: Capsys
) -> None:
    base = [
        "compare",
        "--lr",
        "0.3",
        "1",
        "--runs",
        "2",
        "--epochs",
        "25",
        "--samples",
        "50",
        "--tolerance",
        "0.3",
        "--no-plots",
    ]
    assert cli.main([*base, "--workers", "1", "--out", str(tmp_path / "serial")]) == 0
    assert cli.main([*base, "--workers", "2", "--out", str(tmp_path / "pool")]) == 0
    out = capsys.readouterr().out
    assert "epochs to" in out and "tolerance" in out
    serial = read_json(tmp_path / "serial" / "compare.json")
    pool = read_json(tmp_path / "pool" / "compare.json")
    runs = [[r["loss"] for r in serial["settings"][k]["runs"]] for k in ("0.3", "1")]
    assert runs == [[r["loss"] for r in pool["settings"][k]["runs"]] for k in ("0.3", "1")]
    for setting in serial["settings"].values():
        converged = [r for r in setting["runs"] if r["epochs_to_tolerance"] is not None]
        assert setting["converged"] == len(converged)
    assert not (tmp_path / "serial" / "compare.png").exists()


def test_compare_counts_diverged_runs(tmp_path: Path, capsys: Capsys) -> None:
    assert (
        cli.main(
            [
                "compare",
                "--lr",
                "0.05",
                "1e6",
                "--loss",
                "mse",
                "--runs",
                "2",
                "--epochs",
                "30",
                "--workers",
                "1",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert "Warning" not in captured.err
    result = read_json(tmp_path / "compare.json")  # NaN would not be JSON: written as null
    assert result["settings"]["1e+06"]["diverged"] == 2
    assert result["settings"]["1e+06"]["loss"]["mean"] is None
    assert result["settings"]["0.05"]["diverged"] == 0
    assert_picture(tmp_path / "compare.png")


# -- predict ----------------------------------------------------------------------------------


def test_predict_inputs_as_a_table(moons_run: Path, capsys: Capsys) -> None:
    model = str(moons_run / "model.json")
    assert cli.main(["predict", "--model", model, "--input", "0.0,1.0", "--input=1.0,-0.5"]) == 0
    out = capsys.readouterr().out
    assert not ANSI.search(out)
    header = next(line for line in out.splitlines() if "output" in line)
    assert header.split() == ["x1", "x2", "output", "class"]
    rows = [line.split() for line in out.splitlines() if line.strip().startswith(("0 ", "1 "))]
    # Top of the upper moon is class 0, bottom of the lower moon class 1.
    assert [row[-1] for row in rows] == ["0", "1"]


def test_predict_csv_with_and_without_targets(
    moons_run: Path, tmp_path: Path, capsys: Capsys
) -> None:
    model = str(moons_run / "model.json")
    with_target = tmp_path / "labelled.csv"
    with_target.write_text("0.0,1.0,0\n1.0,-0.5,1\n-1.0,0.2,0\n2.0,0.3,1\n")
    assert cli.main(["predict", "--model", model, "--csv", str(with_target)]) == 0
    out = capsys.readouterr().out
    assert "target (given)" in out
    assert "accuracy 1.0000 on 4 samples" in out

    inputs = tmp_path / "inputs.csv"
    inputs.write_text("a,b\n0.0,1.0\n1.0,-0.5\n")
    written = tmp_path / "predictions.csv"
    assert (
        cli.main(["predict", "--model", model, "--csv", str(inputs), "--output", str(written)]) == 0
    )
    assert "wrote 2 predictions" in capsys.readouterr().out
    table = list(csv.reader(written.open()))
    assert table[0] == ["a", "b", "output", "class"]
    assert [row[-1] for row in table[1:]] == ["0", "1"]
    assert float(table[1][0]) == 0.0 and float(table[2][1]) == -0.5


def test_predict_regression_reports_rmse(tmp_path: Path, capsys: Capsys) -> None:
    assert cli.main([*REGRESSION, "--out", str(tmp_path), "--quiet", "--no-plots"]) == 0
    data = tmp_path / "points.csv"
    data.write_text("0.5,0.48\n-1.0,-0.84\n2.0,0.9\n")
    assert (
        cli.main(
            [
                "predict",
                "--model",
                str(tmp_path / "model.json"),
                "--csv",
                str(data),
                "--format",
                "csv",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    table = list(csv.reader(io.StringIO(captured.out)))
    assert table[0] == ["x1", "target (given)", "output"]
    assert len(table) == 4
    assert re.match(r"rmse \d+\.\d+, r2 -?\d+\.\d+ on 3 samples", captured.err)


# -- graph ------------------------------------------------------------------------------------


def test_graph_of_an_expression(tmp_path: Path, capsys: Capsys) -> None:
    stem = tmp_path / "pics" / "neuron"
    assert cli.main(["graph", "(a*b + c).tanh()", "a=2", "b=-3", "c=10", "--out", str(stem)]) == 0
    out = capsys.readouterr().out
    assert "0.999329" in out  # tanh(4)
    assert "-0.00402285" in out  # d/da = b * (1 - tanh(4)^2)
    names = {"neuron.dot", "neuron.svg", "neuron.html"} | ({"neuron.png"} if HAS_DOT else set())
    assert {p.name for p in stem.parent.iterdir()} == names
    for name in names:
        assert name in out
    dot = (stem.parent / "neuron.dot").read_text()
    assert dot.startswith("digraph") and "tanh" in dot and "grad" in dot
    svg = ET.parse(stem.parent / "neuron.svg").getroot()
    assert svg.tag.endswith("svg")
    html = (stem.parent / "neuron.html").read_text()
    assert "<svg" in html and "</html>" in html
    if HAS_DOT:
        assert_picture(stem.parent / "neuron.png", min_side=50)


def test_graph_without_graphviz_uses_the_builtin_layout(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no `dot` to be found
    stem = tmp_path / "g"
    assert cli.main(["graph", "relu(x*w + b)", "x=1.5", "w=-0.5", "b=1", "--out", str(stem)]) == 0
    out = capsys.readouterr().out
    assert "no PNG without Graphviz (apt-get install graphviz" in out
    assert "builtin layout" in out
    assert not (tmp_path / "g.png").exists()
    svg = ET.parse(tmp_path / "g.svg").getroot()
    texts = " ".join(t.text or "" for t in svg.iter() if t.tag.endswith("text"))
    assert "ReLU" in texts and "grad" in texts
    assert "<svg" in (tmp_path / "g.html").read_text()
    assert_error(
        ["graph", "x", "x=1", "--engine", "graphviz", "--out", str(stem)], capsys, "Graphviz"
    )


def test_graph_of_a_model(moons_run: Path, tmp_path: Path, capsys: Capsys) -> None:
    stem = tmp_path / "model"
    assert (
        cli.main(
            [
                "graph",
                "--model",
                str(moons_run / "model.json"),
                "--input=-0.5,1.0",
                "--out",
                str(stem),
                "--engine",
                "builtin",
                "--rankdir",
                "TB",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "x0" in out and "x1" in out and "-> class" in out
    dot = Path(f"{stem}.dot").read_text()
    assert "L0.N0.w0" in dot and "out" in dot
    ET.parse(f"{stem}.svg")
    assert not Path(f"{stem}.png").exists()


# -- help -------------------------------------------------------------------------------------


def _subparsers() -> dict[str, Any]:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return dict(action.choices)


@pytest.mark.parametrize("name", ["train", "compare", "predict", "graph"])
def test_help_shows_every_default_and_examples(name: str, capsys: Capsys) -> None:
    sub = _subparsers()[name]
    for action in sub._actions:
        if action.dest == "help":
            continue
        assert action.help, (name, action.option_strings)
        assert "(default:" in action.help or (action.required and "(required)" in action.help), (
            name,
            action.option_strings,
        )
    assert run([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"micrograd {name} " in out
    required = sum(a.required for a in sub._actions)
    assert out.count("(default:") >= len(sub._actions) - 1 - required


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["train", "--epoch", "10"], "--epoch"),
        (["train", "--lay", "4,1"], "--lay"),
        (["compare", "--activ", "tanh", "relu"], "--activ"),
        (["predict", "--model", "m.json", "--input", "0,1", "--form", "csv"], "--form"),
        (["graph", "a", "a=1", "--max", "5"], "--max"),
    ],
)
def test_an_abbreviated_option_is_an_error_not_a_prefix_match(
    argv: list[str], flag: str, capsys: Capsys
) -> None:
    assert_error(argv, capsys, f"unknown option {flag}, did you mean")


def test_every_parser_turns_prefix_matching_off() -> None:
    parser = cli.build_parser()
    assert not parser.allow_abbrev
    assert all(not sub.allow_abbrev for sub in _subparsers().values())


def test_top_level_help_lists_the_commands(capsys: Capsys) -> None:
    assert run(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("train", "compare", "predict", "graph", "examples:"):
        assert name in out
    assert run([]) == 2  # no command: the help, and a failing status
    assert "train" in capsys.readouterr().out


def test_train_help_names_the_demo_defaults(capsys: Capsys) -> None:
    assert run(["train", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for text in (
        "(default: moons)",
        "(default: relu)",
        "(default: sgd)",
        "(default: 1)",
        "(default: linear)",
        "(default: 100)",
        "(default: 0.0001)",
        "(default: batched)",
        "16,16,1",
        "relu,tanh,sigmoid,linear",
        "constant,linear,step,exponential,cosine",
    ):
        assert text in out, text


# -- the installed command --------------------------------------------------------------------


def test_command_train(tmp_path: Path) -> None:
    done = run_command(["train", *SMALL, "--out", "run"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert not ANSI.search(done.stdout) and not ANSI.search(done.stderr)
    assert "accuracy" in done.stdout and len(done.stdout.splitlines()) < 20
    assert_picture(tmp_path / "run" / "decision_boundary.png")
    failed = run_command(["train", "--layers", "16,,1"], tmp_path)
    assert failed.returncode == 2
    assert failed.stderr.startswith("micrograd: error: argument --layers")
    assert len(failed.stderr.strip().splitlines()) == 1 and "Traceback" not in failed.stderr


def test_command_compare(tmp_path: Path) -> None:
    done = run_command(
        [
            "compare",
            "--optimizer",
            "sgd",
            "adam",
            "--runs",
            "2",
            "--epochs",
            "5",
            "--samples",
            "40",
            "--workers",
            "1",
            "--out",
            "cmp",
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "sgd" in done.stdout and "adam" in done.stdout
    assert not ANSI.search(done.stdout)
    assert read_json(tmp_path / "cmp" / "compare.json")["values"] == ["sgd", "adam"]


def test_command_predict(tmp_path: Path, moons_run: Path) -> None:
    done = run_command(
        ["predict", "--model", str(moons_run / "model.json"), "--input", "0,1", "--format", "csv"],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "x1,x2,output,class"
    failed = run_command(["predict", "--model", "missing.json", "--input", "0,1"], tmp_path)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert failed.stderr == "micrograd: error: model file 'missing.json': no such file\n"


def test_command_graph(tmp_path: Path) -> None:
    done = run_command(["graph", "(a*b + c).tanh()", "a=2", "b=-3", "c=10"], tmp_path)
    assert done.returncode == 0, done.stderr
    runs = tmp_path / "runs"  # under runs/ like a run, not into the current folder
    assert (runs / "graph.dot").is_file() and (runs / "graph.html").is_file()
    ET.parse(runs / "graph.svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]
    assert f"wrote runs{os.sep}: graph.dot, graph.svg, graph.html" in done.stdout
    failed = run_command(["graph", "open('x')"], tmp_path)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("module", ["micrograd", "micrograd.cli"])
def test_module_runs_as_a_script(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", module, "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.startswith("micrograd ")


def test_progress_callback_follows_training() -> None:
    from rich.console import Console
    from rich.progress import Progress

    from micrograd.train import TrainConfig, train

    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    with Progress(*output.progress_bar(console).columns, console=console) as progress:
        callback = cli.ProgressCallback(progress)
        train(TrainConfig(samples=40, epochs=12, tolerance=0.3), callbacks=[callback])
    assert callback.task is not None
    task = progress.tasks[callback.task]
    assert task.completed == task.total  # stopped early: the bar still ends full
    status = task.fields["status"]
    assert status.startswith("loss ") and " acc " in status and " lr " in status


# -- dependencies by audience -------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
# The top-level modules of every extra: the playground's, the sweep's, the datasets', export's.
EXTRA_MODULES = ("starlette", "uvicorn", "websockets", "pydantic", "dask", "distributed",
                 "sklearn", "torch", "onnx", "onnxruntime")  # fmt: skip


def _distribution(requirement: str) -> str:
    """A requirement's distribution name, normalised: 'Foo_Bar[x]>=1' -> 'foo-bar'."""
    match = re.match(r"[A-Za-z0-9._-]+", requirement.strip())
    assert match is not None, requirement
    return re.sub(r"[-_.]+", "-", match[0]).lower()


def core_distributions() -> set[str]:
    """What the core install brings: pyproject.toml's dependencies and all of theirs."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    todo = [_distribution(r) for r in pyproject["project"]["dependencies"]]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        todo += [_distribution(r) for r in requires if "extra ==" not in r]
    return seen


@pytest.mark.parametrize(
    ("imports", "absent"),
    [
        (
            "micrograd, micrograd.nn, micrograd.engine",
            {"dask", "distributed", "starlette", "uvicorn", "pydantic", "torch", "sklearn",
             "matplotlib"},
        ),
        (
            "micrograd.cli",
            {"dask", "distributed", "starlette", "uvicorn", "pydantic", "torch", "sklearn"},
        ),
    ],
)  # fmt: skip
def test_importing_loads_no_extra(imports: str, absent: set[str]) -> None:
    code = f"import json, sys, {imports}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = {name.split(".")[0] for name in json.loads(done.stdout)}
    assert "micrograd" in loaded
    assert sorted(loaded & absent) == []


def test_train_with_its_defaults_needs_only_the_core_install(tmp_path: Path) -> None:
    """No extra importable at all: the default run trains, draws and saves, and every
    third-party module it loaded comes with numpy, matplotlib or rich."""
    status, out, err, loaded = run_without(EXTRA_MODULES, ["train"], tmp_path)
    assert status == 0, (out, err)
    assert err == ""
    run_folder = tmp_path / "runs" / "moons-relu-seed0"
    assert {"model.json", "run.json", "curves.png", "decision_boundary.png"} <= {
        p.name for p in run_folder.iterdir()
    }
    assert {"numpy", "matplotlib", "rich"} <= loaded
    core = core_distributions()
    providers = importlib.metadata.packages_distributions()
    outside = {
        module: providers[module]
        for module in loaded
        if module in providers and not any(_distribution(d) in core for d in providers[module])
    }
    assert outside == {}, f"micrograd train loaded modules beyond the core install: {outside}"
