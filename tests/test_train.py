"""The training loop: stopping rules, divergence, callbacks, repeated runs, end-to-end accuracy."""

from __future__ import annotations

import contextlib
import gc
import importlib
import math
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

import micrograd.train as train_module
from micrograd import loop
from micrograd.batched import BatchedMLP, flat_parameters
from micrograd.data import load_dataset, make_moons
from micrograd.nn import MLP
from micrograd.optim import SGD
from micrograd.train import (
    Callback,
    ConfigError,
    History,
    TrainConfig,
    TrainingDiverged,
    evaluate,
    fit,
    predict,
    train,
)


def moons_model(seed: int = 0) -> BatchedMLP:
    return BatchedMLP(2, [16, 16, 1], rng=random.Random(seed))


def test_fit_reports_every_epoch_to_callbacks_and_returns_the_history() -> None:
    ds = make_moons(40, seed=1)
    events: list[str] = []

    class Recorder(Callback):
        def on_train_begin(self, info: dict[str, object]) -> None:
            events.append(f"begin {info['epochs']} {info['batches']} {info['samples']}")

        def on_epoch_end(self, log: dict[str, float]) -> None:
            events.append(f"epoch {int(log['epoch'])}")

        def on_train_end(self, history: History) -> None:
            events.append(f"end {history.stop_reason}")

    seen: list[float] = []
    model = moons_model()
    h = fit(
        model,
        ds.X,
        ds.y,
        optimizer=SGD(model.parameters(), lr=0.1),
        epochs=3,
        batch_size=16,
        callbacks=[Recorder(), lambda log: seen.append(log["loss"])],
    )
    assert events == ["begin 3 3 40", "epoch 1", "epoch 2", "epoch 3", "end max_epochs"]
    assert seen == h["loss"] and h.epochs == 3
    assert set(h.final) >= {"epoch", "loss", "accuracy", "lr", "seconds"}
    with pytest.raises(KeyError, match="no column 'nope'"):
        h["nope"]


def test_tolerance_stops_as_soon_as_the_loss_reaches_it() -> None:
    ds = make_moons(60, seed=2)
    model = moons_model()
    full = fit(model, ds.X, ds.y, optimizer=SGD(model.parameters(), lr=0.5), epochs=60)
    assert full["loss"][19] < full["loss"][0]
    # The same run with a tolerance must stop at the first epoch whose loss reaches it.
    tol = full["loss"][19]
    target_epoch = next(i + 1 for i, v in enumerate(full["loss"]) if v <= tol)
    model = moons_model()
    h = fit(model, ds.X, ds.y, optimizer=SGD(model.parameters(), lr=0.5), epochs=60, tolerance=tol)
    assert 1 < target_epoch <= 20
    assert h.stop_reason == "tolerance" and h.epochs == target_epoch
    assert h.converged and h.epochs_to_tolerance == target_epoch


def test_patience_stops_on_a_stalled_validation_loss_and_restores_the_best() -> None:
    ds = make_moons(60, seed=3)
    model = moons_model()
    # lr so large that the validation loss soon stops improving.
    h = fit(
        model,
        ds.X[:40],
        ds.y[:40],
        optimizer=SGD(model.parameters(), lr=3.0),
        epochs=200,
        validation=(ds.X[40:], ds.y[40:]),
        patience=3,
    )
    assert h.stop_reason == "patience"
    best = h.best_epoch
    assert best is not None and h.epochs == best + 3
    assert h["val_loss"][best - 1] == min(h["val_loss"])
    assert h.final == h.rows[best - 1]  # the row that describes the restored model
    # The restored parameters give the best epoch's validation loss again... after the update
    # of that epoch, which is what the validation pass measured.
    from micrograd.losses import hinge_loss

    restored = hinge_loss(model(ds.X[40:]), ds.y[40:] * 2.0 - 1.0).data
    assert restored == pytest.approx(h["val_loss"][best - 1], rel=1e-12)


