"""Metrics against values worked out by hand."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from micrograd import Value
from micrograd.metrics import (
    accuracy,
    classification_report,
    confusion_matrix,
    precision_recall_fscore_support,
    r2_score,
    rmse,
)


def test_accuracy() -> None:
    assert accuracy([0, 1, 1, 0], [0, 1, 0, 0]) == 0.75
    assert accuracy(np.array([2, 2, 1]), np.array([2, 2, 1])) == 1.0
    assert accuracy([1, 0], [0, 1]) == 0.0
    assert isinstance(accuracy([1], [1]), float)


def test_accuracy_accepts_floats_bools_and_values() -> None:
    assert accuracy([1.0, 0.0, 1.0], [1, 0, 0]) == pytest.approx(2 / 3)
    assert accuracy([True, False], [True, True]) == 0.5
    assert accuracy([1, 0], [Value(1.0), Value(1.0)]) == 0.5
    assert accuracy([1, 0, 1], Value(np.array([1.0, 0.0, 0.0]))) == pytest.approx(2 / 3)


def test_confusion_matrix_rows_true_columns_predicted() -> None:
    y_true = [0, 0, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 2, 0, 2]
    expected = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    got = confusion_matrix(y_true, y_pred)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)
    assert got.sum() == len(y_true)


def test_confusion_matrix_n_classes() -> None:
    got = confusion_matrix([0, 1], [1, 1], n_classes=4)
    np.testing.assert_array_equal(got, [[0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    with pytest.raises(ValueError, match="y_pred holds label 3, but n_classes = 3"):
        confusion_matrix([0, 1], [3, 1], n_classes=3)
    with pytest.raises(ValueError, match="n_classes must be a positive integer"):
        confusion_matrix([0, 1], [0, 1], n_classes=0)


@pytest.mark.parametrize("bad", [[0, -1], [0, 1.5], [0, math.nan]])
def test_confusion_matrix_needs_integer_labels(bad: list[float]) -> None:
    with pytest.raises(ValueError, match=r"y_pred\[1\] is .*class labels must be integers"):
        confusion_matrix([0, 1], bad)


def test_rmse() -> None:
    assert rmse([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == 0.0
    # errors 1, -1, 3: mean square (1 + 1 + 9) / 3
    assert rmse([1.0, 2.0, 3.0], [0.0, 3.0, 0.0]) == pytest.approx(math.sqrt(11 / 3))
    assert rmse(np.array([0.0, 0.0]), np.array([3.0, 4.0])) == pytest.approx(math.sqrt(12.5))


def test_r2_score() -> None:
    y = [1.0, 2.0, 3.0, 4.0]  # mean 2.5, total sum of squares 5
    assert r2_score(y, y) == 1.0
    assert r2_score(y, [2.5] * 4) == 0.0
    # residuals 0.5, -0.5, 0, 1: 1.5 / 5
    assert r2_score(y, [0.5, 2.5, 3.0, 3.0]) == pytest.approx(1 - 1.5 / 5)
    assert r2_score(y, [4.0, 3.0, 2.0, 1.0]) == pytest.approx(1 - 20 / 5)


def test_r2_score_constant_target() -> None:
    assert r2_score([2.0, 2.0], [2.0, 2.0]) == 1.0
    assert r2_score([2.0, 2.0], [1.0, 2.0]) == 0.0


@pytest.mark.parametrize("metric", [accuracy, confusion_matrix, rmse, r2_score])
def test_length_mismatch_names_both_lengths(metric: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match=r"len\(y_true\) = 3, len\(y_pred\) = 2"):
        metric([0, 1, 1], [0, 1])


@pytest.mark.parametrize("metric", [accuracy, confusion_matrix, rmse, r2_score])
def test_empty_inputs(metric: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match=r"are empty: len\(y_true\) = 0, len\(y_pred\) = 0"):
        metric([], [])


def test_shape_and_type_errors() -> None:
    with pytest.raises(ValueError, match=r"y_true must be 1-D, got shape \(2, 2\)"):
        accuracy([[0, 1], [1, 0]], [0, 1])
    with pytest.raises(ValueError, match="y_pred must hold numbers"):
        accuracy([0, 1], ["a", "b"])
    with pytest.raises(ValueError, match=r"y_pred\[1\] is .*must be finite"):
        rmse([0.0, 1.0], [0.0, math.inf])


def test_probabilities_match_torch_softmax_and_sigmoid() -> None:
    """predict_proba's reading of outputs: softmax for cross-entropy, the logistic function for
    bce (stable at +-800), none for hinge, whose scores are not log-odds."""
    import torch

    from micrograd.loop import probabilities

    z = np.random.default_rng(0).normal(size=(6, 3)) * 30
    p = probabilities(z, "multiclass", "cross_entropy")
    assert p is not None
    np.testing.assert_allclose(p, torch.softmax(torch.tensor(z), 1).numpy(), rtol=1e-12)
    z1 = np.array([-800.0, -3.0, 0.0, 2.0, 800.0])
    p1 = probabilities(z1, "binary", "bce")
    assert p1 is not None
    np.testing.assert_allclose(p1[:, 1], torch.sigmoid(torch.tensor(z1)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(p1.sum(axis=1), 1.0)
    assert probabilities(z1, "binary", "hinge") is None
    assert probabilities(z1, "regression", "mse") is None


# -- per-class precision, recall and F1 -------------------------------------------------------


def assert_same_report(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    """Our report is scikit-learn's: the same keys in order, supports exact, ratios to 1e-12."""
    assert list(ours) == list(theirs)
    for key, want in theirs.items():
        if isinstance(want, dict):
            assert ours[key]["support"] == want["support"], key
            for metric in ("precision", "recall", "f1-score"):
                assert ours[key][metric] == pytest.approx(want[metric], abs=1e-12), (key, metric)
        else:
            assert ours[key] == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize(
    ("seed", "n_classes", "n"),
    [(0, 2, 40), (1, 3, 30), (2, 5, 50), (3, 10, 25), (4, 4, 7)],
)
def test_classification_report_is_scikit_learns(seed: int, n_classes: int, n: int) -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    # Some classes never predicted or never present: their ratios are 0, as zero_division=0.
    y_true = rng.integers(0, n_classes - 1 if n_classes > 2 else 2, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, n_classes, n))
    names = [f"class {k}" for k in range(n_classes)]
    ours = classification_report(y_true, y_pred, n_classes, names)
    theirs = sklearn_metrics.classification_report(
        y_true,
        y_pred,
        labels=list(range(n_classes)),
        target_names=names,
        output_dict=True,
        zero_division=0,
    )
    assert_same_report(ours, theirs)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, n_classes)
    tp, tr, tf, ts = sklearn_metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=list(range(n_classes)), zero_division=0
    )
    for mine, want in zip((p, r, f, s), (tp, tr, tf, ts), strict=True):
        np.testing.assert_allclose(mine, want, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classification_report_of_the_classes_present_is_scikit_learns_default(seed: int) -> None:
    """present_only: scikit-learn's report without `labels` (classes in y_true or y_pred)."""
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    y_true = rng.choice([1, 4, 7], 20)  # of 10 classes, three are there
    y_pred = np.where(rng.random(20) < 0.7, y_true, rng.choice([1, 4, 7, 9], 20))
    names = [f"digit {k}" for k in range(10)]
    ours = classification_report(y_true, y_pred, 10, names, present_only=True)
    present = sorted(set(y_true.tolist()) | set(y_pred.tolist()))
    theirs = sklearn_metrics.classification_report(
        y_true,
        y_pred,
        target_names=[names[k] for k in present],
        output_dict=True,
        zero_division=0,
    )
    assert_same_report(ours, theirs)


def test_classification_report_by_hand() -> None:
    report = classification_report([0, 0, 1, 1, 2], [0, 1, 1, 1, 0])
    assert list(report) == ["0", "1", "2", "accuracy", "macro avg", "weighted avg"]
    assert report["0"] == {"precision": 0.5, "recall": 0.5, "f1-score": 0.5, "support": 2}
    assert report["1"]["precision"] == pytest.approx(2 / 3) and report["1"]["recall"] == 1.0
    assert report["2"] == {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 1}
    assert report["accuracy"] == 0.6
    assert report["macro avg"]["recall"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="target_names must name the 3 classes once each"):
        classification_report([0, 1], [1, 2], 3, ["a", "b"])
