"""Dataset generators, splitting and CSV files."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from micrograd.data import (
    DATASETS,
    DataError,
    Dataset,
    load_csv,
    load_dataset,
    make_blobs,
    make_circles,
    make_moons,
    make_regression_1d,
    make_regression_2d,
    make_spirals,
    make_toy,
    make_xor,
    make_yinyang,
    save_csv,
    train_val_test_split,
)
from micrograd.data import _yinyang_class as yinyang_class

# name -> (default n_samples, n_features, task, n_classes)
GENERATED: dict[str, tuple[int, int, str, int]] = {
    "moons": (100, 2, "binary", 2),
    "circles": (100, 2, "binary", 2),
    "xor": (200, 2, "binary", 2),
    "blobs": (150, 2, "multiclass", 3),
    "spirals": (200, 2, "binary", 2),
    "yinyang": (1000, 2, "multiclass", 3),
    "toy": (4, 3, "regression", 0),
    "regression_1d": (100, 1, "regression", 0),
    "regression_2d": (200, 2, "regression", 0),
}
# scikit-learn's bundled files: fixed samples (tests/test_realdata.py tests them further).
REAL: dict[str, tuple[int, int, str, int]] = {
    "digits": (1797, 64, "multiclass", 10),
    "iris": (150, 4, "multiclass", 3),
    "wine": (178, 13, "multiclass", 3),
    "breast-cancer": (569, 30, "binary", 2),
    "diabetes": (442, 10, "regression", 0),
}
EXPECTED = GENERATED | REAL
SEEDED = [name for name in GENERATED if name != "toy"]
CLASSIFICATION = [name for name in SEEDED if EXPECTED[name][2] != "regression"]


def same(a: Dataset, b: Dataset) -> bool:
    return np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)


def test_registry_is_complete() -> None:
    assert set(DATASETS) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shapes_dtypes_and_classes(name: str) -> None:
    n, d, task, n_classes = EXPECTED[name]
    if name in REAL:
        pytest.importorskip("sklearn", reason="the real datasets need scikit-learn")
    ds = load_dataset(name)
    assert (len(ds), ds.X.shape, ds.y.shape) == (n, (n, d), (n,))
    assert (ds.task, ds.n_classes, ds.name, ds.n_features) == (task, n_classes, name, d)
    assert ds.X.dtype == np.float64
    assert ds.classes is None
    if task == "regression":
        assert ds.y.dtype == np.float64
    else:
        assert ds.y.dtype == np.int64
        assert set(ds.y.tolist()) == set(range(n_classes))


@pytest.mark.parametrize("name", SEEDED)
def test_same_seed_same_data_other_seed_other_data(name: str) -> None:
    assert same(load_dataset(name, seed=3), load_dataset(name, seed=3))
    assert not np.array_equal(load_dataset(name, seed=3).X, load_dataset(name, seed=4).X)


@pytest.mark.parametrize("name", SEEDED)
def test_noise_changes_the_data(name: str) -> None:
    clean, noisy = load_dataset(name, noise=0.0), load_dataset(name, noise=0.2)
    assert not same(clean, noisy)
    assert len(clean) == len(noisy)


@pytest.mark.parametrize("n", [12, 13, 50, 101])
@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classes_are_balanced(name: str, n: int) -> None:
    ds = load_dataset(name, n_samples=n)
    counts = np.bincount(ds.y, minlength=ds.n_classes)
    assert counts.sum() == n
    assert counts.max() - counts.min() <= 1


def test_generators_shuffle_their_points() -> None:
    y = make_moons(100).y
    assert not (np.all(y[:50] == 0) and np.all(y[50:] == 1))


def test_moons_and_circles_geometry_without_noise() -> None:
    moons = make_moons(40, noise=0.0)
    top, bottom = moons.X[moons.y == 0], moons.X[moons.y == 1]
    np.testing.assert_allclose(np.hypot(*top.T), 1.0)
    assert np.all(top[:, 1] >= -1e-12)
    np.testing.assert_allclose(np.hypot(bottom[:, 0] - 1.0, bottom[:, 1] - 0.5), 1.0)
    circles = make_circles(40, noise=0.0, factor=0.3)
    radii = np.hypot(*circles.X.T)
    np.testing.assert_allclose(radii[circles.y == 0], 1.0)
    np.testing.assert_allclose(radii[circles.y == 1], 0.3)


def test_xor_labels_follow_the_sign_of_x_times_y() -> None:
    ds = make_xor(101, noise=0.0)
    np.testing.assert_array_equal(ds.y, (ds.X[:, 0] * ds.X[:, 1] < 0).astype(np.int64))
    assert np.all(np.abs(ds.X) <= 1.0)


def test_blobs_without_noise_are_their_centres() -> None:
    ds = make_blobs(60, noise=0.0, centers=4)
    assert ds.n_classes == 4
    for c in range(4):
        points = ds.X[ds.y == c]
        assert len(points) == 15
        assert np.all(points == points[0])
        assert math.hypot(*points[0]) == pytest.approx(2.0)


def test_spirals_with_k_arms() -> None:
    ds = make_spirals(90, noise=0.0, arms=3)
    assert (ds.task, ds.n_classes) == ("multiclass", 3)
    radii = np.hypot(*ds.X.T)
    assert radii.min() == pytest.approx(0.1)
    assert radii.max() == pytest.approx(1.0)


def test_yinyang_geometry() -> None:
    r_small, r_big = 0.1, 0.5
    points = {
        (-0.25, 0.0): 2,  # the centre of the left dot
        (0.25, 0.02): 2,  # inside the right dot
        (0.0, 0.4): 0,  # upper half, outside both half discs: yin
        (0.0, -0.4): 1,  # lower half: yang
        (-0.4, -0.05): 0,  # inside the left half disc, below the axis: still yin
        (0.4, 0.05): 1,  # inside the right half disc, above the axis: still yang
    }
    xy = np.array(list(points))
    got = yinyang_class(xy[:, 0], xy[:, 1], r_small, r_big)
    assert got.tolist() == list(points.values())


def test_yinyang_points_lie_in_the_disc_with_the_right_labels() -> None:
    ds = make_yinyang(300, noise=0.0)
    assert np.all(np.hypot(*ds.X.T) <= 2.0 + 1e-12)
    unscaled = ds.X * (0.5 / 2.0)
    np.testing.assert_array_equal(ds.y, yinyang_class(unscaled[:, 0], unscaled[:, 1], 0.1, 0.5))


def test_toy_is_the_seed_workshop_set() -> None:
    ds = make_toy()
    assert ds.X.tolist() == [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    assert ds.y.tolist() == [1.0, -1.0, -1.0, 1.0]
    # A fixed set: the seed changes nothing, and other sizes or noise are refused, not ignored.
    assert same(make_toy(seed=5), ds)
    assert same(load_dataset("toy", n_samples=4, noise=0.0, seed=2), ds)
    with pytest.raises(DataError, match="exactly 4 samples, got n_samples=100"):
        load_dataset("toy", n_samples=100)
    with pytest.raises(DataError, match=r"takes no noise, got noise=0\.3"):
        load_dataset("toy", noise=0.3)


def test_regression_1d_is_a_sine() -> None:
    ds = make_regression_1d(50, noise=0.0)
    np.testing.assert_array_equal(ds.y, np.sin(ds.X[:, 0]))
    assert np.all(np.abs(ds.X) <= np.pi)


def test_regression_2d_is_two_bumps_in_a_square() -> None:
    ds = make_regression_2d(300, noise=0.0)
    X = ds.X
    bumps = np.exp(-((X - 1.0) ** 2).sum(axis=1)) - np.exp(-((X + 1.0) ** 2).sum(axis=1))
    np.testing.assert_allclose(ds.y, bumps)
    assert np.all(np.abs(X) <= 2.0) and np.all(np.abs(ds.y) <= 1.0)
    assert ds.y.max() > 0.5 and ds.y.min() < -0.5  # both bumps are sampled
    noisy = make_regression_2d(300, noise=0.2)
    assert np.std(noisy.y - bumps) == pytest.approx(0.2, rel=0.2)  # noise on the target only
    np.testing.assert_array_equal(noisy.X, X)


@pytest.mark.parametrize("name", SEEDED)
def test_bad_generator_arguments(name: str) -> None:
    with pytest.raises(DataError, match="noise must be >= 0"):
        load_dataset(name, noise=-0.1)
    with pytest.raises(DataError, match="n_samples must be >= "):
        load_dataset(name, n_samples=0)
    with pytest.raises(TypeError, match="n_samples must be an integer"):
        load_dataset(name, n_samples=10.5)  # type: ignore[arg-type]


def test_generator_minimum_sizes_and_options() -> None:
    with pytest.raises(DataError, match="n_samples must be >= 4"):
        make_xor(3)
    with pytest.raises(DataError, match="n_samples must be >= 5"):
        make_blobs(4, centers=5)
    with pytest.raises(DataError, match="centers must be >= 2"):
        make_blobs(10, centers=1)
    with pytest.raises(DataError, match="arms must be >= 2"):
        make_spirals(10, arms=1)
    with pytest.raises(DataError, match=r"factor must be in \(0, 1\)"):
        make_circles(factor=1.5)
    with pytest.raises(DataError, match="r_small < r_big / 2"):
        make_yinyang(r_small=0.3, r_big=0.5)
    with pytest.raises(DataError, match="noise must be finite"):
        make_moons(noise=math.nan)
    assert len(make_moons(2)) == 2


def test_load_dataset() -> None:
    assert same(load_dataset("moons"), make_moons())
    assert same(
        load_dataset("spirals", n_samples=30, noise=0.2, seed=7),
        make_spirals(30, noise=0.2, seed=7),
    )
    with pytest.raises(DataError, match="unknown dataset 'mnist': expected one of moons, "):
        load_dataset("mnist")
    assert issubclass(DataError, ValueError)


def test_dataset_validates_its_fields() -> None:
    X, y = np.zeros((3, 2)), np.array([0, 1, 1])
    Dataset(X, y, "ok", "binary", 2)
    with pytest.raises(DataError, match="X must be a 2-D float64 array"):
        Dataset(X.astype(np.int64), y, "bad", "binary", 2)
    with pytest.raises(DataError, match="X has 3 rows but y has 2 values"):
        Dataset(X, y[:2], "bad", "binary", 2)
    with pytest.raises(DataError, match=r"labels must be 0\.\.1, found 0\.\.2"):
        Dataset(X, np.array([0, 1, 2]), "bad", "binary", 2)
    with pytest.raises(DataError, match="task must be one of"):
        Dataset(X, y, "bad", "classify", 2)
    with pytest.raises(DataError, match="regression targets must be float64"):
        Dataset(X, y, "bad", "regression", 0)


# -- splitting ----------------------------------------------------------------------------


def indexed(n: int) -> Dataset:
    """A dataset whose first feature is each row's index, to track rows through a split."""
    X = np.column_stack([np.arange(n, dtype=np.float64), np.zeros(n)])
    return Dataset(X, np.arange(n, dtype=np.int64) % 3, "indexed", "multiclass", 3)


