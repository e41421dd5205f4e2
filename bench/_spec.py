"""What every contender reads from a workload's setup: learning rate, batches, weight layout.

Standard library only: the original micrograd's process imports it too.
"""

from __future__ import annotations

import itertools
from typing import Any


def learning_rate(spec: dict[str, Any], k: int) -> float:
    """lr at step k: constant, or linear from lr to lr * 0.1 over `total_iters` (the demo's)."""
    lr: float = spec["lr"]
    if spec["schedule"] == "linear":
        total = spec["total_iters"]
        return lr * (1.0 + (0.1 - 1.0) * min(k, total) / total)
    return lr


def batch(spec: dict[str, Any], k: int) -> list[int] | None:
    """Row indices of step k's mini-batch, or None for full-batch training."""
    batches: list[list[int]] | None = spec["batches"]
    return None if batches is None else batches[k % len(batches)]


def layer_weights(
    spec: dict[str, Any],
) -> list[tuple[list[list[float]], list[float]]]:
    """(W as rows of out x in, b) per layer, from the flat list in `parameters()` order:
    neuron by neuron, each neuron's weights then its bias."""
    it = iter(spec["weights"])
    layers = []
    sizes = spec["sizes"]
    for nin, nout in itertools.pairwise(sizes):
        W, b = [], []
        for _ in range(nout):
            W.append([next(it) for _ in range(nin)])
            b.append(next(it))
        layers.append((W, b))
    return layers