def test_patience_without_a_validation_set_is_refused() -> None:
    ds = make_moons(20)
    with pytest.raises(ValueError, match="patience needs a validation set"):
        fit(moons_model(), ds.X, ds.y, patience=3)


def test_a_diverging_run_raises_and_keeps_the_last_good_parameters() -> None:
    ds = load_dataset("regression_1d", n_samples=50)
    model = BatchedMLP(1, [8, 1], rng=random.Random(0))
    before: list[list[float]] = [flat_parameters(model)]

    def snapshot(log: dict[str, float]) -> None:
        before.append(flat_parameters(model))

    with pytest.raises(TrainingDiverged, match=r"diverged at epoch \d+: .*smaller learning rate"):
        fit(
            model,
            ds.X,
            ds.y,
            task="regression",
            optimizer=SGD(model.parameters(), lr=50.0),
            epochs=500,
            callbacks=[snapshot],
        )
    params = flat_parameters(model)
    assert all(math.isfinite(v) for v in params)
    # One step per epoch (full batch): the last good epoch's loss was measured on the parameters
    # it began with (the previous epoch's end); the ones it ended with gave the bad loss.
    assert len(before) >= 2 and params == before[-2]


def test_per_sample_and_batched_training_agree() -> None:
    """An MLP trains per sample, a BatchedMLP on the whole batch: from the same weights they
    take the same steps, to rounding (sums in another order round differently)."""
    ds = make_moons(30, seed=4)
    runs = []
    for model in (MLP(2, [16, 16, 1], rng=random.Random(5)), moons_model(5)):
        h = fit(model, ds.X, ds.y, optimizer=SGD(model.parameters(), lr=0.3), epochs=15, l2=1e-4)
        runs.append((h["loss"], flat_parameters(model)))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-9)
    np.testing.assert_allclose(runs[0][1], runs[1][1], rtol=1e-9, atol=1e-12)


def test_a_mode_that_does_not_fit_the_model_names_the_conversion() -> None:
    ds = make_moons(10)
    with pytest.raises(ConfigError, match=r"mode 'batched' needs a BatchedMLP.*from_mlp"):
        fit(MLP(2, [4, 1]), ds.X, ds.y, mode="batched")
    with pytest.raises(ConfigError, match=r"mode 'per-sample' needs an MLP.*to_mlp"):
        fit(moons_model(), ds.X, ds.y, mode="per-sample")
    h = fit(moons_model(), ds.X, ds.y, mode="batched", epochs=1)  # the model's own: fine
    assert h.epochs == 1


def test_build_model_gives_each_mode_its_form_with_the_same_weights() -> None:
    ds = make_moons(20)
    per_sample = train_module.build_model(TrainConfig(mode="per-sample", seed=3), ds)
    whole = train_module.build_model(TrainConfig(mode="batched", seed=3), ds)
    assert type(per_sample) is MLP and type(whole) is BatchedMLP
    assert flat_parameters(per_sample) == flat_parameters(whole)
    result = train(TrainConfig(mode="per-sample", samples=20, epochs=2, test=0.25))
    assert type(result.model) is MLP and "test_accuracy" in result.scores()


def test_mini_batches_are_shuffled_by_the_seed() -> None:
    ds = make_moons(40, seed=5)

    def run(seed: int) -> list[float]:
        model = moons_model()
        return fit(
            model,
            ds.X,
            ds.y,
            optimizer=SGD(model.parameters(), lr=0.2),
            epochs=4,
            batch_size=8,
            seed=seed,
        )["loss"]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_fit_rejects_bad_arguments() -> None:
    ds = make_moons(10)
    with pytest.raises(ValueError, match="X has 10 samples but y has 9"):
        fit(moons_model(), ds.X, ds.y[:9])
    with pytest.raises(ValueError, match="unknown mode 'fast'"):
        fit(moons_model(), ds.X, ds.y, mode="fast")
    with pytest.raises(ValueError, match="loss 'cross_entropy' does not fit a binary task"):
        fit(moons_model(), ds.X, ds.y, loss="cross_entropy")
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        fit(moons_model(), ds.X, ds.y, epochs=0)


