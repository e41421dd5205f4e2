"""The suite's workloads: data, network, loss, optimizer and initial weights, one dict each.

A workload's setup is plain JSON (lists of floats), sent to every contender's process, so all
start from the same weights and see the same mini-batches. Data comes from `micrograd.data`.
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

STEPS = 100

# name -> description, data, network, training. `original`: the original micrograd can express
# it (ReLU, hinge or MSE, full batch); `per_sample_steps`: per-sample runs are capped there so
# that they take under a minute on a 2-core machine.
DEMO: dict[str, Any] = {
    "title": "moons, MLP(2,[16,16,1]), hinge + L2, SGD, 100 points (the original demo)",
    "data": ("moons", {"n_samples": 100, "noise": 0.1}),
    "sizes": [2, 16, 16, 1],
    "activation": "relu",
    "loss": "hinge",
    "alpha": 1e-4,
    "optimizer": "sgd",
    "lr": 1.0,
    "schedule": "linear",
    "batch": None,
    "init": "uniform",
    "original": True,
}
# Wide networks: weights in PyTorch's range and a smaller step, or SGD diverges.
WIDE = {"init": "fan_in", "lr": 0.1, "original": False}

WORKLOADS: dict[str, dict[str, Any]] = {
    "moons": DEMO,
    "moons-tanh": {
        **DEMO,
        "title": "moons with tanh, MLP(2,[16,16,1]), hinge + L2, SGD, 100 points",
        "activation": "tanh",
        "original": False,
    },
    "regression": {
        **DEMO,
        "title": "1-D regression, MLP(1,[16,16,1]), MSE, SGD, 100 points",
        "data": ("regression_1d", {"n_samples": 100, "noise": 0.1}),
        "sizes": [1, 16, 16, 1],
        "loss": "mse",
        "alpha": 0.0,
        "lr": 0.01,
        "schedule": None,
    },
    "spirals": {
        **DEMO,
        **WIDE,
        "title": "spirals 3-class, MLP(2,[32,32,3]), cross-entropy, Adam, batch 256 of 768",
        "data": ("spirals", {"n_samples": 768, "noise": 0.05, "arms": 3}),
        "sizes": [2, 32, 32, 3],
        "loss": "cross_entropy",
        "alpha": 0.0,
        "optimizer": "adam",
        "lr": 0.01,
        "schedule": None,
        "batch": 256,
    },
    "moons-1000": {
        **DEMO,
        **WIDE,
        "title": "moons 1000 points, MLP(2,[64,64,64,1]), hinge + L2, SGD",
        "data": ("moons", {"n_samples": 1000, "noise": 0.1}),
        "sizes": [2, 64, 64, 64, 1],
        "per_sample_steps": 30,
    },
}


def initial_weights(sizes: list[int], seed: int, init: str) -> list[float]:
    """Uniform in [-1, 1] as the original micrograd draws them, or scaled by 1/sqrt(fan_in)
    (PyTorch's `Linear` default range) so that deep, wide networks start in a sane range."""
    rng = random.Random(seed)
    weights = []
    for nin, nout in itertools.pairwise(sizes):
        scale = 1.0 if init == "uniform" else 1.0 / math.sqrt(nin)
        weights += [rng.uniform(-1, 1) * scale for _ in range(nout * (nin + 1))]
    return weights


def mini_batches(n: int, size: int, steps: int, seed: int) -> list[list[int]]:
    """Each epoch a fresh shuffle of the n rows, cut into batches of `size` (the last may be
    short)."""
    rng = random.Random(seed)
    out: list[list[int]] = []
    while len(out) < steps:
        order = list(range(n))
        rng.shuffle(order)
        out += [order[i : i + size] for i in range(0, n, size)]
    return out[:steps]


def setup(workload: dict[str, Any], steps: int, seed: int) -> dict[str, Any]:
    """The JSON setup every contender builds its run from."""
    from micrograd.data import make_moons, make_regression_1d, make_spirals

    makers = {"moons": make_moons, "regression_1d": make_regression_1d, "spirals": make_spirals}
    name, kwargs = workload["data"]
    ds = makers[name](seed=seed, **kwargs)
    X = ds.X.tolist()
    if workload["loss"] == "hinge":
        y: list[Any] = (ds.y * 2.0 - 1.0).tolist()
    elif workload["loss"] == "cross_entropy":
        y = [int(c) for c in ds.y]
    else:
        y = ds.y.tolist()
    batches = None
    if workload["batch"] is not None:
        # two more than timed: the memory measurement runs two extra steps
        batches = mini_batches(len(X), workload["batch"], steps + 2, seed)
    return {
        "X": X,
        "y": y,
        "sizes": workload["sizes"],
        "activation": workload["activation"],
        "loss": workload["loss"],
        "alpha": workload["alpha"],
        "optimizer": workload["optimizer"],
        "lr": workload["lr"],
        "schedule": workload["schedule"],
        "total_iters": STEPS,
        "batches": batches,
        "weights": initial_weights(workload["sizes"], seed, workload["init"]),
    }


def parameter_count(sizes: list[int]) -> int:
    return sum((a + 1) * b for a, b in itertools.pairwise(sizes))
