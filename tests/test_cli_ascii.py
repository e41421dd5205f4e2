"""A terminal or pipe that cannot encode what we print (issue 26, defect 10): the command
degrades to ASCII look-alikes (± as +/-, tables in ASCII) instead of dying halfway."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import command_env, installed


def test_compare_and_sweep_print_in_ascii_when_the_stream_is_ascii(tmp_path: Path) -> None:
    env = {**command_env(), "PYTHONIOENCODING": "ascii"}
    compare = installed(
        ["compare", "--activation", "tanh", "relu", "--runs", "2", "--epochs", "3"],
        tmp_path,
        env=env,
    )
    assert compare.returncode == 0, compare.stderr
    assert "+/-" in compare.stdout and "Traceback" not in compare.stderr
    compare.stdout.encode("ascii")  # nothing outside ASCII
    rows = [line for line in compare.stdout.splitlines() if line.startswith("|")]
    assert rows and len({len(line) for line in rows}) == 1  # the columns line up
    sweep_args = ["sweep", "--grid", "lr=0.1,1", "--epochs", "3", "--samples", "30"]
    sweep_args += ["--seeds", "2", "--workers", "1", "--db", "s.db", "--no-plots"]
    sweep = installed(sweep_args, tmp_path, env=env)
    assert sweep.returncode == 0, sweep.stderr
    assert "+/-" in sweep.stdout and "Traceback" not in sweep.stderr
