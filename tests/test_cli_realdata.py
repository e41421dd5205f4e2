"""Real data through the command (issue 27): each real dataset trains with its own defaults, a
stratified held-out test split among them, unless an option says otherwise; `train` reports the
test accuracy and precision, recall and F1 per class; `predict` shows a readable table with the
class, its name and probability at any width, and every class's probability in CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_helpers import Capsys, assert_error, installed, read_json, run
from rich.console import Console

from micrograd.cli import predict as predict_command
from micrograd.data import load_dataset, training_defaults
from micrograd.loop import probabilities
from micrograd.realdata import REAL_DATASETS
from micrograd.run import TrainConfig, config_for, output_width, split
from micrograd.serialization import load

sklearn = pytest.importorskip("sklearn", reason="the real datasets need scikit-learn")


def train_run(tmp: Path, *args: str) -> dict[str, Any]:
    assert run(["train", *args, "--out", str(tmp), "--quiet", "--no-plots", "--force"]) == 0
    result: dict[str, Any] = read_json(tmp / "run.json")
    return result


# -- item 1: held-out tests and each dataset's own defaults -----------------------------------


def test_digits_alone_reaches_95_percent_test_accuracy_through_the_installed_command(
    tmp_path: Path,
) -> None:
    done = installed(["train", "--dataset", "digits", "--no-plots", "--out", "d"], tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "the dataset's own defaults: --test 0.2" in out
    header = next(line for line in out.splitlines() if line.split()[:1] == ["d"])  # its folder
    assert header.split()[1:] == ["train", "(last", "epoch)", "test"]
    accuracy_row = next(line for line in out.splitlines() if line.split()[:1] == ["accuracy"])
    assert float(accuracy_row.split()[-1]) >= 0.95, out
    assert re.search(r"per class, on the test split: (\d+) of 360 right", out), out
    result = read_json(tmp_path / "d" / "run.json")
    assert result["metrics"]["test_accuracy"] >= 0.95
    assert result["data"]["samples"] == {"train": 1437, "val": 0, "test": 360}
    assert result["config"]["test"] == 0.2 and result["config"]["layers"] == [32, 10]
    assert result["dataset_defaults"]["test"] == 0.2
    per_class = result["per_class"]
    assert per_class["split"] == "test" and per_class["accuracy"] == pytest.approx(
        result["metrics"]["test_accuracy"]
    )
    support = np.array([per_class[str(d)]["support"] for d in range(10)])
    want = np.bincount(load_dataset("digits").y) * 360 / 1797
    assert support.sum() == 360 and np.all(np.abs(support - want) < 1)  # stratified


@pytest.mark.parametrize("name", ["iris", "wine", "breast-cancer"])
def test_real_classification_sets_hold_out_a_stratified_test_split(
    name: str, tmp_path: Path
) -> None:
    config = config_for(dataset=name)
    assert config.test == 0.2
    ds = load_dataset(name)
    _, val, test, _ = split(config, ds)
    assert val is None and test is not None
    assert len(test) == int(np.ceil(0.2 * len(ds)))
    have = np.bincount(test.y, minlength=ds.n_classes)
    want = np.bincount(ds.y) * len(test) / len(ds)
    assert np.all(np.abs(have - want) < 1), (have, want)  # each class in proportion
    result = train_run(tmp_path, "--dataset", name, "--epochs", "2")
    assert result["data"]["samples"]["test"] == len(test)
    assert "test_accuracy" in result["metrics"] and result["per_class"]["split"] == "test"


def test_every_real_dataset_has_defaults_that_fit_it() -> None:
    for name in REAL_DATASETS:
        own = training_defaults(name)
        config = TrainConfig(**{**own, "dataset": name})  # valid fields and values
        assert config.test > 0 and config.layers is not None
        assert config.layers[-1] == output_width(load_dataset(name)), name
        assert config_for(dataset=name) == config
    # The generated datasets train as before, but for the regression sets' step size.
    assert training_defaults("moons") == {}
    assert config_for() == TrainConfig() == config_for(dataset="moons")


def test_an_option_given_beats_the_datasets_default(tmp_path: Path, capsys: Capsys) -> None:
    given = ("--test", "0", "--lr", "0.05", "--layers", "8,10", "--epochs", "2")
    result = train_run(tmp_path, "--dataset", "digits", *given)
    config = result["config"]
    assert (config["test"], config["lr"], config["layers"], config["epochs"]) == (
        0,
        0.05,
        [8, 10],
        2,
    )
    assert config["optimizer"] == "adam" and config["activation"] == "tanh"  # not given
    assert not {"test", "lr", "layers", "epochs"} & set(result["dataset_defaults"])
    assert result["data"]["samples"]["test"] == 0 and "test_accuracy" not in result["metrics"]
    assert result["per_class"]["split"] == "training"
    # The library says the same.
    assert config_for(dataset="digits", test=0.0).test == 0.0
    assert config_for(dataset="digits", optimizer="sgd").optimizer == "sgd"
    # An option that clashes with a default the user did not give says which and how.
    assert_error(
        ["train", "--dataset", "digits", "--momentum", "0.9"],
        capsys,
        "momentum applies to the sgd optimizer only",
        "digits trains with",
        "--optimizer adam",
    )


def test_the_default_train_is_unchanged(tmp_path: Path, capsys: Capsys) -> None:
    assert run(["train", "--out", str(tmp_path), "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "own defaults" not in out and "per class" not in out
    header = next(line for line in out.splitlines() if line.split()[:1] == [tmp_path.name])
    assert header.split()[1:] == ["train", "(last", "epoch)"]  # named after the run's folder
    result = read_json(tmp_path / "run.json")
    assert result["config"] == TrainConfig().as_dict()
    assert result["dataset_defaults"] == {}
    assert result["per_class"]["split"] == "training"  # kept in run.json all the same


def test_train_help_lists_each_real_datasets_defaults(capsys: Capsys) -> None:
    assert run(["train", "--help"]) == 0
    out = capsys.readouterr().out
    assert "a dataset's own defaults, used where the option is not given:" in out
    for name in REAL_DATASETS:
        assert re.search(rf"^  {name} +--test 0\.2 --layers ", out, re.M), name
    epilog = out[out.index("a dataset's own defaults") :]
    assert max(map(len, epilog.splitlines())) <= 100


def test_compare_gives_each_setting_its_datasets_defaults(tmp_path: Path) -> None:
    argv = ["compare", "--dataset", "iris", "--lr", "0.01", "0.02", "--epochs", "1"]
    assert run([*argv, "--runs", "1", "--workers", "1", "--out", str(tmp_path), "--quiet"]) == 0
    fixed = read_json(tmp_path / "compare.json")["fixed"]
    assert fixed["test"] == 0.2 and fixed["optimizer"] == "adam" and fixed["epochs"] == 1


# -- item 2: predict's table, probabilities and the per-class report --------------------------


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A digits model (cross-entropy), a breast-cancer one (bce) and a moons one (hinge)."""
    root = tmp_path_factory.mktemp("models")
    out = {}
    for name, args in (
        ("digits", ["--dataset", "digits", "--epochs", "5"]),
        ("breast-cancer", ["--dataset", "breast-cancer", "--epochs", "5"]),
        ("moons", ["--epochs", "20"]),
    ):
        folder = root / name
        assert run(["train", *args, "--out", str(folder), "--quiet", "--no-plots"]) == 0
        out[name] = folder / "model.json"
    return out


