"""What the installed `micrograd` command says when it is given what it cannot use (issue 26,
defects 12, 13, 15 and 16): one line naming the real problem and the real way out, exit 2."""

from __future__ import annotations

import argparse
import os
import re
import shlex
from pathlib import Path

import pytest
from cli_helpers import Capsys, assert_error, installed, one_error, read_json, run

from micrograd.cli import build_parser
from micrograd.csvdata import TargetError
from micrograd.data import load_csv

DOCS = Path(__file__).resolve().parents[1] / "docs"


def fails(argv: list[str], cwd: Path) -> str:
    """Run the installed command: it exits 2 with one stderr line "micrograd: error: ..."."""
    return one_error(installed(argv, cwd, timeout=120))


# Defect 13: an unknown option is named, with the option meant, by the command it was given to.
@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (
            ["sweep", "--gri", "lr=0.1,1"],
            ["unknown option --gri, did you mean --grid?", "(see 'micrograd sweep --help')"],
        ),
        (
            ["predict", "--mod", "m.json", "--input", "0,1"],
            ["unknown option --mod, did you mean --model?", "(see 'micrograd predict --help')"],
        ),
        (
            ["train", "--epoch", "10"],
            ["unknown option --epoch, did you mean --epochs?", "(see 'micrograd train --help')"],
        ),
        (
            ["compare", "--activ", "tanh", "relu"],
            ["unknown option --activ, did you mean --activation?", "'micrograd compare --help'"],
        ),
        (
            ["sweep", "show", "s.db", "--csvv", "x.csv"],
            ["unknown option --csvv, did you mean --csv?", "'micrograd sweep show --help'"],
        ),
        (["--verbose"], ["unknown option --verbose", "(see 'micrograd --help')"]),
        (
            ["workshop", "check", "1", ".", "--time", "3"],
            ["unknown option --time, did you mean --timeout?", "'micrograd workshop check --help'"],
        ),
        (
            ["trian", "--epochs", "3"],
            ["unknown command 'trian', did you mean train?", "(see 'micrograd --help')"],
        ),
        (
            ["sweep", "lr=0.1,1"],
            ["unexpected 'lr=0.1,1'", "or the command show", "'micrograd sweep --help'"],
        ),
        (["train", "extra"], ["unexpected argument 'extra'", "(see 'micrograd train --help')"]),
    ],
)
def test_an_unknown_option_is_named_and_points_to_its_commands_help(
    argv: list[str], needles: list[str], tmp_path: Path
) -> None:
    line = fails(argv, tmp_path)
    for needle in needles:
        assert needle in line, (needle, line)
    assert "invalid choice" not in line and "required" not in line
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_option_comes_before_what_argparse_would_say_next(capsys: Capsys) -> None:
    # --model is required, but what went wrong is the option typed instead of it.
    assert_error(["predict", "--mod", "m.json"], capsys, "unknown option --mod, did you mean")
    # An option's value is never taken for sweep's `show` command.
    assert_error(["sweep", "--grid", "lr=1", "--bogus", "x"], capsys, "unknown option --bogus")
    # An expression starting with '-' is not an option: where it goes is said.
    assert_error(["graph", "-a*b", "a=1", "b=2"], capsys, "unknown option -a*b", "goes after --")
    # Known options keep their own messages.
    assert_error(["train", "--lr", "-1"], capsys, "argument --lr: expected a number > 0")


