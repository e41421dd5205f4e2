"""Sweeps, round 2 (issue 25): a run the backend lost is never a result and runs again on
resume; `--retry-errors` reruns real errors; settings rank on held-out data when there is some,
and `--metric` chooses; the table says which metric ranks and how many seeds each setting has."""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Capsys
from cli_helpers import run as run_main

from micrograd.sweep import Backend, Plan, RunRecord, Store, Sweep, run_sweep, summarise
from micrograd.sweep.runner import LOST, run, run_jobs
from micrograd.sweep.spec import SweepError
from micrograd.train import TrainConfig


class KilledWorker(Exception):
    """What Dask raises for a run whose worker died (its name is what users see)."""


class Flaky(Executor):
    """Runs jobs here, but the `lose`-th, `lose+k`-th... submitted come back as lost."""

    def __init__(self, lose: Callable[[int], bool]) -> None:
        self.lose = lose
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        if self.lose(self.submitted):
            future.set_exception(KilledWorker("worker tcp://127.0.0.1:1 died"))
        else:
            future.set_result(fn(*args, **kwargs))
        self.submitted += 1
        return future


def plan(seeds: int = 2, **grid: list[Any]) -> Plan:
    grid = {"samples": [30], "epochs": [5], "lr": [0.1, 1.0], **grid}
    return Plan.from_sweep(Sweep(grid=grid, seeds=range(seeds)))


def test_runs_the_backend_lost_are_not_stored_and_run_again_on_resume(tmp_path: Path) -> None:
    p = plan()
    with Store.create(tmp_path / "sweep.db", p) as store:
        heard: list[RunRecord] = []

        def keep(i: int, record: RunRecord) -> None:
            heard.append(record)
            if record.status != LOST:
                store.add(record)

        run_jobs(
            store.remaining(), Backend.parse("serial"), keep, executor=Flaky(lambda k: k % 2 == 1)
        )
        assert [r.status for r in heard].count(LOST) == 2
        lost = next(r for r in heard if r.status == LOST)
        assert "KilledWorker: worker tcp://127.0.0.1:1 died" in (lost.error or "")
        assert store.count() == 2 and store.counts_by_status() == {"finished": 2}
        assert len(store.remaining()) == 2  # the lost runs are still to do
        assert run_sweep(store, Backend.parse("serial")) == 2  # resume runs exactly them
        assert store.counts_by_status() == {"finished": 4}


def run_cli(capsys: Capsys, argv: list[str]) -> tuple[int, str, str]:
    code = run_main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_says_what_was_lost_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    import micrograd.sweep.runner as runner

    real = runner.open_backend
    flaky = Flaky(lambda k: k == 0)

    def losing(backend: Backend) -> Any:
        if backend.kind == "serial":
            from contextlib import nullcontext

            return nullcontext(flaky)
        return real(backend)

    monkeypatch.setattr(runner, "open_backend", losing)
    db = tmp_path / "s.db"
    code, _out, err = run_cli(
        capsys,
        [
            "sweep",
            "--grid",
            "lr=0.1,1",
            "--samples",
            "30",
            "--epochs",
            "5",
            "--seeds",
            "1",
            "--workers",
            "1",
            "--db",
            str(db),
            "--no-plots",
        ],
    )
    assert code == 1, err
    assert "the backend lost 1 run (the backend lost this run: KilledWorker" in err
    assert f"sweep --resume {db}" in err
    with Store.open(db) as store:
        assert store.counts_by_status() == {"finished": 1}  # never an `error` row


def test_retry_errors_runs_the_errors_again(tmp_path: Path, capsys: Capsys) -> None:
    """A data file missing while the sweep ran: its runs are errors (results, kept on a plain
    resume); once the file is back, --resume --retry-errors runs them again."""
    csv = tmp_path / "points.csv"
    rows = [f"{i / 10},{(i * 7 % 10) / 10},{i % 2}" for i in range(40)]
    text = "x1,x2,label\n" + "\n".join(rows) + "\n"
    p = Plan.from_sweep(
        Sweep(grid={"data_path": [str(csv)], "lr": [0.1, 1.0], "epochs": [3]}, seeds=range(2))
    )
    db = tmp_path / "e.db"
    with Store.create(db, p) as store:
        assert run_sweep(store, Backend.parse("serial")) == 4  # no file yet: four errors
        assert store.counts_by_status() == {"error": 4}
    csv.write_text(text)
    code, _, err = run_cli(capsys, ["sweep", "--resume", str(db), "--no-plots"])
    assert code == 0, err
    with Store.open(db) as store:
        assert store.counts_by_status() == {"error": 4}  # errors are results: kept
    code, _, err = run_cli(
        capsys, ["sweep", "--resume", str(db), "--retry-errors", "--no-plots", "--workers", "1"]
    )
    assert code == 0, err
    with Store.open(db) as store:
        assert store.counts_by_status() == {"finished": 4}
    code, _, err = run_cli(capsys, ["sweep", "--grid", "lr=0.1", "--retry-errors"])
    assert code == 2 and "--retry-errors goes with --resume" in err


def record(key: str, seed: int, **metrics: float) -> RunRecord:
    return RunRecord(key, seed, {}, "finished", metrics={"loss": 0.1, **metrics}, epochs=5)


