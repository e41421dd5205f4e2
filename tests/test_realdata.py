"""Real datasets (scikit-learn's bundled files), stratified splits, standardisation fitted on the
training split only, the pictures of a classifier's mistakes, and digits learned to >= 95%."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import assert_missing_extra, run_without
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import MLP
from micrograd.data import DATASETS, DataError, Dataset, load_dataset, train_val_test_split
from micrograd.errorplots import plot_confusion_matrix, plot_misclassified
from micrograd.optional import MissingDependencyError
from micrograd.preprocessing import Standardizer
from micrograd.realdata import REAL_DATASETS, load_real
from micrograd.train import TrainConfig, train

sklearn = pytest.importorskip("sklearn", reason="the real datasets need scikit-learn")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The settings the README shows for digits: about two seconds of training.
DIGITS = TrainConfig(
    dataset="digits",
    activation="tanh",
    layers=(32, 10),
    optimizer="adam",
    lr=0.01,
    schedule="cosine",
    epochs=30,
    batch_size=32,
    l2=1e-3,
    val=0.1,
    test=0.2,
)


def test_the_real_datasets_are_in_the_one_registry() -> None:
    assert set(REAL_DATASETS) <= set(DATASETS)
    assert set(REAL_DATASETS) == {"digits", "iris", "wine", "breast-cancer", "diabetes"}


@pytest.mark.parametrize(
    ("name", "first_class", "first_feature"),
    [
        ("digits", "0", "pixel_0_0"),
        ("iris", "setosa", "sepal length (cm)"),
        ("wine", "class_0", "alcohol"),
        ("breast-cancer", "malignant", "mean radius"),
        ("diabetes", None, "age"),
    ],
)
def test_real_datasets_match_scikit_learns_files(
    name: str, first_class: str | None, first_feature: str
) -> None:
    ds = load_dataset(name)
    loader = getattr(sklearn.datasets, "load_" + name.replace("-", "_"))
    bunch = loader(scaled=False) if name == "diabetes" else loader()
    np.testing.assert_array_equal(ds.X, bunch.data)
    np.testing.assert_array_equal(ds.y, bunch.target)
    assert ds.standardize and ds.name == name
    assert ds.columns is not None and ds.columns[0] == first_feature
    assert len(ds.columns) == ds.n_features + 1
    if first_class is None:
        assert ds.task == "regression" and ds.class_names is None
    else:
        assert ds.class_names is not None and ds.class_names[0] == first_class
    assert ds.image_shape == ((8, 8) if name == "digits" else None)


def test_digits_pixels_are_the_images() -> None:
    ds = load_dataset("digits")
    images = sklearn.datasets.load_digits().images
    np.testing.assert_array_equal(ds.X[5].reshape(ds.image_shape), images[5])


def test_real_datasets_refuse_generator_options() -> None:
    with pytest.raises(DataError, match="digits is a fixed real dataset: n_samples applies"):
        load_dataset("digits", n_samples=100)
    with pytest.raises(DataError, match="iris is a fixed real dataset: noise applies"):
        load_dataset("iris", noise=0.1)
    with pytest.raises(DataError, match="unknown real dataset 'mnist'"):
        load_real("mnist")


def test_without_scikit_learn_the_message_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(MissingDependencyError) as info:
        load_dataset("digits")
    message = str(info.value)
    assert "\n" not in message
    assert "the digits dataset needs scikit-learn" in message
    assert 'pip install "micrograd[datasets]"' in message
    assert isinstance(info.value, ImportError)


@pytest.mark.parametrize("command", ["train", "compare"])
def test_without_the_datasets_extra_a_real_dataset_is_one_line_and_exit_2(
    tmp_path: Path, command: str
) -> None:
    argv = [command, "--dataset", "iris", "--layers", "4,3", "--epochs", "1"]
    if command == "compare":
        argv += ["--activation", "tanh", "relu", "--runs", "1"]
    result = run_without(("sklearn",), argv, tmp_path)
    starts = "micrograd: error: the iris dataset needs scikit-learn"
    assert_missing_extra(result, starts, "datasets", tmp_path)  # and no run folder


# -- stratified splits ------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    counts=st.lists(st.integers(1, 40), min_size=2, max_size=6),
    val=st.sampled_from([0.0, 0.1, 0.2, 0.25]),
    test=st.sampled_from([0.0, 0.1, 0.3]),
    seed=st.integers(0, 1000),
)
def test_stratified_splits_keep_each_class_in_proportion(
    counts: list[int], val: float, test: float, seed: int
) -> None:
    y = np.repeat(np.arange(len(counts)), counts).astype(np.int64)
    n = len(y)
    ds = Dataset(np.arange(n, dtype=np.float64)[:, None], y, "s", "multiclass", len(counts))
    try:
        parts = train_val_test_split(ds, val=val, test=test, seed=seed, stratify=True)
    except DataError:
        return  # no training data left: refused as for an unstratified split
    plain = train_val_test_split(ds, val=val, test=test, seed=seed)
    assert [len(p) for p in parts] == [len(p) for p in plain]
    ids = np.concatenate([p.X[:, 0] for p in parts])
    assert sorted(ids.tolist()) == list(range(n))  # each sample exactly once
    # Test and validation get their exact share rounded (largest remainder); training, the
    # rest, can be off by the sum of their roundings.
    for part, bound in zip(parts, (2.0, 1.0, 1.0), strict=True):
        have = np.bincount(part.y, minlength=len(counts))
        want = np.array(counts) * len(part) / n
        assert np.all(np.abs(have - want) < bound), (have, want)


def test_stratified_splits_are_seeded_and_refuse_regression() -> None:
    ds = load_dataset("wine")
    a = train_val_test_split(ds, 0.2, 0.2, seed=1, stratify=True)
    b = train_val_test_split(ds, 0.2, 0.2, seed=1, stratify=True)
    c = train_val_test_split(ds, 0.2, 0.2, seed=2, stratify=True)
    assert all(np.array_equal(x.X, y.X) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[2].X, c[2].X)
    with pytest.raises(DataError, match="stratify needs class labels"):
        train_val_test_split(load_dataset("diabetes"), 0.2, stratify=True)


# -- standardisation --------------------------------------------------------------------------


def test_standardizer_uses_the_training_split_only() -> None:
    config = TrainConfig(dataset="breast-cancer", layers=(4, 1), epochs=1, val=0.2, test=0.2)
    result = train(config)
    assert result.scaler is not None
    raw = load_dataset("breast-cancer")
    tr, va, te = train_val_test_split(raw, 0.2, 0.2, seed=0, stratify=True)
    np.testing.assert_allclose(result.scaler.mean, tr.X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(result.scaler.scale, tr.X.std(axis=0), rtol=1e-12)
    assert not np.allclose(result.scaler.mean, raw.X.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(result.train.X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(result.train.X.std(axis=0), 1.0, rtol=1e-12)
    assert result.test is not None and result.val is not None
    np.testing.assert_allclose(result.scaler.inverse_transform(result.test.X), te.X, atol=1e-12)
    np.testing.assert_allclose(result.scaler.inverse_transform(result.val.X), va.X, atol=1e-12)
    assert np.abs(result.test.X.mean(axis=0)).max() > 1e-3  # not refitted on the test split


def test_standardize_follows_the_dataset_unless_the_config_says() -> None:
    assert train(TrainConfig(dataset="moons", epochs=1)).scaler is None
    assert train(TrainConfig(dataset="moons", epochs=1, standardize=True)).scaler is not None
    off = TrainConfig(dataset="iris", layers=(3,), epochs=1, standardize=False)
    result = train(off)
    assert result.scaler is None
    assert result.train.X.max() > 5  # raw centimetres


def test_constant_columns_get_scale_one() -> None:
    X = np.array([[0.0, 1.0], [0.0, 3.0]])
    s = Standardizer.from_data(X)
    np.testing.assert_array_equal(s.scale, [1.0, 1.0])
    np.testing.assert_array_equal(s.transform(X), [[0.0, -1.0], [0.0, 1.0]])


def test_standardizer_round_trips_through_json_and_checks_what_it_reads() -> None:
    s = Standardizer.from_data(np.random.default_rng(0).normal(3.0, 2.0, size=(20, 3)))
    back = Standardizer.from_dict(s.to_dict())
    np.testing.assert_array_equal(back.mean, s.mean)
    np.testing.assert_array_equal(back.scale, s.scale)
    bad = [
        ({"mean": [1.0]}, "keys 'mean' and 'scale'"),
        ({"mean": [1.0], "scale": [0.0]}, "scale must hold positive"),
        ({"mean": [1.0, 2.0], "scale": [1.0]}, "mean has 2 values but scale has 1"),
        ({"mean": ["a"], "scale": [1.0]}, "mean must be a non-empty list of finite numbers"),
        ({"mean": [], "scale": []}, "non-empty list"),
    ]
    for obj, message in bad:
        with pytest.raises(DataError, match=message):
            Standardizer.from_dict(obj, "metadata.standardize")
    with pytest.raises(
        DataError, match="the data has 2 features, but the standardizer was fitted on 3"
    ):
        s.transform(np.zeros((1, 2)))


# -- the digits target and the pictures -------------------------------------------------------


def test_digits_reaches_95_percent_test_accuracy() -> None:
    result = train(DIGITS)
    scores = result.scores()
    assert scores["test_accuracy"] >= 0.95, scores
    assert result.test is not None and len(result.test) == 360


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_confusion_matrix_and_misclassified_pictures(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the plots need matplotlib")
    result = train(DIGITS)
    assert result.test is not None and result.scaler is not None
    cm = plot_confusion_matrix(result.model, result.test, tmp_path / "cm.png")
    width, height = png_size(cm)
    assert 500 <= width <= 2000 and 500 <= height <= 2000
    raw = result.scaler.inverse_transform(result.test.X)
    grid = plot_misclassified(result.model, result.test, tmp_path / "wrong.png", images=raw)
    assert png_size(grid)[0] > 600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cm.png", "wrong.png"]


def test_error_pictures_refuse_data_they_cannot_draw(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the plots need matplotlib")
    diabetes = load_dataset("diabetes")
    iris = load_dataset("iris")
    with pytest.raises(ValueError, match="needs a classification dataset"):
        plot_confusion_matrix(MLP(10, [1]), diabetes, tmp_path / "x.png")
    with pytest.raises(ValueError, match="the model takes 3 inputs but 'iris' has 4"):
        plot_confusion_matrix(MLP(3, [3]), iris, tmp_path / "x.png")
    with pytest.raises(ValueError, match="needs image data, but 'iris' has no image_shape"):
        plot_misclassified(MLP(4, [3]), iris, tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []
