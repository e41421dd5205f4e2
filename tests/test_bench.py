"""A 2-step smoke run of the benchmark harness (the full run is not part of the test suite)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "moons.py"


def test_the_benchmark_runs_two_steps_and_writes_json(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="the benchmark compares with PyTorch")
    out = tmp_path / "moons.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--steps", "2", "--skip", "original", "--no-scaling",
         "--json", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    names = [row["contender"] for row in result["table"]]
    assert names == ["micrograd per-sample", "micrograd batched", "pytorch", "numpy"]
    losses = {row["contender"]: row["final_loss"] for row in result["table"]}
    # Same start, same workload: every contender computes the same losses.
    assert max(losses.values()) - min(losses.values()) < 1e-9
    assert all(row["median_ms"] > 0 for row in result["table"])
    assert "micrograd per-sample" in result["peak_bytes"]
    assert "median ms" in done.stdout


def test_the_real_data_benchmark_runs_one_epoch_and_writes_json(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="the benchmark compares with PyTorch")
    pytest.importorskip("sklearn", reason="the benchmark trains on scikit-learn's digits")
    out = tmp_path / "real.json"
    done = subprocess.run(
        [sys.executable, str(BENCH.with_name("real.py")), "--epochs", "1", "--repeats", "1",
         "--json", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(out.read_text())["table"]
    assert [r["contender"] for r in rows] == [
        "micrograd batched", "pytorch float64", "pytorch float32", "scikit-learn MLP"]
    accuracy = {r["contender"]: r["test_accuracy"] for r in rows}
    # Same weights, same batches, same maths: micrograd and PyTorch float64 agree.
    assert accuracy["micrograd batched"] == accuracy["pytorch float64"]
    assert all(r["median_ms"] > 0 and 0.5 < r["test_accuracy"] <= 1 for r in rows)