def test_split_sizes_and_disjointness() -> None:
    train, val, test = train_val_test_split(indexed(100), val=0.2, test=0.1, seed=1)
    assert (len(train), len(val), len(test)) == (70, 20, 10)
    ids = [set(part.X[:, 0].tolist()) for part in (train, val, test)]
    assert ids[0].isdisjoint(ids[1]) and ids[0].isdisjoint(ids[2]) and ids[1].isdisjoint(ids[2])
    assert set.union(*ids) == set(range(100))
    for part in (train, val, test):
        np.testing.assert_array_equal(part.y, part.X[:, 0].astype(np.int64) % 3)
        assert (part.task, part.n_classes, part.name) == ("multiclass", 3, "indexed")


def test_split_is_shuffled_by_its_seed() -> None:
    a = train_val_test_split(indexed(50), seed=0)
    b = train_val_test_split(indexed(50), seed=0)
    c = train_val_test_split(indexed(50), seed=1)
    assert all(same(x, y) for x, y in zip(a, b, strict=True))
    assert not same(a[0], c[0])
    assert a[0].X[:, 0].tolist() != sorted(a[0].X[:, 0].tolist())


def test_split_sizes_round_up_and_zero_fractions_give_empty_splits() -> None:
    train, val, test = train_val_test_split(indexed(30), val=0.1)
    assert (len(train), len(val), len(test)) == (27, 3, 0)
    assert test.X.shape == (0, 2)
    train, val, test = train_val_test_split(indexed(5), val=0.01, test=0.01)
    assert (len(train), len(val), len(test)) == (3, 1, 1)


