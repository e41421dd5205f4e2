"""The example scripts run and do what they say: the original demo reaches 100% accuracy."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("mode", ["batched", "per-sample"])
def test_the_original_demo_reaches_full_accuracy(mode: str) -> None:
    assert load("original_demo").main(mode) == 1.0


def test_the_seed_workshop_loop_drives_the_loss_down() -> None:
    losses = load("seed_workshop").main()
    assert len(losses) == 40 and losses[-1] < 0.5 * losses[0]


def test_the_code_tour_compares_activations_over_repeated_runs() -> None:
    out = load("code_tour_train").main(n_evals=3, workers=1)
    assert set(out) == {"tanh", "relu"}
    assert all(v["min"] <= v["mean"] <= v["max"] for v in out.values())


def test_three_class_yinyang_generalises() -> None:
    assert load("yinyang_3class").main()["test_accuracy"] >= 0.9
