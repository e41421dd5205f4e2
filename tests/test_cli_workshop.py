"""`micrograd workshop`: start and check from the command line, with exit statuses 0, 1 and 2."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from micrograd.cli import main

SOLUTION = Path(__file__).parent / "workshop_gallery" / "solution"


def learner(tmp_path: Path, old: str = "", new: str = "") -> Path:
    folder = tmp_path / "learner"
    shutil.copytree(SOLUTION, folder)
    if old:
        text = (folder / "value.py").read_text()
        assert text.count(old) == 1
        (folder / "value.py").write_text(text.replace(old, new))
    return folder


def test_start_writes_the_files_and_says_what_to_do_next(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "mine"
    assert main(["workshop", "start", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"wrote value.py, mlp.py, WORKSHOP.md into {folder}" in out
    assert f"\n  micrograd workshop check 1 {folder}\n" in out
    assert sorted(p.name for p in folder.iterdir()) == ["WORKSHOP.md", "mlp.py", "value.py"]


def test_start_refuses_to_overwrite_with_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "value.py").write_text("mine\n")
    assert main(["workshop", "start", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("micrograd: error: ") and err.count("\n") == 1
    assert "already has value.py: nothing written" in err
    assert (tmp_path / "value.py").read_text() == "mine\n"


def test_checking_the_fresh_skeleton_fails_and_names_what_to_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["workshop", "start", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["workshop", "check", "1", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "Step 1: operators" in out
    assert "✗ a + b makes a new Value from both operands" in out
    assert "Value.__add__ still raises the skeleton's NotImplementedError: step 1 asks" in out
    assert "step 1: 0 of 11 checks pass" in out


def test_a_failing_check_shows_tried_got_expected_why_and_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = learner(
        tmp_path,
        "self.grad += out.grad\n            other.grad += out.grad",
        "self.grad = out.grad\n            other.grad = out.grad",
    )
    assert main(["workshop", "check", "2", str(folder)]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert all(line == line.rstrip() for line in lines)  # no trailing spaces
    after = lines[lines.index("  ✗ a node used twice") + 1 :]
    block = [line for line in after[: next(i for i, x in enumerate(after) if x[:4] != "    ")]]
    rows = [line for line in block if line[4] != " "]  # a row's first line; the rest wraps
    assert [line.split()[0] for line in rows] == ["tried", "got", "expected", "why", "hint"]
    assert "a = Value(2.0); out = a + a; out.backward()" in rows[0]
    assert rows[1].endswith("a.grad == 1.0")
    assert "a.grad == 2.0 (our engine; a finite difference gives 2)" in " ".join(block)
    assert "in __add__'s _backward an `=` overwrote" in " ".join(x.strip() for x in block)
    assert not (folder / "workshop_graph.svg").exists()


def test_all_steps_pass_on_a_correct_solution_and_the_graph_is_drawn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = learner(tmp_path)
    assert main(["workshop", "check", "all", str(folder)]) == 0
    out = capsys.readouterr().out
    for step in range(1, 6):
        assert f"step {step} passes" in out
    assert "✗" not in out
    assert f"your graph: {folder / 'workshop_graph.svg'}" in out
    assert "every step passes" in out
    # each passing step says what comes next; no line ends in spaces
    assert f"next: step 3, tanh and ReLU: micrograd workshop check 3 {folder}" in out
    assert "next: step 5, parameters, a linear output, zero_grad and training" in out
    assert all(line == line.rstrip() for line in out.splitlines())
    assert (folder / "workshop_graph.svg").read_text().rstrip().endswith("</svg>")
    picture = tmp_path / "elsewhere.svg"
    assert main(["workshop", "check", "2", str(folder), "--graph", str(picture)]) == 0
    assert picture.exists()
    (folder / "workshop_graph.svg").unlink()
    capsys.readouterr()
    assert main(["workshop", "check", "2", str(folder), "--no-graph"]) == 0
    assert "your graph" not in capsys.readouterr().out
    assert not (folder / "workshop_graph.svg").exists()


def test_check_all_stops_at_the_first_failing_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = learner(tmp_path, "self.grad += (1 - t**2) * out.grad", "self.grad += 1 - t**2")
    assert main(["workshop", "check", "all", str(folder), "--no-graph"]) == 1
    out = capsys.readouterr().out
    assert "step 2 passes" in out and "step 3: 8 of 10 checks pass" in out
    assert "steps 4-5 not checked: step 3 must pass first" in out
    assert "Step 4" not in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ("check 6 {dir}", "STEP is 1-5 or all, got '6'"),
        ("check two {dir}", "STEP is 1-5 or all, got 'two'"),
        ("check 1 {dir} --timeout 0", "expected a number > 0, got 0"),
        ("check 1 {dir} --graph g.png", "--graph draws an SVG"),
        ("check 1 {dir} --graph g.svg --no-graph", "not allowed with argument"),
        ("check 1 {dir} --time 3", "unknown option --time, did you mean --timeout?"),
        ("", "the following arguments are required: ACTION"),
    ],
)
def test_usage_errors_are_one_line_and_status_2(
    argv: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["workshop", *argv.format(dir=learner(tmp_path)).split()]
    try:
        status = main(args)
    except SystemExit as e:  # argparse's own errors exit
        status = e.code
    assert status == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_missing_folder_or_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["workshop", "check", "1", str(tmp_path / "nowhere")]) == 2
    assert "no folder" in capsys.readouterr().err
    assert main(["workshop", "check", "1", str(tmp_path)]) == 2
    assert "no value.py in" in capsys.readouterr().err


def test_the_installed_command_checks_a_step(tmp_path: Path) -> None:
    exe = shutil.which("micrograd")
    if exe is None:
        pytest.skip("the micrograd command is not on PATH (pip install . puts it there)")
    folder = learner(tmp_path, "return other + (-self)", "return self - other")
    done = subprocess.run(
        [exe, "workshop", "check", "1", str(folder)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, done.stderr
    assert "other - self" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "micrograd.cli", "workshop", "check", "9", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "STEP is 1-5 or all" in done.stderr
