"""A run's outcome is told as it happened (issue 26, defects 2-4), through the installed command:
a finished run is saved even when Ctrl-C stops its pictures; a diverged run saves the weights
its saved metrics describe; a loss that explodes is divergence; no float is printed as a long
string of digits.
"""

from __future__ import annotations

import json
import math
import os
import re
import select
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_helpers import (
    Capsys,
    assert_error,
    command,
    command_env,
    installed,
    one_line,
    read_json,
)

from micrograd import losses
from micrograd.data import load_dataset
from micrograd.loop import raw_outputs, targets_for
from micrograd.run import TrainConfig, split
from micrograd.serialization import load

micrograd = installed


# -- 2: Ctrl-C while the pictures are drawn keeps the finished run ---------------------------

DRAWN = ["curves.png", "decision_boundary.png", "confusion_matrix.png"]


def interrupt_while_drawing(cwd: Path) -> tuple[int, str, str]:
    """Train yinyang briefly, press Ctrl-C as soon as the command says it is drawing, and return
    (exit status, stdout, stderr)."""
    process = subprocess.Popen(
        [command(), "train", "--dataset", "yinyang", "--epochs", "5", "--out", "run"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=command_env(),
    )
    assert process.stdout is not None
    seen = []
    try:
        while True:
            ready, _, _ = select.select([process.stdout], [], [], 120)
            assert ready, f"no line from the command within 120 s: {seen}"
            line = process.stdout.readline()
            assert line, f"the command ended without saying it draws the pictures: {seen}"
            seen.append(line)
            if line.startswith("drawing the pictures"):
                process.send_signal(signal.SIGINT)
                break
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, "".join(seen) + out, err


def test_ctrl_c_while_drawing_keeps_the_finished_run_and_names_what_was_not_drawn(
    tmp_path: Path,
) -> None:
    # The signal is sent the moment the command says it starts drawing, which takes about a
    # second (importing matplotlib, three pictures); only a machine stalled for that long lets
    # the drawing finish first (the run is then kept, and said to be interrupted after the
    # drawing), and then the run is tried again.
    for _attempt in range(3):
        status, out, err = interrupt_while_drawing(tmp_path)
        assert (tmp_path / "run" / "model.json").is_file(), (out, err)
        if status == 130 and "interrupted while drawing the pictures" in err:
            break
        shutil.rmtree(tmp_path / "run")
    assert status == 130, (out, err)
    line = one_line(err)
    assert "interrupted while drawing the pictures" in line
    folder = tmp_path / "run"
    run_json = read_json(folder / "run.json")
    assert run_json["status"] == "completed" and run_json["epochs"] == 5
    assert load(folder / "model.json").layer_sizes[-1] == 3
    present = sorted(p.name for p in folder.iterdir())
    assert sorted(run_json["files"]) == present  # run.json lists exactly what is there
    assert {"model.json", "run.json"} <= set(present)
    missing = [name for name in DRAWN if name not in present]
    assert missing, present
    assert f"not drawn: {', '.join(missing)}" in line
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


# -- 3: a diverged run saves the weights its metrics describe --------------------------------


def moons_training_split() -> tuple[np.ndarray, np.ndarray]:
    train, _, _, _ = split(TrainConfig(), load_dataset("moons", None, None, 0))
    return train.X, train.y


@pytest.mark.parametrize("lr", ["1e10", "1e50", "1e308"])
def test_a_diverged_run_saves_the_weights_its_metrics_describe(tmp_path: Path, lr: str) -> None:
    done = micrograd(
        ["train", "--lr", lr, "--epochs", "30", "--out", "d", "--no-plots", "--quiet"], tmp_path
    )
    assert done.returncode == 2, done.stderr
    line = one_line(done.stderr)
    run_json = read_json(tmp_path / "d" / "run.json")
    # The saved model gives finite outputs, and the loss and accuracy run.json reports are
    # this model's on the training split (full-batch training: one step per epoch).
    model = load(tmp_path / "d" / "model.json")
    X, y = moons_training_split()
    out = raw_outputs(model, X)[:, 0]
    assert np.isfinite(out).all()
    loss = losses.hinge_loss(out, targets_for("hinge", "binary", y)).data
    assert float(loss) == pytest.approx(run_json["metrics"]["loss"], rel=1e-9)
    assert float(np.mean((out > 0) == y)) == pytest.approx(run_json["metrics"]["accuracy"])
    epochs = run_json["epochs"]
    assert run_json["status"] == "diverged"
    assert run_json["diverged_at_epoch"] == epochs + 1
    assert f"diverged at epoch {epochs + 1}" in line and f"as of epoch {epochs}" in line
    predicted = micrograd(
        ["predict", "--model", "d/model.json", "--input", "0.5,0.2", "--format", "csv"], tmp_path
    )
    assert predicted.returncode == 0, predicted.stderr


def test_a_diverged_run_names_its_folder_as_it_is_on_disk(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stderr line is plain text: a folder with brackets is not written rich-escaped."""
    monkeypatch.chdir(tmp_path)
    argv = ["train", "--lr", "1e10", "--epochs", "30", "--out", "[d]", "--no-plots", "--quiet"]
    line = assert_error(argv, capsys, "diverged")
    assert line.endswith(f"in [d]{os.sep}"), line
    assert (tmp_path / "[d]" / "run.json").is_file()


# -- 4: a loss that explodes is divergence, and no float prints as a string of digits --------


def test_momentum_above_one_explodes_and_is_divergence(tmp_path: Path) -> None:
    done = micrograd(["train", "--momentum", "5", "--epochs", "30", "--out", "m"], tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    line = one_line(done.stderr)
    assert "diverged" in line and "loss exploded" in line and "momentum below 1" in line
    run_json = read_json(tmp_path / "m" / "run.json")
    assert run_json["status"] == "diverged"
    first = run_json["history"][0]["loss"]
    assert all(row["loss"] <= 1e6 * max(first, 1.0) for row in run_json["history"])
    assert not re.search(r"\d{12}", done.stdout + done.stderr)


def test_huge_losses_print_in_scientific_notation(tmp_path: Path) -> None:
    """Targets around 1e20: the loss is about 1e40 all along (Adam's steps are small), which the
    summary prints as 1.5e+40, not as 41 digits."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=40)
    rows = "".join(f"{float(v)!r},{float(1e20 * (1 + v))!r}\n" for v in x)
    (tmp_path / "big.csv").write_text("x,y\n" + rows, encoding="utf-8")
    args = ["--optimizer", "adam", "--lr", "0.001", "--epochs", "3", "--no-plots"]
    done = micrograd(["train", "--data", "big.csv", *args, "--out", "big"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert not re.search(r"\d{12}", done.stdout), done.stdout
    assert re.search(r"loss \(mse\)\s+\d\.\d+e\+40", done.stdout), done.stdout
    metrics: dict[str, Any] = json.loads((tmp_path / "big" / "run.json").read_text())["metrics"]
    assert math.isfinite(metrics["loss"])
