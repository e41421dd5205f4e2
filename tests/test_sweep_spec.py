"""Sweep plans: grids and random searches expand as described, and bad input is named precisely.

Text is read by the command's own option parsers (`micrograd.cli.sweep_plan.parameters()`), so a
sweep accepts exactly what `micrograd train` accepts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd.cli.sweep_plan import parameters
from micrograd.sweep import Plan, Range, Sweep, SweepError, load_sweep_file, parse_grid
from micrograd.sweep.spec import setting_key
from micrograd.train import TrainConfig

PARAMS = parameters()


def test_a_grid_expands_to_every_combination_times_every_seed() -> None:
    grid, ranges = parse_grid(
        [
            "activation=tanh,relu",
            "lr=0.01,0.1,1",
            "layers=8,8,1/16,16,1",
            "epochs=50",
            "batch-size=none,16",
        ],
        PARAMS,
    )
    assert ranges == {}
    assert grid == {
        "activation": ["tanh", "relu"],
        "lr": [0.01, 0.1, 1.0],
        "layers": [(8, 8, 1), (16, 16, 1)],
        "epochs": [50],
        "batch_size": [None, 16],
    }
    sweep = Sweep(grid=grid, seeds=range(3))
    jobs = sweep.jobs()
    assert len(jobs) == 2 * 3 * 2 * 2 * 3
    assert len({(j.key, j.seed) for j in jobs}) == len(jobs)
    assert all(j.config.epochs == 50 and j.config.seed == j.seed for j in jobs)
    assert sweep.varied == ["activation", "lr", "layers", "batch_size"]
    assert [j.seed for j in jobs[:24]] == [0] * 24  # seed by seed
    assert Sweep(grid=grid, seeds=range(3)).jobs() == jobs


def test_a_plan_round_trips_through_json_and_names_what_varies() -> None:
    sweep = Sweep(
        grid={"activation": ["tanh", "relu"], "lr": [0.5], "layers": [(4, 1)]}, seeds=[0, 5]
    )
    plan = Plan.from_sweep(sweep)
    assert plan.varied == ["activation"]
    assert Plan.from_json(plan.to_json()) == plan
    assert plan.jobs() == sweep.jobs()


def test_the_setting_key_ignores_the_seed_only() -> None:
    a = TrainConfig(lr=0.1, seed=1)
    assert setting_key(a) == setting_key(TrainConfig(lr=0.1, seed=7))
    assert setting_key(a) != setting_key(TrainConfig(lr=0.2, seed=1))


def test_a_random_search_draws_repeatably_inside_its_ranges() -> None:
    grid, ranges = parse_grid(
        ["lr=0.001..1", "l2=0..0.01", "epochs=10..40", "optimizer=sgd,adam"], PARAMS
    )
    assert ranges["lr"] == Range(0.001, 1.0, log=True)
    assert ranges["l2"] == Range(0.0, 0.01)
    assert ranges["epochs"] == Range(10, 40, integer=True)
    sweep = Sweep(grid=grid, ranges=ranges, draws=50, seeds=[0])
    configs = sweep.settings()
    assert configs == Sweep(grid=grid, ranges=ranges, draws=50, seeds=[0]).settings()
    assert configs != Sweep(grid=grid, ranges=ranges, draws=50, seeds=[0], random_seed=1).settings()
    assert all(0.001 <= c.lr <= 1 and 0 <= c.l2 <= 0.01 and 10 <= c.epochs <= 40 for c in configs)
    assert all(isinstance(c.epochs, int) for c in configs)
    assert {c.optimizer for c in configs} == {"sgd", "adam"}
    # log-uniform: about a third of the draws in each decade
    below = sum(c.lr < 0.01 for c in configs)
    assert 5 <= below <= 30


@settings(max_examples=40, deadline=None)
@given(low=st.floats(1e-6, 1.0), span=st.floats(1.0, 1e4), seed=st.integers(0, 2**32))
def test_log_uniform_draws_stay_in_their_range(low: float, span: float, seed: int) -> None:
    import random

    r = Range(low, low * span, log=True)
    rng = random.Random(seed)
    assert all(low <= r.draw(rng) <= low * span for _ in range(20))


def test_a_random_search_over_a_grid_picks_distinct_settings() -> None:
    grid, _ = parse_grid(["activation=tanh,relu", "lr=0.01,0.1,1"], PARAMS)
    configs = Sweep(grid=grid, draws=4, seeds=[0]).settings()
    assert len({setting_key(c) for c in configs}) == 4
    with pytest.raises(SweepError, match="more settings than the grid has"):
        Sweep(grid=grid, draws=7, seeds=[0]).settings()


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["lr"], "--grid lr: expected KEY=VALUE,VALUE,... e.g. lr=0.01,0.1,1"),
        (["lrr=0.1"], "--grid lrr=0.1: unknown option 'lrr' (did you mean lr?)"),
        (["lr=0.1,abc"], "--grid lr=0.1,abc: 'abc' is not a number"),
        (["lr=0.1,-1"], "--grid lr=0.1,-1: expected a number > 0, got -1"),
        (["lr=0.1,"], "--grid lr=0.1,: an empty value for lr"),
        (["lr=0.1,0.1"], "--grid lr=0.1,0.1: 0.1 is listed twice"),
        (["activation=tanh,gelu"], "--grid activation=tanh,gelu: 'gelu' is not one of"),
        (["layers=8,8,1/16,0,1"], "--grid layers=8,8,1/16,0,1: in '16,0,1', a layer needs"),
        (["lr=0.1", "lr=1"], "--grid lr=1: lr is given twice"),
        (["seed=1,2"], "seed cannot be swept"),
        (["lr=0..1"], "--grid lr=0..1: expected a number > 0, got 0"),
        (["l2=0..0.1:log"], "--grid l2=0..0.1:log: a log-uniform range needs low > 0"),
        (["lr=1..0.1"], "--grid lr=1..0.1: a range needs finite low <= high, got 1..0.1"),
        (["activation=tanh..relu"], "activation takes names, not numbers"),
        (["lr=0.1..1:cubic"], "unknown scale 'cubic'"),
    ],
)
def test_grid_errors_name_the_item_and_what_was_expected(items: list[str], message: str) -> None:
    with pytest.raises(SweepError) as caught:
        grid, ranges = parse_grid(items, PARAMS)
        Sweep(grid=grid, ranges=ranges, draws=3 if ranges else None).settings()
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_range_without_a_random_search_is_refused() -> None:
    grid, ranges = parse_grid(["lr=0.001..1"], PARAMS)
    with pytest.raises(SweepError, match=r"lr=0.001..1 \(log\) is a range: ranges need a random"):
        Sweep(grid=grid, ranges=ranges)


def test_an_invalid_combination_is_named_before_anything_runs() -> None:
    grid, _ = parse_grid(["optimizer=sgd,adam", "momentum=0.9"], PARAMS)
    with pytest.raises(SweepError, match="the setting optimizer=adam is invalid: momentum"):
        Sweep(grid=grid).settings()


SWEEP_FILE = """\
seeds = 4
draws = 6
random_seed = 3