# Defect 15: a folder (or a pipe) given as --db is said to be one.
def test_sweep_db_that_is_a_folder_says_so(tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    line = fails(["sweep", "--grid", "lr=0.1,1", "--db", "adir", "--dry-run"], tmp_path)
    assert "--db adir is a folder" in line
    assert "path of a new database file" in line and "adir/sweep.db" in line
    assert "--resume" not in line
    os.mkfifo(tmp_path / "pipe")
    line = fails(["sweep", "--grid", "lr=0.1,1", "--db", "pipe", "--dry-run"], tmp_path)
    assert "--db pipe is not a regular file" in line and "--resume" not in line


# Defect 16: an address that cannot work is refused before the warning about other machines.
@pytest.mark.parametrize(
    ("host", "needle"),
    [
        ("999.1.1.1", "--host 999.1.1.1 is not a valid IP address"),
        ("no-such-host.invalid", "--host no-such-host.invalid is neither an IP address nor"),
        ("192.0.2.1", "cannot listen on 192.0.2.1"),  # TEST-NET-1: never this machine's
    ],
)
def test_playground_refuses_a_bad_host_before_warning(
    host: str, needle: str, tmp_path: Path
) -> None:
    line = fails(["playground", "--host", host, "--port", "0"], tmp_path)
    assert needle in line
    assert "anyone" not in line


# Defect 12: the advice for labels that are not 0..C-1 names an option the command has.
def _labels_1_2(path: Path) -> Path:
    rows = [f"{i / 10:.1f},{(i % 3) / 3:.3f},{1 + i % 2}" for i in range(20)]
    path.write_text("x1,x2,y\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_csv_label_advice_names_the_task_option_and_it_works(tmp_path: Path) -> None:
    data = _labels_1_2(tmp_path / "labels.csv")
    line = fails(["train", "--data", str(data), "--quiet"], tmp_path)
    assert "{1, 2} is not 0..C-1" in line
    assert "pass --task regression" in line and "task='regression'" not in line
    assert not (tmp_path / "runs").exists()
    out = tmp_path / "run"
    argv = ["train", "--data", str(data), "--task", "regression", "--lr", "0.01", "--epochs", "3"]
    argv += ["--no-plots", "--quiet", "--out", str(out)]
    done = installed(argv, tmp_path)
    assert done.returncode == 0, done.stderr
    run = read_json(out / "run.json")
    assert run["config"]["task"] == "regression"
    line = fails(["train", "--data", str(data), "--task", "binary", "--quiet"], tmp_path)
    assert "--task binary needs labels 0 and 1" in line


def test_task_is_for_csv_files_only(capsys: Capsys) -> None:
    assert_error(
        ["train", "--task", "regression"], capsys, "--task regression says what the targets of"
    )


def test_the_library_keeps_the_keyword_in_its_advice(tmp_path: Path) -> None:
    data = _labels_1_2(tmp_path / "labels.csv")
    with pytest.raises(TargetError, match=re.escape("pass task='regression'")) as raised:
        load_csv(data)
    assert "pass --task regression" in raised.value.spelled(lambda t: f"--task {t}")
    assert load_csv(data, task="regression").task == "regression"


def test_sweeps_quick_start_can_be_followed_top_to_bottom() -> None:
    """Its dry run comes before the first sweep that writes the default database (a dry run
    after it is refused: the database exists)."""
    text = (DOCS / "sweeps.md").read_text(encoding="utf-8")
    block = text.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [
        shlex.split(line)
        for line in block.replace("\\\n", " ").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    dry = [i for i, argv in enumerate(commands) if "--dry-run" in argv]
    writes = [
        i
        for i, argv in enumerate(commands)
        if argv[:2] == ["micrograd", "sweep"]
        and not {"--dry-run", "--db", "--resume", "show"} & set(argv)
    ]
    assert dry and writes
    assert max(dry) < min(writes), commands


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_every_option_the_sources_and_docs_advise_exists() -> None:
    """`micrograd CMD ... --flag` in a message, a docstring or the docs names an option CMD
    has (the playground's upload errors advised `micrograd train --csv`, which does not exist)."""
    root = Path(__file__).resolve().parents[1]
    files = [*(root / "src").rglob("*.py"), root / "README.md", *DOCS.glob("*.md")]
    mention = re.compile(r"(?:micrograd|\{PROG\}) ([a-z]+)((?: [^\s`'\"\\)]+)*)")
    commands = _commands(build_parser())
    wrong = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for found in mention.finditer(line):
                parser = commands.get(found.group(1))
                if parser is None:
                    continue
                words = found.group(2).split()
                parser = _commands(parser).get(words[0], parser) if words else parser
                for word in words:
                    option = word.split("=")[0].rstrip(".,;:")
                    known = option == "--" or option in parser._option_string_actions
                    if option.startswith("--") and not known:
                        wrong.append(f"{path.relative_to(root)}:{number}: {found.group(0)}")
    assert wrong == []


def test_task_reaches_the_worker_processes(tmp_path: Path) -> None:
    """`--task` is a training option like the others: compare (and sweep) runs in worker
    processes read the file with it, not with the task guessed from the labels."""
    data = _labels_1_2(tmp_path / "labels.csv")
    out = tmp_path / "cmp"
    argv = ["compare", "--data", str(data), "--task", "regression", "classification"]
    argv += ["--runs", "1", "--epochs", "2", "--lr", "0.01", "--workers", "2"]
    argv += ["--no-plots", "--quiet", "--out", str(out)]
    assert run(argv) == 0
    summary = read_json(out / "compare.json")
    assert summary["finished"] == 2
    assert [s["metric"] for s in summary["settings"].values()] == ["rmse", "accuracy"]


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["train", "--dataset", "moonz"], "'moonz', did you mean moons? (choose from 'moons'"),
        (["train", "--activation", "rleu"], "'rleu', did you mean relu? (choose from"),
        (["sweep", "show", "x.db", "--metric", "val_acc"], "did you mean val_accuracy?"),
    ],
)
def test_a_mistyped_choice_gets_a_did_you_mean(argv: list[str], hint: str, tmp_path: Path) -> None:
    assert hint in fails(argv, tmp_path)


def test_a_choice_with_nothing_close_lists_the_choices_only(tmp_path: Path) -> None:
    line = fails(["train", "--optimizer", "zzz"], tmp_path)
    assert "invalid choice: 'zzz' (choose from 'sgd', 'adam', 'adamw')" in line
    assert "did you mean" not in line