@pytest.mark.parametrize(
    ("val", "test", "match"),
    [
        (1.0, 0.0, r"val must be in \[0, 1\)"),
        (-0.1, 0.0, r"val must be in \[0, 1\)"),
        (0.2, 1.5, r"test must be in \[0, 1\)"),
        (0.5, 0.5, "val \\+ test must be < 1"),
    ],
)
def test_split_fractions_are_validated(val: float, test: float, match: str) -> None:
    with pytest.raises(DataError, match=match):
        train_val_test_split(indexed(10), val=val, test=test)


def test_split_must_leave_training_data() -> None:
    with pytest.raises(DataError, match="2 samples leave no training data"):
        train_val_test_split(indexed(2), val=0.3, test=0.3)


# -- CSV ----------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_header(tmp_path: Path) -> None:
    ds = load_csv(write(tmp_path, "x1,x2,label\n0.5,1.0,0\n-1,2e-3,1\n3,4,1\n"))
    np.testing.assert_array_equal(ds.X, [[0.5, 1.0], [-1.0, 0.002], [3.0, 4.0]])
    np.testing.assert_array_equal(ds.y, [0, 1, 1])
    assert (ds.task, ds.n_classes, ds.classes) == ("binary", 2, None)
    assert (ds.name, ds.columns) == ("data", ["x1", "x2", "label"])
    assert ds.y.dtype == np.int64


