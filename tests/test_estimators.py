"""micrograd.estimators: `MLPClassifier` and `MLPRegressor` pass scikit-learn's whole
`check_estimator` (every check, none skipped or expected to fail), work in a `Pipeline` and
`GridSearchCV`, train through micrograd's batched loop, and score on the digits within a few
points of scikit-learn's own `MLPClassifier` of the same size."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import warnings
from typing import Any

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the estimators need scikit-learn (the sklearn extra)")

from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import DataConversionWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from micrograd.batched import BatchedMLP
from micrograd.estimators import MLPClassifier, MLPRegressor
from micrograd.loop import ConfigError, History

# -- scikit-learn's own checks -----------------------------------------------------------------


@pytest.fixture
def array_api_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    """scikit-learn skips its array-API check (with NumPy inputs and dispatch on, the results
    must not change) unless SCIPY_ARRAY_API is set; set it so that no check is skipped."""
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")


@parametrize_with_checks([MLPClassifier(random_state=0), MLPRegressor(random_state=0)])
def test_scikit_learn_estimator_checks(estimator: Any, check: Any, array_api_enabled: None) -> None:
    check(estimator)


# -- digits: Pipeline, GridSearchCV, against scikit-learn's MLP ---------------------------------


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    parts: list[np.ndarray] = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    return parts[0], parts[1], parts[2], parts[3]


def test_grid_search_over_a_pipeline_on_the_digits(digits: Any) -> None:
    X_train, X_test, y_train, y_test = digits
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", MLPClassifier(random_state=0))])
    grid = GridSearchCV(
        pipe,
        {"mlp__activation": ["relu", "tanh"], "mlp__max_iter": [20, 40]},
        cv=3,
        error_score="raise",
    )
    grid.fit(X_train, y_train)
    assert len(grid.cv_results_["params"]) == 4
    assert set(grid.best_params_) == {"mlp__activation", "mlp__max_iter"}
    assert grid.score(X_test, y_test) >= 0.9
    best = grid.best_estimator_[-1]
    assert isinstance(best.model_, BatchedMLP)
    assert best.n_iter_ == grid.best_params_["mlp__max_iter"]


def test_digits_within_a_few_points_of_scikit_learns_mlp(digits: Any) -> None:
    X_train, X_test, y_train, y_test = digits
    ours = make_pipeline(StandardScaler(), MLPClassifier(random_state=0)).fit(X_train, y_train)
    theirs = make_pipeline(
        StandardScaler(), SklearnMLPClassifier(hidden_layer_sizes=(16,), random_state=0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its ConvergenceWarning after 200 epochs
        theirs.fit(X_train, y_train)
    ours_score, theirs_score = ours.score(X_test, y_test), theirs.score(X_test, y_test)
    assert ours_score >= 0.95
    assert ours_score >= theirs_score - 0.03


# -- the classifier ----------------------------------------------------------------------------


def test_predict_proba_is_a_distribution_in_class_order_and_predict_its_argmax() -> None:
    X, y = make_classification(
        n_samples=120, n_features=5, n_informative=3, n_classes=3, random_state=0
    )
    labels = np.array(["cat", "dog", "emu"])[y]
    clf = MLPClassifier(random_state=0).fit(X, labels)
    assert list(clf.classes_) == ["cat", "dog", "emu"]
    proba = clf.predict_proba(X)
    assert proba.shape == (120, 3)
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert list(clf.predict(X)) == list(clf.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-12)
    assert clf.score(X, labels) > 0.9


def test_two_classes_train_one_logistic_output() -> None:
    X, y = make_classification(n_samples=100, n_features=4, random_state=1)
    labels = np.where(y == 1, 10, -3)
    clf = MLPClassifier(random_state=0).fit(X, labels)
    assert list(clf.classes_) == [-3, 10]
    assert clf.model_.nouts[-1] == 1
    proba = clf.predict_proba(X)
    assert proba.shape == (100, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert set(clf.predict(X)) <= {-3, 10}
    assert clf.score(X, labels) > 0.9


def test_one_class_is_refused() -> None:
    with pytest.raises(ValueError, match=r"at least 2 classes.*got 1 class"):
        MLPClassifier().fit(np.zeros((5, 2)), ["a"] * 5)


def test_it_trains_through_micrograds_batched_loop() -> None:
    X, y = make_classification(n_samples=60, n_features=4, random_state=2)
    clf = MLPClassifier(hidden_layer_sizes=(8, 4), max_iter=7, random_state=0).fit(X, y)
    assert isinstance(clf.model_, BatchedMLP)
    assert clf.model_.layer_sizes == [4, 8, 4, 1]
    assert isinstance(clf.history_, History)
    assert clf.n_iter_ == 7 == len(clf.loss_curve_)
    assert clf.loss_ == clf.loss_curve_[-1]


def test_early_stopping_holds_out_a_validation_split_and_stops_with_patience() -> None:
    X, y = make_classification(n_samples=200, n_features=6, random_state=3)
    clf = MLPClassifier(
        early_stopping=True, n_iter_no_change=3, max_iter=500, learning_rate_init=0.05,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    assert clf.history_.stop_reason == "patience"
    assert clf.n_iter_ < 500
    assert "val_loss" in clf.history_.rows[0]


def test_random_state_alone_decides_the_result() -> None:
    X, y = make_classification(n_samples=80, n_features=4, random_state=4)
    a = MLPClassifier(random_state=7, max_iter=20, batch_size=16).fit(X, y).predict_proba(X)
    b = MLPClassifier(random_state=7, max_iter=20, batch_size=16).fit(X, y).predict_proba(X)
    c = MLPClassifier(random_state=8, max_iter=20, batch_size=16).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"solver": "lbfgs"}, "unknown solver 'lbfgs': expected one of sgd, adam, adamw"),
        ({"activation": "logistic"}, "unknown activation 'logistic'"),
        ({"schedule": "adaptive"}, "unknown schedule 'adaptive'"),
        ({"hidden_layer_sizes": (16, 0)}, "hidden_layer_sizes must be positive integers"),
        ({"max_iter": 0}, "max_iter must be a positive integer"),
        ({"batch_size": 0}, "batch_size must be a positive integer, 'auto' or None"),
        ({"learning_rate_init": -1.0}, "learning_rate_init must be a positive number"),
        ({"alpha": -1.0}, "alpha must be a number >= 0"),
        ({"momentum": 1.5}, r"momentum must be in \[0, 1\)"),
        ({"early_stopping": True, "validation_fraction": 1.0}, "validation_fraction"),
        ({"hidden_layer_sizes": 16.0}, "hidden_layer_sizes must be positive integers"),
        ({"learning_rate_init": "0.1"}, "learning_rate_init must be a positive number"),
        ({"tolerance": float("nan")}, "tolerance must be a number or None"),
    ],
)
def test_bad_settings_are_refused_in_fit_by_name(setting: dict[str, Any], message: str) -> None:
    clf = MLPClassifier(**setting)  # scikit-learn's rule: __init__ only stores them
    with pytest.raises(ConfigError, match=message):
        clf.fit(np.zeros((4, 2)), [0, 1, 0, 1])


def test_unfitted_estimators_say_so() -> None:
    with pytest.raises(NotFittedError):
        MLPClassifier().predict_proba(np.zeros((2, 2)))
    with pytest.raises(NotFittedError):
        MLPRegressor().predict(np.zeros((2, 2)))


# -- both: parameters, cloning, pickling -------------------------------------------------------


def test_get_params_set_params_and_clone_round_trip() -> None:
    clf = MLPClassifier(hidden_layer_sizes=(8, 8), solver="sgd", alpha=0.01, random_state=3)
    params = clf.get_params()
    assert params["hidden_layer_sizes"] == (8, 8)
    assert params["solver"] == "sgd"
    copy = clone(clf)
    assert copy is not clf
    assert copy.get_params() == params
    assert copy.set_params(activation="tanh", max_iter=5) is copy
    assert copy.get_params() == {**params, "activation": "tanh", "max_iter": 5}
    assert MLPClassifier(**copy.get_params()).get_params() == copy.get_params()


@pytest.mark.parametrize("kind", [MLPClassifier, MLPRegressor])
def test_pickle_round_trip_predicts_the_same(kind: Any) -> None:
    X, y = make_classification(n_samples=50, n_features=3, n_informative=2, n_redundant=0,
                               random_state=5)  # fmt: skip
    est = kind(max_iter=10, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    assert again.get_params() == est.get_params()


# -- the regressor -----------------------------------------------------------------------------


def test_the_regressor_fits_and_predicts_one_value_per_sample() -> None:
    X, y = make_regression(n_samples=150, n_features=4, noise=5.0, random_state=0)
    y = (y - y.mean()) / y.std()
    reg = make_pipeline(StandardScaler(), MLPRegressor(random_state=0)).fit(X, y)
    assert reg.predict(X).shape == (150,)
    assert reg.score(X, y) > 0.9


def test_the_regressor_is_single_output_as_scikit_learn_says() -> None:
    X, y = make_regression(n_samples=40, n_features=2, random_state=0)
    y = y / y.std()
    with pytest.warns(DataConversionWarning):
        column = MLPRegressor(max_iter=5, random_state=0).fit(X, y[:, None])
    np.testing.assert_array_equal(
        column.predict(X), MLPRegressor(max_iter=5, random_state=0).fit(X, y).predict(X)
    )
    with pytest.raises(ValueError, match="1d array"):
        MLPRegressor().fit(X, np.stack([y, y], axis=1))


# -- the install -------------------------------------------------------------------------------


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip


def test_the_core_package_does_not_import_scikit_learn() -> None:
    done = _python("import sys, micrograd, micrograd.train; print('sklearn' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_without_scikit_learn_the_import_says_which_extra_to_install() -> None:
    done = _python(
        "import sys; sys.modules['sklearn'] = None\n"
        "from micrograd.optional import MissingDependencyError\n"
        "try:\n"
        "    import micrograd.estimators\n"
        "except MissingDependencyError as e:\n"
        "    print(e)\n"
    )
    assert done.returncode == 0, done.stderr
    assert 'pip install "micrograd[sklearn]"' in done.stdout
    assert "micrograd.estimators needs scikit-learn" in done.stdout


def test_tolerance_stops_once_the_training_loss_reaches_it() -> None:
    X, y = make_classification(n_samples=100, n_features=4, random_state=6)
    clf = MLPClassifier(tolerance=0.3, max_iter=500, random_state=0).fit(X, y)
    assert clf.history_.stop_reason == "tolerance"
    assert clf.loss_ <= 0.3 < min(clf.loss_curve_[:-1])


def test_no_hidden_layer_is_a_logistic_regression() -> None:
    X, y = make_classification(n_samples=100, n_features=4, random_state=7)
    clf = MLPClassifier(hidden_layer_sizes=(), random_state=0).fit(X, y)
    assert clf.model_.layer_sizes == [4, 1]
    assert clf.score(X, y) > 0.8


def test_the_regressor_stops_early_on_a_random_validation_split() -> None:
    X, y = make_regression(n_samples=100, n_features=3, noise=1.0, random_state=1)
    y = y / y.std()
    reg = MLPRegressor(early_stopping=True, n_iter_no_change=2, max_iter=1000, random_state=0)
    reg.fit(X, y)
    assert reg.history_.stop_reason == "patience"
    assert "val_r2" in reg.history_.rows[0]


@pytest.mark.parametrize("kind", [MLPClassifier, MLPRegressor])
def test_outputs_that_overflow_are_an_error_not_a_nan_answer(kind: Any) -> None:
    X, y = make_classification(n_samples=60, n_features=4, random_state=8)
    est = kind(max_iter=10, random_state=0).fit(X, y)
    huge = np.ones((3, 4))
    huge[2] = [1e308, -1e308, 1e308, -1e308]
    with pytest.raises(ValueError, match=r"overflow to infinity or NaN on 1 of 3 samples .*row 2"):
        est.predict(huge)


def test_a_dataframe_gives_feature_names_that_predict_checks() -> None:
    pd = pytest.importorskip("pandas", reason="DataFrame input needs pandas (the test extra)")
    X, y = make_classification(n_samples=60, n_features=3, n_informative=2, n_redundant=0,
                               random_state=9)  # fmt: skip
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    clf = MLPClassifier(max_iter=5, random_state=0).fit(frame, y)
    assert list(clf.feature_names_in_) == ["a", "b", "c"]
    assert clf.n_features_in_ == 3
    with pytest.raises(ValueError, match="Feature names must be in the same order"):
        clf.predict(frame[["c", "b", "a"]])
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        assert clf.predict(X).shape == (60,)


def test_predict_needs_as_many_features_as_fit_saw() -> None:
    X, y = make_classification(n_samples=40, n_features=3, n_informative=2, n_redundant=0,
                               random_state=10)  # fmt: skip
    clf = MLPClassifier(max_iter=5, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="has 2 features, but MLPClassifier is expecting 3"):
        clf.predict(X[:, :2])
