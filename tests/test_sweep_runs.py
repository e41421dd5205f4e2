"""Sweeps run: the same numbers on every backend, faults recorded, nothing lost or doubled.

These start real worker processes, a Dask LocalCluster on 127.0.0.1 and SQLite files; they run
in CI (never skipped there). Runs are tiny: a few epochs on a few samples.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from micrograd.optional import MissingDependencyError
from micrograd.sweep import (
    Backend,
    BackendError,
    Plan,
    RunRecord,
    Store,
    StoreError,
    Sweep,
    estimate,
    open_backend,
    run_sweep,
    summarise,
)
from micrograd.train import TrainConfig, evaluate

TINY = {"samples": [30], "epochs": [8]}


def tiny_plan(seeds: int = 3, **grid: list[object]) -> Plan:
    grid = {"activation": ["tanh", "relu"], "lr": [0.1, 1.0], **TINY, **grid}
    return Plan.from_sweep(Sweep(grid=grid, seeds=range(seeds)))


def numbers(store: Store) -> dict[tuple[str, int], tuple[str, str, str]]:
    """Everything a run computed, exactly (as JSON text), by (setting, seed); not its time."""
    out = {}
    for r in store.records():
        rows = [{k: v for k, v in row.items() if k != "seconds"} for row in r.history]
        out[(r.key, r.seed)] = (r.status, json.dumps(r.metrics), json.dumps(rows))
    return out


def sweep_on(tmp_path: Path, backend: str, plan: Plan) -> dict[tuple[str, int], tuple[str, ...]]:
    db = tmp_path / f"{backend.replace(':', '-')}.db"
    with Store.create(db, plan) as store:
        assert run_sweep(store, Backend.parse(backend)) == len(plan.jobs())
        return numbers(store)


def test_the_same_sweep_gives_bit_identical_numbers_on_every_backend(tmp_path: Path) -> None:
    plan = tiny_plan()
    serial = sweep_on(tmp_path, "serial", plan)
    assert len(serial) == 12 and {s for s, _, _ in serial.values()} == {"finished"}
    assert sweep_on(tmp_path, "processes:2", plan) == serial
    assert sweep_on(tmp_path, "local:2", plan) == serial


@pytest.mark.parametrize("backend", ["local:2", "processes:2"])
def test_a_worker_killed_mid_sweep_is_replaced_and_every_run_is_stored_once(
    tmp_path: Path, backend: str
) -> None:
    # Per-sample runs of about a tenth of a second: the killed worker is busy with the next one.
    plan = Plan.from_sweep(
        Sweep(
            grid={"samples": [40], "epochs": [30], "mode": ["per-sample"], "lr": [0.1, 0.5]},
            seeds=range(8),
        )
    )
    killed: list[int] = []

    def kill_first_worker(record: RunRecord, done: int, total: int) -> None:
        if not killed:
            pid = int(record.worker.rpartition(":")[2])
            assert pid != os.getpid()
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    with Store.create(tmp_path / "sweep.db", plan) as store:
        run_sweep(store, Backend.parse(backend), kill_first_worker)
        records = list(store.records())
    assert killed
    assert sorted((r.key, r.seed) for r in records) == sorted((j.key, j.seed) for j in plan.jobs())
    assert {r.status for r in records} == {"finished"}
    later = records[records.index(next(r for r in records if str(killed[0]) in r.worker)) + 1 :]
    assert all(not r.worker.endswith(f":{killed[0]}") for r in later)


def test_divergence_and_errors_are_recorded_and_the_sweep_goes_on(tmp_path: Path) -> None:
    plan = Plan.from_sweep(
        Sweep(
            grid={
                "dataset": ["regression_1d"],
                "samples": [30],
                "epochs": [20],
                "lr": [0.01, 1e6],
                "layers": [(8, 1), (8, 2)],
            },
            seeds=range(2),
        )
    )
    with Store.create(tmp_path / "sweep.db", plan) as store:
        assert run_sweep(store, Backend.parse("processes:2")) == 8
        records = list(store.records())
        results = summarise(store.plan(), records)
    by_setting = {(r.config["lr"], r.config["layers"][-1]): r.status for r in records}
    assert by_setting == {
        (0.01, 1): "finished",
        (1e6, 1): "diverged",
        (0.01, 2): "error",
        (1e6, 2): "error",
    }
    diverged = next(r for r in records if r.status == "diverged")
    assert diverged.metrics == {} and "smaller learning rate" in (diverged.error or "")
    assert 0 < diverged.epochs < 20  # the rows up to the last good epoch are kept
    error = next(r for r in records if r.status == "error")
    assert error.error is not None and "\n" not in error.error
    assert error.error.startswith("ConfigError: the last layer has 2 outputs")
    assert results[0].config["lr"] == 0.01 and results[0].config["layers"] == [8, 1]
    assert results[0].summary.converged == 2 and not math.isnan(results[0].score)
    assert results[-1].errors and len(results[-1].errors) == 2


@pytest.mark.parametrize("backend", ["processes:2", "local:2"])
def test_ctrl_c_ends_the_running_runs_drops_the_queued_and_keeps_the_finished(
    tmp_path: Path, backend: str
) -> None:
    # Each seed: a short run, then one of half a minute; Ctrl-C comes as the first short
    # one is stored, while a long one is running.
    plan = Plan.from_sweep(
        Sweep(
            grid={"samples": [40], "mode": ["per-sample"], "epochs": [3, 5000]},
            seeds=range(4),
        )
    )
    with Store.create(tmp_path / "sweep.db", plan) as store:
        start = time.perf_counter()

        def interrupt(record: RunRecord, done: int, total: int) -> None:
            nonlocal start
            start = time.perf_counter()
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            run_sweep(store, Backend.parse(backend), interrupt)
        assert time.perf_counter() - start < 10  # not the half minute the long run takes
        assert store.count() == 1
        assert [r.config["epochs"] for r in store.records()] == [3]
        assert len(store.remaining()) == 7


def test_a_database_is_never_overwritten_and_a_foreign_file_is_refused(tmp_path: Path) -> None:
    plan = tiny_plan(seeds=1)
    db = tmp_path / "sweep.db"
    with Store.create(db, plan) as store:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.plan() == plan
    with pytest.raises(StoreError, match="already exists"):
        Store.create(db, plan)
    (tmp_path / "notes.db").write_text("not a database")
    with pytest.raises(StoreError, match="not a sweep database"):
        Store.open(tmp_path / "notes.db")
    with pytest.raises(StoreError, match="does not exist"):
        Store.open(tmp_path / "missing.db")


def test_a_run_is_stored_once_even_when_it_arrives_twice(tmp_path: Path) -> None:
    plan = tiny_plan(seeds=1)
    with Store.create(tmp_path / "sweep.db", plan) as store:
        run_sweep(store, Backend.parse("serial"))
        record = next(store.records())
        assert store.add(record) is False
        assert store.count() == 4
        assert run_sweep(store, Backend.parse("serial")) == 0  # resuming a finished sweep


def test_backends_are_parsed_and_bad_ones_named() -> None:
    assert Backend.parse("local:3") == Backend("local", 3)
    assert Backend.parse("processes:2") == Backend("processes", 2)
    assert Backend.parse("tcp://10.0.0.5:8786") == Backend("scheduler", None, "tcp://10.0.0.5:8786")
    for bad, message in [
        ("local:0", "local:N with N >= 1"),
        ("tcp://host", "tcp://HOST:PORT"),
        ("gpu", "unknown backend 'gpu'"),
    ]:
        with pytest.raises(BackendError, match=message):
            Backend.parse(bad)


@pytest.mark.parametrize("backend", ["local:1", "tcp://127.0.0.1:1"])
def test_a_dask_backend_without_dask_names_the_extra(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("dask", "distributed"):
        monkeypatch.setitem(sys.modules, name, None)
    with (
        pytest.raises(MissingDependencyError, match=r'needs dask.*"micrograd\[sweep\]"'),
        open_backend(Backend.parse(backend)),
    ):
        pass


def test_an_estimate_times_short_runs_and_scales_to_the_whole_sweep() -> None:
    jobs = tiny_plan(seeds=2).jobs()
    guess = estimate(jobs, workers=2)
    assert guess.runs == 8 and guess.timed == 4 and guess.workers == 2
    assert 0 < guess.seconds < 60 and guess.seconds == pytest.approx(8 * guess.seconds_per_run / 2)


def test_evaluate_goes_through_the_runner_and_matches_a_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from micrograd.sweep import runner

    config = TrainConfig(samples=30, epochs=8, activation="tanh", lr=0.1)
    summary = evaluate(config, seeds=range(3), workers=2)
    seen: list[int] = []
    real = runner.run

    def counted(config: TrainConfig, seed: int | None = None) -> RunRecord:
        seen.append(config.seed)
        return real(config, seed)

    monkeypatch.setattr(runner, "run", counted)
    assert evaluate(config, seeds=range(3), workers=1).runs == summary.runs
    assert seen == [0, 1, 2]
    plan = tiny_plan()
    with Store.create(tmp_path / "sweep.db", plan) as store:
        run_sweep(store, Backend.parse("serial"))
        results = summarise(store.plan(), store.records())
    same = next(r for r in results if r.values == {"activation": "tanh", "lr": 0.1})
    assert same.summary.runs == summary.runs


def test_the_sweep_benchmark_runs_every_backend_and_writes_json(tmp_path: Path) -> None:
    import subprocess
    import sys

    bench = Path(__file__).resolve().parent.parent / "bench" / "sweep.py"
    out = tmp_path / "sweep.json"
    done = subprocess.run(
        [
            sys.executable,
            str(bench),
            "--runs",
            "20",
            "--rounds",
            "1",
            "--workers",
            "2",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["runs"] == 20
    assert (
        sorted(result["medians"])
        == [
            "Dask LocalCluster (2)",
            "local processes (2)",
            "serial (1 process)",
        ]
        or result["workers"] != 2
    )
    assert all(m["runs_per_s"] > 0 for m in result["medians"].values())
    assert "| backend | start s | runs/s |" in done.stdout