[fixed]
dataset = "circles"
layers = [8, 8, 1]
epochs = 30

[grid]
activation = ["tanh", "relu"]
batch-size = ["none", 16]

[ranges]
lr = { low = 0.001, high = 1.0 }
l2 = { low = 0.0, high = 0.001, scale = "linear" }
momentum = "0..0.9"
"""


def test_a_sweep_file_reads_fixed_values_a_grid_and_ranges(tmp_path: Path) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text(SWEEP_FILE)
    sweep = load_sweep_file(path, PARAMS)
    assert sweep.seeds == [0, 1, 2, 3] and sweep.draws == 6 and sweep.random_seed == 3
    assert sweep.grid == {
        "dataset": ["circles"],
        "layers": [(8, 8, 1)],
        "epochs": [30],
        "activation": ["tanh", "relu"],
        "batch_size": [None, 16],
    }
    assert sweep.ranges == {
        "lr": Range(0.001, 1.0, log=True),
        "l2": Range(0.0, 0.001),
        "momentum": Range(0.0, 0.9),
    }
    configs = sweep.settings()
    assert len(configs) == 6 and all(c.dataset == "circles" for c in configs)
    grid_file = tmp_path / "grid.toml"
    grid_file.write_text("seeds = [1, 3]\n[grid]\nlayers = [[4, 1], [8, 1]]\nlr = [0.1, 1]\n")
    grid = load_sweep_file(grid_file, PARAMS)
    assert grid.grid == {"layers": [(4, 1), (8, 1)], "lr": [0.1, 1.0]}
    assert len(grid.jobs()) == 8 and {j.seed for j in grid.jobs()} == {1, 3}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("seeds = 3\n[grid\n", "not valid TOML"),
        ("seed = 3\n", "unknown key 'seed': expected seeds, draws"),
        ("[grid]\nlr = [0.1, 'fast']\n", "[grid] lr: 'fast' is not a number"),
        (
            "[grid]\nactivaton = ['tanh']\n",
            "[grid] activaton: unknown option 'activaton' (did you mean activation?)",
        ),
        ("[fixed]\nlr = [0.1, 1]\n", "[fixed] lr: [fixed] takes one value"),
        ("[ranges]\nlr = { low = 0.1 }\n", "[ranges] lr: expected { low = ..., high = ... }"),
        ("seeds = 0\n", "seeds: expected a whole number >= 1, got 0"),
        ("draws = 'many'\n[ranges]\nlr = '0.1..1'\n", "draws: expected a whole number >= 1"),
        ("[grid]\nlayers = [[8, 0, 1]]\n", "[grid] layers: in '8,0,1', a layer needs at least one"),
        ("[grid]\nepochs = true\n", "[grid] epochs: expected a value for epochs, got True"),
        ("grid = 3\n", "grid must be a table [grid], got 3"),
    ],
)
def test_sweep_file_errors_name_the_file_key_and_expectation(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SweepError) as caught:
        load_sweep_file(path, PARAMS).settings()
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_or_binary_sweep_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SweepError, match="no such sweep file"):
        load_sweep_file(tmp_path / "none.toml", PARAMS)
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SweepError, match="not"):
        load_sweep_file(tmp_path / "bin.toml", PARAMS)


def test_a_setting_key_hashes_only_what_differs_from_the_defaults() -> None:
    # So a database written before an option existed (its configs lack it) resumes with the
    # same keys once the option is added with a default.
    import hashlib
    import json

    config = TrainConfig(lr=0.3, activation="tanh", seed=4)
    text = json.dumps({"activation": "tanh", "lr": 0.3}, sort_keys=True, separators=(",", ":"))
    assert setting_key(config) == hashlib.sha256(text.encode()).hexdigest()[:16]


def test_a_sweep_setting_takes_its_datasets_own_defaults_where_it_leaves_them_out() -> None:
    """As `train` does: a digits setting holds out its test split and trains its own network,
    and what the sweep gives wins; a generated dataset keeps TrainConfig's defaults."""
    grid = {"dataset": ["digits", "moons"], "lr": [0.1]}
    digits, moons = Sweep(grid=grid, seeds=range(1)).settings()
    assert (digits.dataset, digits.test, digits.layers, digits.epochs) == (
        "digits",
        0.2,
        (32, 10),
        30,
    )
    assert digits.lr == 0.1  # given: the dataset's 0.01 gives way
    assert moons == TrainConfig(dataset="moons", lr=0.1)
