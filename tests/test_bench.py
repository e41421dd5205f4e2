"""The benchmark suite's smoke run (`--quick`) on one small workload: the JSON it writes has the
shape the docs and the lead read. Speed is not checked here; that is what the suite is for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parent.parent / "bench" / "suite.py"
# Every contender but the original micrograd, in the suite's order.
CONTENDERS = [
    "micrograd per-sample",
    "micrograd batched",
    "micrograd notebook loop",
    *(f"torch {dtype} {update}" for dtype in ("f64", "f32") for update in ("optim", "lean")),
    "numpy",
]


def test_the_quick_suite_runs_one_workload_and_writes_every_contender_to_json(
    tmp_path: Path,
) -> None:
    pytest.importorskip("torch", reason="the suite compares with PyTorch")
    out = tmp_path / "suite.json"
    done = subprocess.run(
        [sys.executable, str(SUITE), "--quick", "--workload", "moons", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["quick"] is True
    assert [w["workload"] for w in result["workloads"]] == ["moons"]
    (moons,) = result["workloads"]
    rows = moons["table"]
    # --quick leaves the original micrograd out (it needs its own virtual environment).
    assert [r["contender"] for r in rows] == CONTENDERS
    for r in rows:
        assert r["steps"] == 3 == len(moons["per_step"][r["contender"]])
        assert 0 < r["min_ms"] <= r["median_ms"] <= r["max_ms"]
        assert r["loss_reference"] == "micrograd batched"
        assert r["losses_agree"] is True, r
        assert r["process_peak_rss_kib"] >= r["setup_rss_kib"] > 0
        assert r["tracemalloc_step_kib"] > 0
        assert "per_torch_f64_optim" in r and "per_numpy" in r
    # Same start, same workload: float64 contenders compute the same losses to rounding.
    f64 = [r["final_loss"] for r in rows if "f32" not in r["contender"]]
    assert max(f64) - min(f64) < 1e-12
    (cell,) = result["scaling"]["rows"]
    assert (cell["samples"], cell["width"]) == (25, 8)
    assert all(cell[c] > 0 for c in ["micrograd batched", "torch f64 optim", "numpy"])
    assert set(result["scaling"]["fits"]) >= {"micrograd batched", "torch f64 optim"}
    assert result["summary"][-1] == "losses agree"
    assert "median ms" in done.stdout


def test_the_real_data_benchmark_runs_one_epoch_and_writes_json(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="the benchmark compares with PyTorch")
    pytest.importorskip("sklearn", reason="the benchmark trains on scikit-learn's digits")
    out = tmp_path / "real.json"
    done = subprocess.run(
        [
            sys.executable,
            str(SUITE.with_name("real.py")),
            "--epochs",
            "1",
            "--repeats",
            "1",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(out.read_text())["table"]
    assert [r["contender"] for r in rows] == [
        "micrograd batched",
        "pytorch float64",
        "pytorch float32",
        "scikit-learn MLP",
    ]
    accuracy = {r["contender"]: r["test_accuracy"] for r in rows}
    # Same weights, same batches, same maths: micrograd and PyTorch float64 agree.
    assert accuracy["micrograd batched"] == accuracy["pytorch float64"]
    assert all(r["median_ms"] > 0 and 0.5 < r["test_accuracy"] <= 1 for r in rows)