def test_settings_rank_on_validation_data_when_the_runs_kept_some() -> None:
    """Training accuracy ties at 1.0; validation tells the settings apart (the issue's case)."""
    p = plan(seeds=1)
    first, second = (setting for setting in p.settings)
    from micrograd.sweep.spec import config_from_dict, setting_key

    a, b = (setting_key(config_from_dict(s)) for s in (first, second))
    records = [
        record(a, 0, accuracy=1.0, val_accuracy=0.833, val_loss=0.4),
        record(b, 0, accuracy=1.0, val_accuracy=0.870, val_loss=0.3),
    ]
    ranked = summarise(p, records)
    assert ranked[0].key == b and ranked[0].metric == "val_accuracy"
    assert summarise(p, records, "accuracy")[0].metric == "accuracy"
    assert summarise(p, records, "val_loss")[0].key == b  # lower is better
    with pytest.raises(SweepError, match="the runs have no 'test_accuracy'"):
        summarise(p, records, "test_accuracy")


def test_the_table_says_which_metric_ranks_and_the_seeds_of_each_setting(
    tmp_path: Path, capsys: Capsys
) -> None:
    db = tmp_path / "v.db"
    code, out, err = run_cli(
        capsys,
        [
            "sweep",
            "--grid",
            "lr=0.1,1",
            "--samples",
            "60",
            "--epochs",
            "5",
            "--seeds",
            "2",
            "--val",
            "0.3",
            "--workers",
            "1",
            "--db",
            str(db),
            "--no-plots",
        ],
    )
    assert code == 0, err
    assert "val_accuracy" in out and "ranked by val_accuracy" in out and "held-out data" in out
    assert "seeds" in out and "2/2" in out
    code, out, _ = run_cli(capsys, ["sweep", "show", str(db), "--metric", "accuracy", "--no-plots"])
    assert code == 0 and "ranked by accuracy" in out and "training data" in out
    code, _, err = run_cli(
        capsys, ["sweep", "show", str(db), "--metric", "test_accuracy", "--no-plots"]
    )
    assert code == 2 and "the runs have no 'test_accuracy'" in err and "--test" in err


def test_a_single_run_record_has_held_out_metrics_with_val() -> None:
    r = run(TrainConfig(epochs=3, samples=40, val=0.25))
    assert {"val_accuracy", "val_loss"} <= set(r.metrics)
    assert not math.isnan(r.metrics["val_accuracy"])


def test_a_sweep_grows_with_more_seeds_on_resume(tmp_path: Path, capsys: Capsys) -> None:
    db = tmp_path / "g.db"
    argv = ["sweep", "--grid", "lr=0.1,1", "--samples", "30", "--epochs", "3", "--seeds", "1"]
    code, _, err = run_cli(capsys, [*argv, "--workers", "1", "--db", str(db), "--no-plots"])
    assert code == 0, err
    with Store.open(db) as store:
        first = {(r.key, r.seed): r.metrics for r in store.records()}
    code, out, err = run_cli(
        capsys, ["sweep", "--resume", str(db), "--seeds", "3", "--workers", "1", "--no-plots"]
    )
    assert code == 0, err
    assert "2 settings x 3 seeds = 6 runs, 2 already stored" in out and "3/3" in out
    with Store.open(db) as store:
        records = list(store.records())
        assert sorted(r.seed for r in records) == [0, 0, 1, 1, 2, 2]
        assert all(first[(r.key, r.seed)] == r.metrics for r in records if r.seed == 0)
    code, _, err = run_cli(capsys, ["sweep", "--resume", str(db), "--seeds", "2"])
    assert code == 2 and "can grow, not shrink" in err


def test_a_grid_grows_with_new_values_on_resume(tmp_path: Path, capsys: Capsys) -> None:
    db = tmp_path / "w.db"
    argv = ["sweep", "--grid", "lr=0.1,1", "activation=tanh,relu", "--samples", "30"]
    argv += ["--epochs", "3", "--seeds", "1", "--workers", "1", "--db", str(db), "--no-plots"]
    code, _, err = run_cli(capsys, argv)
    assert code == 0, err
    code, out, err = run_cli(
        capsys, ["sweep", "--resume", str(db), "--grid", "lr=3", "--workers", "1", "--no-plots"]
    )
    assert code == 0, err
    assert "6 settings x 1 seeds = 6 runs, 4 already stored" in out
    with Store.open(db) as store:
        lrs = sorted({r.config["lr"] for r in store.records()})
        assert lrs == [0.1, 1.0, 3.0] and store.count() == 6
    code, _, err = run_cli(capsys, ["sweep", "--resume", str(db), "--grid", "momentum=0.5"])
    assert code == 2 and "add values to those" in err
    random_db = tmp_path / "r.db"
    argv = ["sweep", "--random", "3", "--grid", "lr=0.001..1", "l2=0..0.01", "--samples", "30"]
    argv += ["--epochs", "2", "--seeds", "1", "--workers", "1", "--db", str(random_db)]
    code, _, err = run_cli(capsys, [*argv, "--no-plots", "--quiet"])
    assert code == 0, err
    code, _, err = run_cli(capsys, ["sweep", "--resume", str(random_db), "--grid", "lr=0.5"])
    assert code == 2 and "is a random search" in err
