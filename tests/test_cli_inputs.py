"""`micrograd` never crashes on what a user types: every case of issue 11 gives one line on
stderr and exit status 2 (or works), naming the user's path and, for limits, the flag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import assert_error, refuse_new_files, run

from micrograd import cli
from micrograd.cli import limits

Capsys = pytest.CaptureFixture[str]
SMALL = ["--samples", "60", "--epochs", "15"]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("inputs") / "run"
    assert cli.main(["train", *SMALL, "--out", str(out), "--quiet", "--no-plots"]) == 0
    return out / "model.json"


# -- graph: backward is inside the error handling ---------------------------------------------


@pytest.mark.parametrize(
    ("expression", "value"),
    [("sqrt(a)", "a=0"), ("a/a", "a=1e-200"), ("relu(-a)**0.5", "a=2")],
)
def test_graph_at_a_point_without_a_finite_gradient_never_crashes(
    expression: str, value: str, tmp_path: Path, capsys: Capsys
) -> None:
    status = run(["graph", expression, value, "--out", str(tmp_path / "g")])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if status == 0:  # the engine's backward gives a gradient (inf or 0): it is drawn
        assert "d result / d input" in out and (tmp_path / "g.svg").is_file()
    else:
        assert status == 2 and len(err.strip().splitlines()) == 1, err


def test_graph_turns_an_error_in_backward_into_one_line(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from micrograd.engine import Value

    def fails(self: Value) -> None:
        raise ZeroDivisionError("**: zero cannot be raised to the negative power -0.5")

    monkeypatch.setattr(Value, "backward", fails)
    assert_error(["graph", "sqrt(a)", "a=0", "--out", str(tmp_path / "g")], capsys, "sqrt(a)")
    assert list(tmp_path.iterdir()) == []


def test_graph_out_that_names_no_file(tmp_path: Path, capsys: Capsys) -> None:
    assert_error(["graph", "a*2", "a=1", "--out", ""], capsys, "--out ''", "names no file")
    assert_error(["graph", "a*2", "a=1", "--out", str(tmp_path)], capsys, "is a folder")
    (tmp_path / "g.svg").mkdir()
    line = assert_error(["graph", "a*2", "a=1", "--out", str(tmp_path / "g")], capsys)
    assert str(tmp_path / "g.svg") in line and "is a folder" in line
    assert not (tmp_path / "g.dot").exists()  # checked before anything was written


def test_graph_into_an_unwritable_folder_names_the_users_path(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_new_files(monkeypatch)
    line = assert_error(["graph", "a*2", "a=1", "--out", str(tmp_path / "g")], capsys)
    assert "Permission denied" in line and str(tmp_path / "g.dot") in line and ".tmp" not in line


def test_graph_too_large_names_the_flag(tmp_path: Path, capsys: Capsys) -> None:
    assert_error(
        ["graph", "a*b+a*b", "a=1", "b=2", "--max-nodes", "3", "--out", str(tmp_path / "g")],
        capsys,
        "more than 3 values",
        "--max-nodes",
    )


def test_an_operator_error_points_at_the_operator(tmp_path: Path, capsys: Capsys) -> None:
    assert_error(["graph", "a^b", "a=1", "b=2"], capsys, "'^'", "column 2")
    assert_error(["graph", "(a + b) ^ c", "a=1", "b=2", "c=3"], capsys, "column 9")


def test_the_graphviz_hint_is_one_short_line(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert run(["graph", "a*2", "a=1", "--out", str(tmp_path / "g")]) == 0
    hints = [line for line in capsys.readouterr().out.splitlines() if "Graphviz" in line]
    assert len(hints) == 1 and len(hints[0]) < 100, hints


# -- negative numbers -------------------------------------------------------------------------


def test_negative_inputs_need_no_equals_sign(model: Path, capsys: Capsys) -> None:
    argv = ["predict", "--model", str(model), "--input", "-0.5,0.2", "--format", "csv"]
    assert run(argv) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("-0.5,0.2,")


def test_negative_layer_widths_say_what_is_wrong(capsys: Capsys) -> None:
    assert_error(["train", "--layers", "-5,1"], capsys, "--layers", "at least one neuron")


# -- predict ----------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--model", "--csv"])
def test_predict_output_refuses_its_own_inputs(
    flag: str, model: Path, tmp_path: Path, capsys: Capsys
) -> None:
    data = tmp_path / "points.csv"
    data.write_text("0.5,0.2\n1,-1\n")
    before = {p: p.read_bytes() for p in (model, data)}
    target = model if flag == "--model" else data
    argv = ["predict", "--model", str(model), "--csv", str(data), "--output", str(target)]
    assert_error(argv, capsys, f"is the {flag} file")
    assert {p: p.read_bytes() for p in (model, data)} == before


def test_predict_model_from_a_device_is_refused_without_reading(capsys: Capsys) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    assert_error(["predict", "--model", "/dev/zero", "--input", "1,2"], capsys, "not a regular")


def test_predict_csv_from_a_device_says_so(model: Path, capsys: Capsys) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    line = assert_error(["predict", "--model", str(model), "--csv", "/dev/zero"], capsys)
    assert "not a regular file" in line and "does not exist" not in line


def test_a_model_file_with_a_byte_order_mark_loads(
    model: Path, tmp_path: Path, capsys: Capsys
) -> None:
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + model.read_bytes())
    assert run(["predict", "--model", str(bom), "--input", "0,1", "--format", "csv"]) == 0


def test_a_huge_integer_in_a_model_file_is_named(
    model: Path, tmp_path: Path, capsys: Capsys
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(model.read_text().replace('"version": 1', '"version": ' + "9" * 5000))
    line = assert_error(["predict", "--model", str(bad), "--input", "0,1"], capsys, "5000 digits")
    assert "each key once" not in line


def test_overflowing_inputs_are_an_error_not_inf(model: Path, capsys: Capsys) -> None:
    line = assert_error(["predict", "--model", str(model), "--input", "1e308,1e308"], capsys)
    assert "overflows" in line and "--input 1e+308,1e+308" in line
    assert "Warning" not in line


def test_a_big_prediction_table_is_a_preview(model: Path, tmp_path: Path, capsys: Capsys) -> None:
    data = tmp_path / "many.csv"
    data.write_text("".join(f"{i / 1000},{-i / 1000}\n" for i in range(1000)))
    assert run(["predict", "--model", str(model), "--csv", str(data)]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) < 70
    assert "the first 50 of 1000 predictions" in out and "--output" in out


def test_labels_of_fewer_classes_than_the_model_get_a_note(tmp_path: Path, capsys: Capsys) -> None:
    three = tmp_path / "three"
    argv = ["train", "--dataset", "yinyang", "--samples", "90", "--layers", "8,3", "--epochs", "3"]
    assert run([*argv, "--out", str(three), "--quiet", "--no-plots"]) == 0
    binary = tmp_path / "binary.csv"
    binary.write_text("".join(f"{i / 50},{-i / 50},{i % 2}\n" for i in range(60)))
    assert run(["predict", "--model", str(three / "model.json"), "--csv", str(binary)]) == 0
    err = capsys.readouterr().err
    assert "note:" in err and "2 labels" in err and "3 classes" in err


def test_plurals_are_right(model: Path, capsys: Capsys) -> None:
    line = assert_error(["predict", "--model", str(model), "--input", "1"], capsys)
    assert "has 1 value," in line and "takes 2 inputs" in line


# -- size limits ------------------------------------------------------------------------------


def test_a_huge_network_is_refused_before_it_is_built(capsys: Capsys) -> None:
    line = assert_error(["train", "--layers", "100000,100000,1"], capsys, "--allow-large")
    assert f"{limits.MAX_PARAMETERS:,}" in line and "10,000,500,001 weights" in line


def test_a_huge_sample_count_is_refused_before_it_is_generated(capsys: Capsys) -> None:
    assert_error(["train", "--samples", "1000000000000"], capsys, "--samples", "--allow-large")


def test_a_csv_over_the_size_limit_is_refused(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "big.csv"
    data.write_text("1,2,0\n3,4,1\n" * 10)
    monkeypatch.setattr(limits, "MAX_CSV_BYTES", 100)
    assert_error(["train", "--data", str(data)], capsys, "over the limit", "--allow-large")


def test_a_wide_csv_is_refused_by_the_network_size(tmp_path: Path, capsys: Capsys) -> None:
    wide = tmp_path / "wide.csv"
    row = ",".join(["1"] * 70_000)
    wide.write_text(f"{row},0\n{row},1\n")
    assert_error(["train", "--data", str(wide), "--out", str(tmp_path / "r")], capsys, "weights")


def test_allow_large_lifts_a_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_SAMPLES", 10)
    argv = ["train", "--samples", "20", "--epochs", "2", "--no-plots", "--quiet"]
    assert run([*argv, "--out", str(tmp_path / "a"), "--allow-large"]) == 0
    assert json.loads((tmp_path / "a" / "run.json").read_text())["data"]["samples"]["train"] == 20


# -- data that cannot be trained on says why, not "try a smaller learning rate" ---------------


@pytest.mark.parametrize("noise", ["1e300", "1e308"])
def test_absurd_noise_names_the_noise(noise: str, tmp_path: Path, capsys: Capsys) -> None:
    line = assert_error(["train", "--noise", noise, "--out", str(tmp_path / "r")], capsys)
    assert f"--noise {float(noise):g}" in line and "learning rate" not in line
    assert not (tmp_path / "r").exists()


def test_absurdly_large_data_is_named(tmp_path: Path, capsys: Capsys) -> None:
    data = tmp_path / "big.csv"
    data.write_text("x,y\n1,1e308\n2,-1e308\n3,1e307\n")
    line = assert_error(["train", "--data", str(data), "--out", str(tmp_path / "r")], capsys)
    assert "1e+308" in line and "scale the data" in line and "learning rate" not in line


def test_graph_of_a_model_whose_output_overflows(
    model: Path, tmp_path: Path, capsys: Capsys
) -> None:
    argv = ["graph", "--model", str(model), "--input", "1e308,1e308", "--out", str(tmp_path / "g")]
    assert "overflows" in assert_error(argv, capsys)
    assert list(tmp_path.iterdir()) == []


def test_predict_output_into_an_unwritable_folder_names_the_users_file(
    model: Path, tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_new_files(monkeypatch)
    target = tmp_path / "predictions.csv"
    argv = ["predict", "--model", str(model), "--input", "0,1", "--output", str(target)]
    line = assert_error(argv, capsys, "Permission denied", str(target))
    assert ".tmp" not in line


def test_the_library_refuses_a_device_as_csv() -> None:
    from micrograd.data import DataError, load_csv

    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    with pytest.raises(DataError, match="not a regular file"):
        load_csv("/dev/zero")
