"""Sweep pictures (issue 25): a grid gets a heatmap and boxes, a random search a scatter of the
score against each parameter (log axes for log-uniform draws); layer sizes sort by size."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import Capsys
from cli_helpers import run as run_main

from micrograd.sweep import Plan, Sweep
from micrograd.sweep_plots import _ordered


def test_layer_sizes_sort_by_size_not_as_text() -> None:
    assert _ordered({"16,16,1", "8,8,1", "4,1", "32,1"}) == ["4,1", "8,8,1", "16,16,1", "32,1"]
    assert _ordered({"0.1", "0.01", "1"}) == ["0.01", "0.1", "1"]
    assert _ordered({"tanh", "relu"}) == ["relu", "tanh"]


def test_a_grid_is_told_from_a_random_search() -> None:
    grid = Plan.from_sweep(Sweep(grid={"lr": [0.1, 1.0], "layers": [(4, 1), (8, 1)]}, seeds=[0]))
    assert not grid.is_random()
    drawn = Plan.from_sweep(
        Sweep(grid={"lr": [0.1, 1.0, 3.0], "layers": [(4, 1), (8, 1)]}, seeds=[0], draws=3)
    )
    assert drawn.is_random()  # 3 of the 6 combinations


def test_a_random_search_draws_scatter_plots_and_a_grid_a_heatmap(
    tmp_path: Path, capsys: Capsys
) -> None:
    common = ["--samples", "40", "--epochs", "4", "--seeds", "1", "--workers", "1"]
    random_db = tmp_path / "r.db"
    argv = ["sweep", "--random", "5", "--grid", "lr=0.001..1", "l2=0.00001..0.1:log"]
    assert run_main([*argv, *common, "--db", str(random_db)]) == 0
    out = capsys.readouterr().out
    assert "scatter.png" in out and "heatmap.png" not in out
    assert (tmp_path / "r-plots" / "scatter.png").stat().st_size > 10_000
    grid_db = tmp_path / "g.db"
    argv = ["sweep", "--grid", "lr=0.1,1", "layers=16,16,1/4,1"]
    assert run_main([*argv, *common, "--db", str(grid_db)]) == 0
    out = capsys.readouterr().out
    assert "heatmap.png" in out and "scatter.png" not in out


def test_two_or_more_swept_parameters_get_parallel_coordinates(
    tmp_path: Path, capsys: Capsys
) -> None:
    common = ["--samples", "40", "--epochs", "4", "--seeds", "1", "--workers", "1"]
    db = tmp_path / "p.db"
    argv = ["sweep", "--grid", "lr=0.01,0.1,1", "activation=tanh,relu", "layers=4,1/8,8,1"]
    assert run_main([*argv, *common, "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "parallel.png" in out
    assert (tmp_path / "p-plots" / "parallel.png").stat().st_size > 10_000
    one = tmp_path / "one.db"
    assert run_main(["sweep", "--grid", "lr=0.1,1", *common, "--db", str(one)]) == 0
    assert "parallel.png" not in capsys.readouterr().out  # one parameter: nothing to relate
