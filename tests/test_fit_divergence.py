"""`fit` reports divergence that first shows on the validation set, as on the training set."""

from __future__ import annotations

import math
import random

import pytest

from micrograd.batched import BatchedMLP, flat_parameters
from micrograd.data import load_dataset, train_val_test_split
from micrograd.loop import EXPLOSION_FACTOR, raw_outputs
from micrograd.losses import hinge_loss
from micrograd.nn import MLP
from micrograd.optim import SGD
from micrograd.train import TrainingDiverged, fit


@pytest.mark.parametrize("form", [MLP, BatchedMLP])
def test_outputs_overflowing_on_the_validation_set_raise_training_diverged(
    form: type[MLP] | type[BatchedMLP],
) -> None:
    """Deep linear layers at lr 10: the step leaves finite parameters whose outputs on other
    inputs overflow. That is divergence (a hint, the last good parameters), not a ValueError
    from the metrics. Per sample and batched alike."""
    ds = load_dataset("regression_1d", 100, 0.1, 0)
    tr, _, te = train_val_test_split(ds, val=0.0, test=0.2, seed=0)
    model = form(1, [16, 16, 16, 1], activation="linear", rng=random.Random(0))
    optimizer = SGD(model.parameters(), lr=10.0)
    with pytest.raises(TrainingDiverged, match="smaller learning rate") as caught:
        for _ in range(50):
            fit(
                model,
                tr.X,
                tr.y,
                task="regression",
                optimizer=optimizer,
                epochs=1,
                validation=(te.X, te.y),
            )
    assert "diverged" in str(caught.value)
    assert all(math.isfinite(v) for v in flat_parameters(model))


@pytest.mark.parametrize("form", [MLP, BatchedMLP])
def test_a_step_to_infinite_parameters_is_divergence_and_is_undone(
    form: type[MLP] | type[BatchedMLP],
) -> None:
    """A finite loss and finite gradients, but a learning rate that sends the parameters to
    infinity: `fit` names it and puts back the parameters from before that step."""
    ds = load_dataset("regression_1d", 20, 0.1, 0)
    model = form(1, [4, 1], activation="tanh", rng=random.Random(0))
    before = flat_parameters(model)
    y = ds.y * 1e6  # gradients in the millions: one step at this lr leaves infinities
    with pytest.raises(TrainingDiverged, match="epoch 1: a parameter became infinite"):
        fit(model, ds.X, y, task="regression", optimizer=SGD(model.parameters(), lr=1e305))
    assert flat_parameters(model) == before


@pytest.mark.parametrize("form", [MLP, BatchedMLP])
def test_a_loss_that_explodes_is_divergence_and_the_model_is_the_last_rows(
    form: type[MLP] | type[BatchedMLP],
) -> None:
    """Momentum 5 makes every step larger than the last: the loss grows past a million times
    the first long before it overflows. `fit` calls that divergence, and the parameters it
    keeps are those the last history row's loss was measured on (full batch)."""
    ds = load_dataset("moons", 60, 0.1, 0)
    model = form(2, [8, 1], rng=random.Random(0))
    rows: list[dict[str, float]] = []
    with pytest.raises(TrainingDiverged, match=r"the loss exploded .* momentum below 1") as caught:
        fit(
            model,
            ds.X,
            ds.y,
            optimizer=SGD(model.parameters(), lr=1.0, momentum=5.0),
            epochs=200,
            callbacks=[rows.append],
        )
    assert caught.value.epoch == len(rows) + 1 > 2
    assert all(row["loss"] <= EXPLOSION_FACTOR * max(rows[0]["loss"], 1.0) for row in rows)
    out = raw_outputs(model, ds.X)[:, 0]
    assert hinge_loss(out, ds.y * 2.0 - 1.0).data == pytest.approx(rows[-1]["loss"], rel=1e-9)
