"""`micrograd train` and `compare` never lose a run and never mix two: an interrupted or
diverged run saves what it has, a run folder is placed whole, nothing is overwritten silently.

In-process cases call `cli.main([...])`; signals, kills and concurrent runs use the installed
command in subprocesses, each stopped by the pid it was started with.
"""

from __future__ import annotations

import json
import math
import os
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Capsys, command, command_env, one_line, read_json, run

from micrograd.cli import train as train_command
from micrograd.serialization import load, load_metadata

SMALL = ["--samples", "60", "--epochs", "15"]


def assert_one_run(folder: Path) -> dict[str, Any]:
    """`folder` holds one whole run: its model and its run.json come from the same run."""
    run_json = read_json(folder / "run.json")
    meta = load_metadata(folder / "model.json")
    assert meta["config"] == json.loads(json.dumps(run_json["config"]))
    model = load(folder / "model.json")
    assert all(math.isfinite(p.data) for p in model.parameters())
    assert sorted(run_json["files"]) == sorted(p.name for p in folder.iterdir())
    return run_json


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# -- interrupted and diverged runs save what they have ---------------------------------------


def test_an_interrupted_run_saves_its_last_epoch_curves_and_status(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_train = train_command.train

    def ctrl_c_in_epoch_22(config: Any, callbacks: Any, data: Any) -> Any:
        def press(log: dict[str, float]) -> None:
            if log["epoch"] == 21:
                raise KeyboardInterrupt

        return real_train(config, [*callbacks, press], data)

    monkeypatch.setattr(train_command, "train", ctrl_c_in_epoch_22)
    out = tmp_path / "run"
    assert run(["train", "--out", str(out)]) == 130
    line = one_line(capsys.readouterr().err)
    assert "interrupted" in line and "epoch 21" in line and str(out) in line
    run_json = assert_one_run(out)
    assert (run_json["status"], run_json["epochs"], len(run_json["history"])) == (
        "interrupted",
        21,
        21,
    )
    assert {"model.json", "run.json", "curves.png", "decision_boundary.png"} == set(
        run_json["files"]
    )
    assert hidden(tmp_path) == []


def test_a_diverged_run_saves_its_last_good_epoch(tmp_path: Path, capsys: Capsys) -> None:
    out = tmp_path / "d"
    argv = ["train", "--lr", "1e6", "--loss", "mse", "--epochs", "30", "--out", str(out)]
    assert run(argv) == 2
    line = one_line(capsys.readouterr().err)
    assert "training diverged" in line and "smaller learning rate" in line
    assert "status diverged" in line and str(out) in line
    run_json = assert_one_run(out)
    assert run_json["status"] == "diverged" and run_json["stop_reason"] == "diverged"
    assert run_json["epochs"] == len(run_json["history"])
    assert f"as of epoch {run_json['epochs']}" in line


def test_a_completed_run_says_so(tmp_path: Path) -> None:
    assert run(["train", *SMALL, "--out", str(tmp_path / "r"), "--quiet"]) == 0
    assert assert_one_run(tmp_path / "r")["status"] == "completed"
    assert run(["train", *SMALL, "--tolerance", "10", "--out", str(tmp_path / "t"), "--quiet"]) == 0
    assert assert_one_run(tmp_path / "t")["status"] == "stopped early"


# -- no silent overwrite ----------------------------------------------------------------------


def test_the_default_folder_gets_a_fresh_name_for_each_run(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["train", *SMALL, "--no-plots"]
    assert run([*argv, "--seed", "1"]) == 0
    assert run([*argv, "--seed", "1", "--epochs", "3"]) == 0
    out = capsys.readouterr().out
    first = tmp_path / "runs" / "moons-relu-seed1"
    second = tmp_path / "runs" / "moons-relu-seed1-2"
    assert assert_one_run(first)["epochs"] == 15
    assert assert_one_run(second)["epochs"] == 3
    assert "already holds a run" in out and str(Path("runs") / "moons-relu-seed1-2") in out


def test_an_explicit_out_is_replaced_only_with_force(tmp_path: Path, capsys: Capsys) -> None:
    out = tmp_path / "mine"
    assert run(["train", *SMALL, "--out", str(out), "--quiet"]) == 0
    before = (out / "model.json").read_bytes()
    assert run(["train", *SMALL, "--seed", "5", "--out", str(out), "--quiet"]) == 2
    line = one_line(capsys.readouterr().err)
    assert str(out) in line and "--force" in line
    assert (out / "model.json").read_bytes() == before
    assert run(["train", *SMALL, "--seed", "5", "--out", str(out), "--quiet", "--force"]) == 0
    assert assert_one_run(out)["config"]["seed"] == 5
    assert hidden(tmp_path) == []


def test_force_never_replaces_a_folder_of_other_files(tmp_path: Path, capsys: Capsys) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert run(["train", *SMALL, "--out", str(tmp_path), "--force"]) == 2
    assert "not a micrograd run" in one_line(capsys.readouterr().err)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_help_says_runs_are_never_overwritten(capsys: Capsys) -> None:
    assert run(["train", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "never overwritten" in out and "-2, -3" in out and "--force" in out


@pytest.mark.parametrize(
    ("out", "needle"), [("", "names no folder"), (".", "names no folder"), ("a.txt", "is a file")]
)
def test_an_out_that_cannot_hold_a_run_is_one_line(
    out: str, needle: str, tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("x")
    assert run(["train", *SMALL, "--out", out]) == 2
    assert needle in one_line(capsys.readouterr().err)
    assert sorted(os.listdir(tmp_path)) == ["a.txt"]


def test_the_current_folder_is_never_a_run_folder(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "model.json").write_text("{}")
    monkeypatch.chdir(work)
    assert run(["train", *SMALL, "--out", str(work), "--force"]) == 2
    assert "current folder" in one_line(capsys.readouterr().err)


def test_a_failed_write_leaves_no_folder_and_names_the_users_path(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from micrograd import files

    def full_disk(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(files, "write_atomic", full_disk)
    monkeypatch.setattr("micrograd.serialization.write_atomic", full_disk)
    out = tmp_path / "run"
    assert run(["train", *SMALL, "--out", str(out), "--no-plots"]) == 2
    line = one_line(capsys.readouterr().err)
    assert "No space left on device" in line and str(out) in line and ".tmp" not in line
    assert os.listdir(tmp_path) == []


# -- kills and concurrency (the installed command) --------------------------------------------


def start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    env = command_env()
    return subprocess.Popen(
        [command(), *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def first_line(process: subprocess.Popen[str], timeout: float = 60) -> str:
    """The command's first line on stdout, waiting at most `timeout` seconds for it."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        process.kill()
        pytest.fail(f"no output from the command within {timeout} s")
    return process.stdout.readline()


def wait_for_training(process: subprocess.Popen[str]) -> None:
    """Until the command has printed its first line (it is then training)."""
    first = first_line(process)
    assert first.startswith(("training", "comparing")), first
    time.sleep(1.0)


LONG = ["--samples", "200", "--epochs", "100000", "--mode", "per-sample"]


def test_a_killed_run_leaves_nothing_and_the_next_run_sweeps_its_temporary_folder(
    tmp_path: Path,
) -> None:
    process = start(["train", *LONG, "--out", "run"], tmp_path)
    wait_for_training(process)
    process.kill()
    process.wait(timeout=30)
    assert not (tmp_path / "run").exists()  # nothing was placed: no half run
    done = start(["train", *SMALL, "--no-plots", "--out", "other"], tmp_path)
    assert done.wait(timeout=120) == 0
    assert hidden(tmp_path) == []
    assert_one_run(tmp_path / "other")


def test_sigterm_stops_a_run_which_saves_what_it_has(tmp_path: Path) -> None:
    process = start(["train", *LONG, "--out", "run"], tmp_path)
    wait_for_training(process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted" in one_line(err)
    run_json = assert_one_run(tmp_path / "run")
    assert run_json["status"] == "interrupted" and run_json["epochs"] >= 1
    assert hidden(tmp_path) == []


@pytest.mark.parametrize("force", [False, True], ids=["fresh", "force"])
def test_concurrent_runs_into_one_folder_never_mix(tmp_path: Path, force: bool) -> None:
    extra = ["--force"] if force else []
    processes = [
        start(["train", *SMALL, "--seed", str(seed), "--out", "x", *extra], tmp_path)
        for seed in range(4)
    ]
    results = [(p.wait(timeout=300), p.communicate(timeout=60)[1]) for p in processes]
    folders = sorted(p for p in tmp_path.iterdir() if p.name == "x" or p.name.startswith("x-"))
    for code, err in results:
        assert code == 0 or (code == 2 and "already holds files" in err), err
    assert_one_run(tmp_path / "x")
    assert [f.name for f in folders] == ["x"]  # an explicit --out never moves to x-2
    if force:
        assert all(c == 0 for c, _ in results)
    else:
        assert sum(c == 0 for c, _ in results) == 1
    assert hidden(tmp_path) == []


# -- compare: Ctrl-C reports the runs finished so far ----------------------------------------


def test_compare_ctrl_c_serially_reports_the_finished_runs(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from micrograd.sweep import runner

    calls = []
    real = runner.run

    def third_run_interrupted(*args: Any) -> Any:
        calls.append(args)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(runner, "run", third_run_interrupted)
    out = tmp_path / "cmp"
    argv = ["compare", "--activation", "tanh", "relu", "--runs", "3", *SMALL, "--workers", "1"]
    assert run([*argv, "--out", str(out), "--quiet"]) == 130
    captured = capsys.readouterr()
    assert "2 of 6 runs finished" in one_line(captured.err)
    assert "tanh" in captured.out  # the table of what finished
    result = read_json(out / "compare.json")
    assert result["status"] == "interrupted" and result["finished"] == 2
    assert [r["seed"] for r in result["settings"]["tanh"]["runs"]] == [0, 1]
    assert result["settings"]["relu"]["runs"] == []


def test_compare_sigint_to_the_parent_stops_the_workers_at_once(tmp_path: Path) -> None:
    # One epoch per run for the first setting, thousands for the second: the first setting's
    # runs are finished when the signal comes, the second's are running or queued.
    args = ["compare", "--epochs", "1", "5000", "--runs", "3", "--workers", "2"]
    process = start([*args, "--samples", "100", "--mode", "per-sample", "--out", "cmp"], tmp_path)
    assert first_line(process).startswith("comparing")
    time.sleep(3.0)
    process.send_signal(signal.SIGINT)  # the parent alone, as `kill -INT PID` does
    sent = time.monotonic()
    _, err = process.communicate(timeout=60)
    stopped_after = time.monotonic() - sent
    assert process.returncode == 130, err
    line = one_line(err)
    # Before, the parent waited for every queued run (minutes here); now it ends the workers.
    assert stopped_after < 10, stopped_after
    result = read_json(tmp_path / "cmp" / "compare.json")
    assert result["status"] == "interrupted"
    assert f"{result['finished']} of 6 runs finished" in line
    assert [r["seed"] for r in result["settings"]["1"]["runs"]] == [0, 1, 2]
    assert result["settings"]["5000"]["runs"] == []
    assert hidden(tmp_path) == []


def test_ctrl_c_between_the_drawing_and_the_placing_still_places_the_run(tmp_path: Path) -> None:
    """Regression: a Ctrl-C that came after the last picture was drawn but before the run was
    placed escaped into the staging folder's clean-up and lost the saved run (seen on a loaded
    CI machine). Now Ctrl-C is held back for the whole write, except inside `interruptible`."""
    from micrograd.cli.runs import Held, interruptible, save_run

    def write(folder: Path, name: str) -> str:
        (folder / "model.json").write_text("{}")
        try:
            with interruptible():
                os.kill(os.getpid(), signal.SIGINT)  # while "drawing": stops the drawing
                time.sleep(1)
            drawing = "finished"
        except KeyboardInterrupt:
            drawing = "stopped"
        os.kill(os.getpid(), signal.SIGINT)  # after the drawing, before the placing
        return drawing

    placing = Held()
    placed, drawing = save_run(
        tmp_path / "run", write, numbered=False, force=False, placing=placing
    )
    assert drawing == "stopped"
    assert placing.pressed
    assert placed == tmp_path / "run" and (placed / "model.json").read_text() == "{}"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no staging folder left
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("when", ["while", "after"])
def test_compare_ctrl_c_while_or_after_drawing_keeps_the_finished_comparison(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """Regression: a Ctrl-C while compare.png was drawn (or just after, before the folder was
    placed) escaped the staging folder and lost every finished run, as it did for `train`. Now
    the comparison is saved as `train` saves a run: Ctrl-C stops only the drawing."""
    from micrograd import plots
    from micrograd.cli import compare as compare_command

    real_plot, real_write = plots.plot_comparison, compare_command.write_json

    def ctrl_c_while_drawing(*args: Any, **kwargs: Any) -> Path:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)
        return real_plot(*args, **kwargs)

    def ctrl_c_after_drawing(*args: Any, **kwargs: Any) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        real_write(*args, **kwargs)

    if when == "while":
        monkeypatch.setattr(plots, "plot_comparison", ctrl_c_while_drawing)
    else:
        monkeypatch.setattr(compare_command, "write_json", ctrl_c_after_drawing)
    out = tmp_path / "cmp"
    argv = ["compare", "--activation", "tanh", "relu", "--runs", "2", *SMALL, "--workers", "1"]
    assert run([*argv, "--out", str(out), "--quiet"]) == 130
    line = one_line(capsys.readouterr().err)
    assert f"interrupted {when} drawing compare.png" in line and str(out) in line
    result = read_json(out / "compare.json")
    assert result["status"] == "completed" and result["finished"] == 4
    assert (out / "compare.png").is_file() == (when == "after")
    assert hidden(tmp_path) == []


def test_train_ctrl_c_while_saving_without_pictures_keeps_the_run_and_says_so(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --no-plots there is nothing to draw: a Ctrl-C while the run is written is told as
    "interrupted while saving" (it said "after drawing the pictures"), and the run is kept."""
    real_write = train_command.write_json

    def ctrl_c_while_writing(*args: Any, **kwargs: Any) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        real_write(*args, **kwargs)

    monkeypatch.setattr(train_command, "write_json", ctrl_c_while_writing)
    out = tmp_path / "run"
    assert run(["train", *SMALL, "--no-plots", "--quiet", "--out", str(out)]) == 130
    line = one_line(capsys.readouterr().err)
    assert "interrupted while saving; saved the run (status completed)" in line, line
    assert "drawing" not in line
    assert_one_run(out)
