"""`micrograd sweep --prune` (issue 25): successive halving screens the grid on short runs, and
on a seeded example still picks the full grid's best setting, running a fraction of the runs."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import Capsys
from cli_helpers import run as run_main

from micrograd.sweep import Backend, Plan, Store, Sweep, summarise
from micrograd.sweep.prune import successive_halving

GRID = ["lr=0.001,0.01,0.1,1", "activation=tanh,relu", "layers=4,1/16,16,1"]
# a seeded example with one clear best setting (ranked by the final loss: accuracies tie at 1)
COMMON = ["--noise", "0.25", "--epochs", "90", "--seeds", "2", "--metric", "loss"]
COMMON += ["--workers", "2", "--no-plots", "--quiet"]


def test_pruning_runs_a_fraction_and_picks_the_full_grid_s_best(
    tmp_path: Path, capsys: Capsys
) -> None:
    full, pruned = tmp_path / "full.db", tmp_path / "pruned.db"
    assert run_main(["sweep", "--grid", *GRID, *COMMON, "--db", str(full)]) == 0
    assert run_main(["sweep", "--grid", *GRID, *COMMON, "--db", str(pruned), "--prune"]) == 0
    capsys.readouterr()
    with Store.open(full) as a, Store.open(pruned) as b:
        best_full = summarise(a.plan(), a.records(), "loss")[0]
        best_pruned = summarise(b.plan(), b.records(), "loss")[0]
        assert best_pruned.config == best_full.config
        assert a.count() == 16 * 2 and b.count() == 2 * 2  # 2 of 16 settings survive
        assert "pruned by successive halving: 6 of 16" in b.plan().description
        assert list(b.plan().varied) == list(a.plan().varied)


def test_a_small_grid_is_not_pruned_and_resume_refuses_prune(
    tmp_path: Path, capsys: Capsys
) -> None:
    plan = Plan.from_sweep(
        Sweep(grid={"lr": [0.1, 1.0], "epochs": [3], "samples": [30]}, seeds=[0])
    )
    pruning = successive_halving(plan, Backend.parse("serial"))
    assert pruning.plan.settings == plan.settings and pruning.rungs == []
    db = tmp_path / "s.db"
    assert (
        run_main(
            [
                "sweep",
                "--grid",
                "lr=0.1,1",
                "--epochs",
                "3",
                "--seeds",
                "1",
                "--workers",
                "1",
                "--db",
                str(db),
                "--no-plots",
                "--quiet",
            ]
        )
        == 0
    )
    assert run_main(["sweep", "--resume", str(db), "--prune"]) == 2
    assert "--prune screens a new sweep" in capsys.readouterr().err


def test_pruning_by_a_metric_the_runs_lack_is_refused_before_anything_is_stored(
    tmp_path: Path, capsys: Capsys
) -> None:
    """--metric val_accuracy without --val: the screening runs have no such score. Ranked by
    it, every setting tied and the first third (here the smallest learning rates) went on, ran
    in full and filled the database before the report said the runs lack the metric."""
    db = tmp_path / "s.db"
    argv = ["sweep", "--grid", "lr=0.001,0.003,0.01,0.03,0.1,0.3,1,3,10,30", "--prune"]
    argv += ["--metric", "val_accuracy", "--epochs", "9", "--samples", "40", "--seeds", "1"]
    code = run_main([*argv, "--workers", "1", "--db", str(db), "--no-plots", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "the runs have no 'val_accuracy'" in err and "--val" in err
    assert not db.exists()