def test_csv_without_header(tmp_path: Path) -> None:
    ds = load_csv(write(tmp_path, "0.5,1.5\n1.0,2.25\n2.0,-0.5\n"))
    np.testing.assert_array_equal(ds.X, [[0.5], [1.0], [2.0]])
    np.testing.assert_array_equal(ds.y, [1.5, 2.25, -0.5])
    assert (ds.task, ds.n_classes, ds.columns) == ("regression", 0, None)


def test_csv_crlf_bom_and_trailing_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "win.csv"
    path.write_bytes(b"\xef\xbb\xbfa,b\r\n1,0\r\n2,1\r\n\r\n\r\n")
    ds = load_csv(path)
    assert ds.columns == ["a", "b"]
    assert len(ds) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x1,x2,y\n1,2,0\n3,abc,1\n", "data.csv: line 3, column 2 ('x2'): 'abc' is not a number"),
        ("1,2,0\n3,4,1\n5,6,oops\n", "data.csv: line 3, column 3: 'oops' is not a number"),
        ("x1,x2,y\n1,,0\n", "data.csv: line 2, column 2 ('x2'): empty cell"),
        ("1, ,0\n", "data.csv: line 1, column 2: empty cell"),
        ("x,y\n1,nan\n", "data.csv: line 2, column 2 ('y'): 'nan' is not finite"),
        ("x1,x2,y\n1,2,0\n1,2\n", "data.csv: line 3 has 2 columns, expected 3 as on the header"),
        ("1,2,0\n1,2,0,4\n", "data.csv: line 2 has 4 columns, expected 3 as on line 1"),
        ("", "data.csv: the file is empty"),
        ("\n\n", "data.csv: the file is empty"),
        ("x,y\n", "data.csv: line 1 is a header, but no data rows follow"),
        ("y\n1\n2\n", "data.csv: line 1 has 1 column; need at least 2"),
        ("x,,y\n1,2,3\n", "data.csv: line 1, column 2: empty header name"),
        ("x,y\n1,2\n\n3,4\n", "data.csv: line 3 is blank, but data follows it on line 4"),
    ],
    ids=[
        "bad_cell_header",
        "bad_cell_no_header",
        "empty_cell",
        "blank_cell_first_row",
        "nan",
        "short_row",
        "long_row",
        "empty_file",
        "only_blank_lines",
        "header_only",
        "one_column",
        "empty_header_name",
        "blank_line_inside",
    ],
)
def test_csv_errors_name_file_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DataError) as info:
        load_csv(write(tmp_path, text))
    assert message in str(info.value)


def test_csv_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_csv(tmp_path / "nope.csv")


def csv_of(tmp_path: Path, targets: list[Any], **kwargs: Any) -> Dataset:
    rows = "".join(f"{i},{t}\n" for i, t in enumerate(targets))
    return load_csv(write(tmp_path, "x,y\n" + rows), **kwargs)