def test_train_config_validates_and_is_reproducible() -> None:
    with pytest.raises(ValueError, match="learning rate must be a positive number"):
        TrainConfig(lr=0)
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        TrainConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="the last layer has 1 outputs but yinyang is 3 classes"):
        train(TrainConfig(dataset="yinyang", samples=60, layers=(8, 1), epochs=1))
    cfg = TrainConfig(samples=40, epochs=5)
    assert train(cfg).history.rows[-1]["loss"] == train(cfg).history.rows[-1]["loss"]


def test_the_original_demo_reaches_full_training_accuracy() -> None:
    """moons, 100 points, MLP(2, [16, 16, 1]), hinge + 1e-4 L2, SGD 1.0 -> 0.1: 100 steps."""
    for mode in ("batched", "per-sample"):
        result = train(TrainConfig(mode=mode))
        assert result.history.final["accuracy"] == 1.0, mode


@pytest.mark.parametrize(
    ("dataset", "config", "threshold"),
    [
        ("circles", {}, 0.97),
        ("xor", {"optimizer": "adam", "lr": 0.02, "schedule": "constant", "epochs": 200}, 0.95),
        (
            "yinyang",
            {
                "optimizer": "adam",
                "lr": 0.02,
                "schedule": "cosine",
                "epochs": 300,
                "layers": (16, 16, 3),
                "samples": 500,
            },
            0.9,
        ),
    ],
)
def test_seeded_training_reaches_an_accuracy_threshold(
    dataset: str, config: dict[str, object], threshold: float
) -> None:
    result = train(TrainConfig(dataset=dataset, **config))  # type: ignore[arg-type]
    assert result.history.final["accuracy"] >= threshold


def test_predict_turns_outputs_into_labels() -> None:
    result = train(TrainConfig(samples=60, epochs=60))
    labels = predict(result.model, result.train.X, "binary")
    assert labels.dtype == np.int64 and set(labels.tolist()) <= {0, 1}
    assert (labels == result.train.y).mean() >= 0.9
    with pytest.raises(ValueError, match="2-D array"):
        predict(result.model, [1.0, 2.0], "binary")


def test_repeated_runs_summarise_and_parallel_equals_serial() -> None:
    cfg = TrainConfig(samples=40, epochs=20, tolerance=0.3)
    serial = evaluate(cfg, seeds=range(4), workers=1)
    parallel = evaluate(cfg, seeds=range(4), workers=2)
    threads = evaluate(cfg, seeds=range(4), executor=ThreadPoolExecutor(2))
    assert serial.runs == parallel.runs == threads.runs
    assert [r.seed for r in serial.runs] == [0, 1, 2, 3]
    assert serial.metric == "accuracy"
    loss = serial.loss
    assert loss["min"] <= loss["mean"] <= loss["max"] and loss["std"] >= 0
    assert 0 <= serial.converged <= 4 and serial.diverged == 0
    if serial.converged:
        assert 1 <= serial.epochs_to_tolerance["mean"] <= 20
    with pytest.raises(ValueError, match="at least one seed"):
        evaluate(cfg, seeds=[])


def test_ctrl_c_in_evaluate_keeps_the_finished_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from micrograd.sweep import runner

    real = runner.run
    calls: list[TrainConfig] = []

    def third_run_interrupted(config: TrainConfig, seed: int | None = None) -> Any:
        calls.append(config)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(config, seed)

    monkeypatch.setattr(runner, "run", third_run_interrupted)
    with pytest.raises(train_module.EvaluationInterrupted) as stopped:
        evaluate(TrainConfig(samples=40, epochs=5), seeds=range(5), workers=1)
    assert isinstance(stopped.value, KeyboardInterrupt)
    assert [r.seed for r in stopped.value.summary.runs] == [0, 1]


def test_fit_tells_its_callbacks_it_was_interrupted() -> None:
    seen: list[str] = []

    class Listener(Callback):
        def on_epoch_end(self, log: dict[str, float]) -> None:
            if log["epoch"] == 3:
                raise KeyboardInterrupt

        def on_train_end(self, history: History) -> None:
            seen.append(f"{history.stop_reason} {history.epochs}")

    with pytest.raises(KeyboardInterrupt):
        train(TrainConfig(samples=40, epochs=10), callbacks=[Listener()])
    assert seen == ["interrupted 3"]


def test_config_errors_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="momentum applies to the sgd optimizer only"):
        TrainConfig(optimizer="adam", momentum=0.9)
    with pytest.raises(ConfigError, match="layers must be positive widths"):
        TrainConfig(layers=(16, 0, 1))
    with pytest.raises(ConfigError, match="does not fit a regression task"):
        train(TrainConfig(dataset="regression_1d", loss="hinge", epochs=1))


def test_batched_overflow_diverges_cleanly_without_numpy_warnings() -> None:
    import warnings

    ds = load_dataset("regression_1d", n_samples=50)
    model = BatchedMLP(1, [8, 1], rng=random.Random(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any numpy RuntimeWarning would fail the test
        with pytest.raises(TrainingDiverged, match="smaller learning rate"):
            fit(
                model,
                ds.X,
                ds.y,
                task="regression",
                optimizer=SGD(model.parameters(), lr=1e6),
                epochs=50,
            )
    assert all(math.isfinite(v) for v in flat_parameters(model))


OLD_TRAIN_NAMES = {
    "loop": ["DEFAULT_LOSS", "MODES", "TASK_LOSSES", "Callback", "ConfigError", "History",
             "TrainingDiverged", "fit", "predict", "raw_outputs", "targets_for"],
    "run": ["RunOutcome", "RunsSummary", "TrainConfig", "TrainResult", "build_model",
            "load_data", "output_width", "split", "train"],
    "evaluation": ["EvaluationInterrupted", "evaluate"],
}  # fmt: skip


@pytest.mark.parametrize("home", sorted(OLD_TRAIN_NAMES))
def test_train_still_offers_every_name_it_had_before_the_split(home: str) -> None:
    module = importlib.import_module(f"micrograd.{home}")
    for name in OLD_TRAIN_NAMES[home]:
        assert getattr(train_module, name) is getattr(module, name), name


def test_the_sweep_package_builds_on_loop_and_run_never_on_train() -> None:
    code = (
        "import sys, micrograd.loop\n"
        "print('micrograd.sweep' in sys.modules)\n"
        "import micrograd.sweep\n"
        "print('micrograd.train' in sys.modules, 'micrograd.evaluation' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "False"]


def test_the_collector_pause_changes_nothing_but_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """`fit` pauses the cycle collector per step (a speed device): the same run without it
    gives the same history and weights, and the collector is as it was afterwards."""
    ds = make_moons(30, seed=3)

    def run() -> tuple[list[float], list[float]]:
        model = MLP(2, [4, 1], rng=random.Random(1))
        history = fit(model, ds.X, ds.y, epochs=3, l2=1e-3)
        return history["loss"], flat_parameters(model)

    paused = run()
    assert gc.isenabled()
    gc.disable()
    try:
        run()
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
    monkeypatch.setattr(loop, "gc_paused", contextlib.nullcontext)
    assert run() == paused


@pytest.mark.parametrize(("task", "outputs"), [("binary", 1), ("multiclass", 3)])
def test_decide_on_the_raw_outputs_is_predict(task: str, outputs: int) -> None:
    """`predict` and `export` decide from outputs they already have (`loop.decide`) instead of
    running the model again: the same classes as `predict`."""
    X = np.random.default_rng(0).normal(size=(200, 2))
    model = MLP(2, [8, outputs], rng=random.Random(1))
    decided = loop.decide(loop.raw_outputs(model, X), task)
    assert decided.shape == (200,)
    np.testing.assert_array_equal(decided, loop.predict(model, X, task))