def digits_csv(path: Path, rows: int = 12, labelled: bool = True) -> Path:
    ds = load_dataset("digits")
    columns = [ds.X[:rows], ds.y[:rows, None]] if labelled else [ds.X[:rows]]
    np.savetxt(path, np.hstack(columns), delimiter=",", fmt="%g")
    return path


def table_rows(out: str) -> list[list[str]]:
    """The data rows of the first table: lines after the rule, up to the blank line."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if set(line.strip()) == {"─"}) + 1
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


def test_predict_on_digits_shows_labels_and_probabilities_through_the_installed_command(
    models: dict[str, Path], tmp_path: Path
) -> None:
    data = digits_csv(tmp_path / "digits.csv")
    done = installed(["predict", "--model", str(models["digits"]), "--csv", str(data)], tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    header = next(line for line in out.splitlines() if "probability" in line)
    assert header.split() == ["#", "digit", "(given)", "class", "probability"]
    rows = table_rows(out)
    assert [row[0] for row in rows] == [str(i) for i in range(1, 13)]
    assert all(row[2] in "0123456789" and 0.1 < float(row[3]) <= 1.0 for row in rows), rows
    assert "not shown: 64 inputs, the raw outputs (--format csv prints every column)" in out
    assert "per class, against the given targets" in out
    assert max(map(len, out.splitlines())) <= 120


def test_predicts_per_class_report_lists_only_the_classes_in_the_file(
    models: dict[str, Path], tmp_path: Path
) -> None:
    """Regression: five digits 0..4 listed 0..9, the absent five at 0.0, and a macro average
    of 0.5 for five right answers (scikit-learn reports the classes present)."""
    data = digits_csv(tmp_path / "five.csv", rows=5)
    done = installed(["predict", "--model", str(models["digits"]), "--csv", str(data)], tmp_path)
    assert done.returncode == 0, done.stderr
    report = done.stdout[done.stdout.index("per class, against the given targets") :]
    rows = {line.split()[0] for line in report.splitlines()[4:] if line.strip()}
    assert rows == {"0", "1", "2", "3", "4", "accuracy", "macro", "weighted"}, report
    macro = next(line for line in report.splitlines() if line.split()[:2] == ["macro", "avg"])
    assert macro.split()[2:] == ["1.0000", "1.0000", "1.0000", "5"], macro


def test_predict_table_fits_80_columns(
    models: dict[str, Path], tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(predict_command, "console", lambda: Console(width=80, highlight=False))
    data = digits_csv(tmp_path / "digits.csv", labelled=False)
    assert run(["predict", "--model", str(models["digits"]), "--csv", str(data)]) == 0
    out = capsys.readouterr().out
    assert max(map(len, out.splitlines())) <= 80, out
    rows = table_rows(out)
    assert len(rows) == 12 and all(len(row) == 3 for row in rows), rows  # #, class, probability
    one = ",".join(["3"] * 64)
    assert (
        run(["predict", "--model", str(models["breast-cancer"]), "--input", ",".join(["3"] * 30)])
        == 0
    )
    out = capsys.readouterr().out
    assert max(map(len, out.splitlines())) <= 80, out
    assert table_rows(out)[0][-2] in ("malignant", "benign")
    assert run(["predict", "--model", str(models["digits"]), "--input", one]) == 0
    assert len(table_rows(capsys.readouterr().out)) == 1


def test_predict_csv_keeps_every_column_and_every_class_probability(
    models: dict[str, Path], tmp_path: Path, capsys: Capsys
) -> None:
    data = digits_csv(tmp_path / "digits.csv", labelled=False)
    model = str(models["digits"])
    assert run(["predict", "--model", model, "--csv", str(data), "--format", "csv"]) == 0
    table = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    header = table[0]
    assert header[:64] == load_dataset("digits").columns[:64]  # type: ignore[index]
    assert header[64:] == [
        *(f"output {d}" for d in range(10)),
        "class",
        *(f"probability {d}" for d in range(10)),
    ]
    values = np.array([[float(x) for x in row] for row in table[1:]])
    probs = values[:, 75:]
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(
        probs, probabilities(values[:, 64:74], "multiclass", "cross_entropy")
    )
    np.testing.assert_array_equal(values[:, 74], probs.argmax(axis=1))
    assert load(model).nin == 64


def test_binary_probabilities_are_named_by_class_and_hinge_has_none(
    models: dict[str, Path], capsys: Capsys
) -> None:
    sample = ",".join(["3"] * 30)
    cancer = str(models["breast-cancer"])
    assert run(["predict", "--model", cancer, "--input", sample, "--format", "csv"]) == 0
    header, row = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert header[30:] == ["output", "class", "name", "probability malignant", "probability benign"]
    p0, p1 = float(row[-2]), float(row[-1])
    assert p0 + p1 == pytest.approx(1.0) and (p1 > 0.5) == (row[31] == "1")
    moons = str(models["moons"])
    assert run(["predict", "--model", moons, "--input", "0,1", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "x1,x2,output,class"
    assert run(["predict", "--model", moons, "--input", "0,1"]) == 0
    out = capsys.readouterr().out
    assert "probab" not in out  # no column, and no note on every run
    assert run(["predict", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "hinge (or mse) loss outputs scores, which are not probabilities" in help_text


def test_predict_json_holds_the_csv_columns_as_numbers_and_names(
    models: dict[str, Path], tmp_path: Path, capsys: Capsys
) -> None:
    data = digits_csv(tmp_path / "digits.csv", rows=3)
    model = str(models["digits"])
    assert run(["predict", "--model", model, "--csv", str(data), "--format", "csv"]) == 0
    header, *rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    written = tmp_path / "out" / "p.json"
    argv = ["predict", "--model", model, "--csv", str(data), "--format", "json"]
    assert run([*argv, "--output", str(written)]) == 0
    assert "wrote 3 predictions" in capsys.readouterr().out
    records = json.loads(written.read_text(encoding="utf-8"))
    assert [list(r) for r in records] == [header] * 3
    for record, row in zip(records, rows, strict=True):
        assert record["class"] == row[header.index("class")] and record["digit (given)"] in range(
            10
        )
        probs = [record[f"probability {d}"] for d in range(10)]
        assert (
            sum(probs) == pytest.approx(1.0)
            and max(probs) == record[f"probability {record['class']}"]
        )
        assert record["output 3"] == float(row[header.index("output 3")])


@pytest.mark.parametrize("name", ["regression_1d", "regression_2d"])
def test_the_generated_regression_sets_train_alone_without_diverging(
    name: str, tmp_path: Path
) -> None:
    """Regression: with the lecture's SGD at lr 1 both diverged within 3 epochs."""
    result = train_run(tmp_path, "--dataset", name)
    assert result["status"] == "completed"
    assert (result["config"]["optimizer"], result["config"]["lr"]) == ("adam", 0.03)
    assert result["metrics"]["r2"] > 0.85


def test_the_summary_says_its_training_metrics_come_from_the_last_epoch(
    tmp_path: Path, capsys: Capsys
) -> None:
    """Regression: a multiclass run scored on its training split showed two accuracies for
    that split (0.7830 in the table, 0.7810 per class) with nothing to tell them apart: the
    table's are measured as the last epoch ran, the per-class table's after training."""
    out = tmp_path / "run"
    argv = ["train", "--dataset", "yinyang", "--epochs", "5", "--no-plots", "--out", str(out)]
    assert run(argv) == 0
    shown = capsys.readouterr().out
    assert "train (last epoch)" in shown
    right = re.search(r"per class, on the training split after training: (\d+) of 1000", shown)
    assert right is not None, shown
    saved = read_json(out / "run.json")
    assert int(right.group(1)) == round(saved["per_class"]["accuracy"] * 1000)