def test_csv_task_inference(tmp_path: Path) -> None:
    multi = csv_of(tmp_path, [0, 1, 2] * 4)
    assert (multi.task, multi.n_classes) == ("multiclass", 3)
    assert csv_of(tmp_path, [0, 1, 2, 3, 4, 5]).task == "regression"  # too many distinct values
    assert csv_of(tmp_path, [0, 1, 2, 0, 1, 2]).task == "regression"  # 3 values, not < 6 / 2
    assert csv_of(tmp_path, [0.5, 1.0, 0.5, 1.0]).task == "regression"
    single = csv_of(tmp_path, [0, 0, 0, 0])
    assert (single.task, single.n_classes) == ("binary", 2)


def test_csv_plus_minus_one_labels_map_to_classes(tmp_path: Path) -> None:
    for task in (None, "binary", "classification"):
        ds = csv_of(tmp_path, [1, -1, -1, 1], task=task)
        assert (ds.task, ds.n_classes, ds.classes) == ("binary", 2, [-1.0, 1.0])
        np.testing.assert_array_equal(ds.y, [1, 0, 0, 1])


def test_csv_labels_other_than_0_to_c_minus_1_are_an_error(tmp_path: Path) -> None:
    with pytest.raises(
        DataError,
        match=r"column 2 \('y'\): they look like class labels, but "
        r"\{1, 2, 3\} is not 0\.\.C-1; relabel",
    ):
        csv_of(tmp_path, [1, 2, 3] * 4)
    with pytest.raises(DataError, match=r"\{3, 7\} is not 0\.\.C-1"):
        csv_of(tmp_path, [3, 7])
    with pytest.raises(DataError, match=r"they look like class labels.*line 3 has -2\.0"):
        csv_of(tmp_path, [0, -2, 0, -2])
    with pytest.raises(DataError, match=r"task='multiclass' needs class labels.*relabel"):
        csv_of(tmp_path, [1, -1, 1, -1], task="multiclass")
    with pytest.raises(DataError, match=r"task='binary' needs labels 0 and 1.*line 4 has 2\.0"):
        csv_of(tmp_path, [0, 1, 2, 0], task="binary")
    with pytest.raises(DataError, match=r"task='multiclass' needs class labels.*line 3 has 0\.5"):
        csv_of(tmp_path, [0, 0.5], task="multiclass")


def test_csv_explicit_task(tmp_path: Path) -> None:
    ds = csv_of(tmp_path, [0, 1, 2, 1], task="regression")
    assert (ds.task, ds.n_classes) == ("regression", 0)
    assert ds.y.dtype == np.float64
    ds = csv_of(tmp_path, [0, 1, 0, 1, 1, 0], task="multiclass")
    assert (ds.task, ds.n_classes) == ("multiclass", 2)
    ds = csv_of(tmp_path, [0, 3], task="classification")  # classes 1 and 2 absent from the file
    assert (ds.task, ds.n_classes) == ("multiclass", 4)
    with pytest.raises(DataError, match="task must be None, 'classification' or one of"):
        csv_of(tmp_path, [0, 1], task="ranking")


@pytest.mark.parametrize("name", ["moons", "blobs", "regression_1d", "toy"])
@pytest.mark.parametrize("header", [True, False])
def test_csv_round_trip_of_a_dataset(tmp_path: Path, name: str, header: bool) -> None:
    ds = load_dataset(name, n_samples=None if name == "toy" else 60)
    path = tmp_path / f"{name}.csv"
    save_csv(ds, path, header=header)
    back = load_csv(path, task=ds.task)
    assert same(back, ds)
    assert back.X.dtype == ds.X.dtype and back.y.dtype == ds.y.dtype
    assert (back.task, back.n_classes) == (ds.task, ds.n_classes)
    names = [*(f"x{j + 1}" for j in range(ds.n_features)), "y"]
    assert back.columns == (names if header else None)


def test_csv_round_trip_of_a_file_is_exact(tmp_path: Path) -> None:
    text = "age,score,label\n0.1,-2.5,-1\n1e-05,3.0,1\n0.30000000000000004,12345.678,1\n"
    first = load_csv(write(tmp_path, text, "in.csv"))
    assert first.classes == [-1.0, 1.0]
    save_csv(first, tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == text
    assert same(load_csv(tmp_path / "out.csv"), first)
