"""`micrograd sweep`: a grid from the command line to a ranked table, files and pictures; resume,
show, Dask backends, Ctrl-C and a killed driver; every mistake one line with status 2.

Runs are tiny (30 samples, a few epochs). The Dask tests start real clusters on 127.0.0.1 and
the kill tests real processes: they run in CI.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import assert_missing_extra, run_without

from micrograd import cli
from micrograd.sweep import Store

Capsys = pytest.CaptureFixture[str]

TINY = ["samples=30", "epochs=6"]
GRID = ["--grid", "activation=tanh,relu", "lr=0.1,1", *TINY, "--seeds", "3"]
# Per-sample runs of a tenth of a second or so: slow enough to stop half-way.
SLOW = [
    "--grid",
    "activation=tanh,relu,sigmoid",
    "lr=0.03,0.3,1",
    "samples=40",
    "epochs=30",
    "mode=per-sample",
    "--seeds",
    "4",
]


def stored(db: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(db) as con:
        return list(con.execute("SELECT key, seed FROM runs"))


def test_a_grid_sweep_ranks_settings_and_writes_files_and_pictures(
    tmp_path: Path, capsys: Capsys
) -> None:
    db = tmp_path / "sweep.db"
    argv = [
        "sweep",
        *GRID,
        "--db",
        str(db),
        "--workers",
        "1",
        "--csv",
        str(tmp_path / "r.csv"),
        "--json",
        str(tmp_path / "s.json"),
    ]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "4 settings x 3 seeds = 12 runs" in out
    assert "accuracy" in out and "mean ± std" in out and "converged" in out
    assert "12 of 12 runs stored" in out and "best: activation=" in out
    assert len(stored(db)) == 12
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert len(rows) == 12 and {r["status"] for r in rows} == {"finished"}
    assert set(rows[0]) >= {"rank", "activation", "lr", "seed", "accuracy", "loss", "epochs"}
    summary = json.loads((tmp_path / "s.json").read_text())
    assert [s["rank"] for s in summary["settings"]] == [1, 2, 3, 4]
    scores = [s["accuracy"]["mean"] for s in summary["settings"]]
    assert scores == sorted(scores, reverse=True)
    plots = tmp_path / "sweep-plots"
    assert sorted(p.name for p in plots.iterdir()) == [
        "best_curves.png",
        "boxes.png",
        "heatmap.png",
        "parallel.png",
    ]
    # show re-renders from the database alone: same table, nothing run
    assert cli.main(["sweep", "show", str(db), "--no-plots"]) == 0
    shown = capsys.readouterr().out

    def ranked(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.strip()[:1].isdigit() and "±" in line]

    assert len(ranked(out)) == 4 and ranked(out) == ranked(shown)
    assert len(stored(db)) == 12


def test_an_existing_database_is_never_overwritten(tmp_path: Path, capsys: Capsys) -> None:
    db = tmp_path / "sweep.db"
    assert (
        cli.main(["sweep", *GRID, "--db", str(db), "--workers", "1", "--quiet", "--no-plots"]) == 0
    )
    assert cli.main(["sweep", *GRID, "--db", str(db)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "already holds a sweep (12 of 12 runs stored)" in err
    assert f"micrograd sweep --resume {db}" in err


def test_a_dry_run_counts_and_estimates_without_running(tmp_path: Path, capsys: Capsys) -> None:
    db = tmp_path / "sweep.db"
    assert cli.main(["sweep", *GRID, "--db", str(db), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "4 settings x 3 seeds = 12 runs" in out and "estimate: about" in out
    assert out.splitlines()[-1] == f"the runs would go to {db} (a dry run writes nothing)"
    assert not db.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--grid", "lr=abc"], "--grid lr=abc: 'abc' is not a number"),
        (["--grid", "lr"], "--grid lr: expected KEY=VALUE,VALUE,..."),
        (["--grid", "actvation=tanh"], "unknown option 'actvation' (did you mean activation?)"),
        (["--grid", "layers=8,2"], "the setting (fixed) does not fit: --layers 8,2 ends with 2"),
        (["--grid", "lr=0.001..1"], "is a range: ranges need a random search"),
        (
            ["--grid", "optimizer=sgd,adam", "momentum=0.9"],
            "the setting optimizer=adam is invalid: momentum applies to the sgd optimizer only",
        ),
        ([], "sweep needs settings: --grid KEY=VALUES"),
        (["--grid", "lr=1", "--file", "x.toml"], "give --grid or --file, not both"),
        (["--file", "missing.toml"], "missing.toml: no such sweep file"),
        (["--resume", "missing.db"], "missing.db does not exist"),
        (["--resume", "x.db", "--file", "s.toml"], "--resume x.db takes the sweep from the db"),
        (["--grid", "lr=1", "--cluster", "tcp://a:1"], "--cluster tcp://a:1: expected local:N"),
        (["--grid", "lr=1", "--scheduler", "tcp://nohost"], "expected tcp://HOST:PORT"),
        (["--grid", "lr=1,2", "--heatmap", "lr,epochs"], "--heatmap lr,epochs: epochs is not"),
    ],
)
def test_mistakes_are_one_line_with_status_2(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch, argv: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert (
        cli.main(["sweep", *argv, "--seeds", "1"] if "--resume" not in argv else ["sweep", *argv])
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("micrograd: error:") and err.count("\n") == 0
    assert message.replace("the db", "the database") in err
    assert list(tmp_path.iterdir()) == []  # nothing ran, nothing was written


def test_sweep_file_mistakes_are_one_line_with_status_2(tmp_path: Path, capsys: Capsys) -> None:
    bad = tmp_path / "sweep.toml"
    bad.write_text("seeds = 2\n[grid]\nlr = [0.1, 'fast']\n")
    assert cli.main(["sweep", "--file", str(bad), "--db", str(tmp_path / "s.db")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"micrograd: error: {bad}: [grid] lr: 'fast' is not a number"


def test_a_sweep_file_runs_on_a_dask_local_cluster(tmp_path: Path, capsys: Capsys) -> None:
    sweep_file = tmp_path / "sweep.toml"
    sweep_file.write_text(
        "seeds = 2\n[fixed]\nsamples = 30\nepochs = 5\n[grid]\nlayers = [[4, 1], [8, 1]]\n"
    )
    db = tmp_path / "dask.db"
    assert (
        cli.main(
            [
                "sweep",
                "--file",
                str(sweep_file),
                "--cluster",
                "local:2",
                "--db",
                str(db),
                "--no-plots",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "a Dask LocalCluster of 2 worker processes on 127.0.0.1" in out
    assert "4 of 4 runs stored" in out and "layers" in out
    local = tmp_path / "local.db"
    assert (
        cli.main(
            ["sweep", "--file", str(sweep_file), "--workers", "2", "--db", str(local), "--quiet"]
        )
        == 0
    )
    with Store.open(db) as a, Store.open(local) as b:
        assert sorted((r.key, r.seed, json.dumps(r.metrics)) for r in a.records()) == sorted(
            (r.key, r.seed, json.dumps(r.metrics)) for r in b.records()
        )


def test_an_existing_dask_scheduler_takes_the_runs(tmp_path: Path, capsys: Capsys) -> None:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as cluster:
        db = tmp_path / "sweep.db"
        assert (
            cli.main(
                [
                    "sweep",
                    *GRID,
                    "--scheduler",
                    cluster.scheduler_address,
                    "--db",
                    str(db),
                    "--no-plots",
                ]
            )
            == 0
        )
    assert f"the Dask scheduler at {cluster.scheduler_address}" in capsys.readouterr().out
    assert len(set(stored(db))) == 12


def start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    """The installed command's module in its own session (its workers die with the group)."""
    return subprocess.Popen(
        [sys.executable, "-m", "micrograd", "sweep", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for_runs(db: Path, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if db.exists():
            try:
                if len(stored(db)) >= count:
                    return
            except sqlite3.Error:
                pass
        time.sleep(0.05)
    raise AssertionError(f"the sweep stored fewer than {count} runs or ended early")


def test_a_driver_killed_mid_sweep_resumes_to_every_run_exactly_once(tmp_path: Path) -> None:
    db = tmp_path / "sweep.db"
    driver = start([*SLOW, "--db", str(db), "--workers", "2"], tmp_path)
    try:
        wait_for_runs(db, 4, driver)
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait(10)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(driver.pid, signal.SIGKILL)  # its orphaned worker processes
        driver.communicate()
    before = len(stored(db))
    assert 4 <= before < 36
    done = subprocess.run(
        [sys.executable, "-m", "micrograd", "sweep", "--resume", str(db), "--no-plots"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"{before} already stored" in done.stdout
    keys = stored(db)
    assert len(keys) == len(set(keys)) == 36


def test_ctrl_c_keeps_the_finished_runs_and_says_how_to_resume(tmp_path: Path) -> None:
    db = tmp_path / "sweep.db"
    driver = start([*SLOW, "--db", str(db), "--cluster", "local:2", "--no-plots"], tmp_path)
    try:
        wait_for_runs(db, 2, driver)
        driver.send_signal(signal.SIGINT)
        _, err = driver.communicate(timeout=60)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
    assert driver.returncode == 130
    kept = len(stored(db))
    assert 2 <= kept < 36
    assert (
        f"micrograd: interrupted: {kept} of 36 runs are stored in {db}; finish with "
        f"'micrograd sweep --resume {db}'"
    ) in err
    assert "Traceback" not in err


def test_seeds_and_random_on_the_command_line_override_the_file(
    tmp_path: Path, capsys: Capsys
) -> None:
    sweep_file = tmp_path / "sweep.toml"
    sweep_file.write_text("seeds = 5\n[grid]\nlr = [0.1, 0.3, 1.0]\nepochs = 3\n")
    base = ["sweep", "--file", str(sweep_file), "--db", str(tmp_path / "s.db"), "--dry-run"]
    assert cli.main(base) == 0
    assert "3 settings x 5 seeds = 15 runs" in capsys.readouterr().out
    assert cli.main([*base, "--seeds", "2", "--random", "2"]) == 0
    assert "2 settings x 2 seeds = 4 runs" in capsys.readouterr().out


def test_train_options_on_the_command_line_are_fixed_in_every_run(
    tmp_path: Path, capsys: Capsys
) -> None:
    db_flags, db_grid = tmp_path / "flags.db", tmp_path / "grid.db"
    common = ["--grid", "activation=tanh,relu", "--seeds", "2", "--workers", "1", "--no-plots"]
    flags = ["sweep", *common, "--samples", "30", "--epochs", "6", "--db", str(db_flags)]
    assert cli.main(flags) == 0
    # A repeated --grid adds to the grid: nothing given is dropped.
    assert cli.main(["sweep", *common, "--grid", *TINY, "--db", str(db_grid)]) == 0
    capsys.readouterr()
    with sqlite3.connect(db_flags) as a, sqlite3.connect(db_grid) as b:
        query = "SELECT seed, metrics, epochs FROM runs ORDER BY key, seed"
        assert list(a.execute(query)) == list(b.execute(query))
        configs = [json.loads(c) for (c,) in a.execute("SELECT config FROM runs")]
    assert {(c["samples"], c["epochs"]) for c in configs} == {(30, 6)}


def test_fixed_options_beside_a_sweep_file_are_refused(tmp_path: Path, capsys: Capsys) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text('[grid]\nactivation = ["tanh", "relu"]\n')
    assert (
        cli.main(["sweep", "--file", str(spec), "--epochs", "3", "--db", str(tmp_path / "x.db")])
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "put it in the sweep file" in err
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize("missing", [("dask", "distributed"), ("distributed",)])
def test_without_the_sweep_extra_sweep_is_one_line_and_exit_2(
    tmp_path: Path, missing: tuple[str, ...]
) -> None:
    """Without Dask (the `sweep` extra), any sweep, on any backend, says how to install it."""
    argv = ["sweep", *GRID, "--workers", "1", "--db", str(tmp_path / "s.db")]
    result = run_without(missing, argv, tmp_path)
    starts = "micrograd: error: micrograd sweep needs dask[distributed]"
    assert_missing_extra(result, starts, "sweep", tmp_path)  # and no database started


def test_a_stored_sweep_shows_without_dask(tmp_path: Path, capsys: Capsys) -> None:
    db = tmp_path / "s.db"
    tiny = ["--grid", "lr=0.1,1", *TINY, "--seeds", "1", "--workers", "1", "--no-plots"]
    assert cli.main(["sweep", *tiny, "--db", str(db), "--quiet"]) == 0
    capsys.readouterr()
    status, out, err, loaded = run_without(
        ("dask", "distributed"), ["sweep", "show", str(db)], tmp_path
    )
    assert (status, err) == (0, ""), out
    assert "2 of 2 runs stored" in out
    assert not loaded & {"dask", "distributed"}
