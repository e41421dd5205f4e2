"""The original micrograd demo, reproduced: two moons, MLP(2, [16, 16, 1]), max-margin loss with
L2 regularisation, SGD with a linearly decaying learning rate, 100 steps to 100% accuracy.

    python examples/original_demo.py            # batched: the whole data set at once (BatchedMLP)
    python examples/original_demo.py per-sample # one graph per sample, as in the notebook (MLP)

Both forms start from the same weights (the same random numbers draw them) and train alike, to
rounding.
"""

from __future__ import annotations

import random
import sys

from micrograd.batched import BatchedMLP
from micrograd.data import make_moons
from micrograd.losses import hinge_loss, l2_penalty
from micrograd.nn import MLP
from micrograd.optim import SGD, LinearLR


def main(mode: str = "batched", steps: int = 100, seed: int = 1337) -> float:
    """Train and return the final training accuracy."""
    ds = make_moons(n_samples=100, noise=0.1, seed=seed)
    X, y = ds.X, ds.y * 2.0 - 1.0  # labels -1 / +1 for the hinge loss
    form = BatchedMLP if mode == "batched" else MLP
    model = form(2, [16, 16, 1], rng=random.Random(seed))
    optimizer = SGD(model.parameters(), lr=1.0)
    schedule = LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total_iters=100)
    acc = 0.0
    for k in range(steps):
        if isinstance(model, BatchedMLP):
            scores = model(X)  # one Value holding every sample's score
            outputs = list(scores.data)
        else:
            scores = [model(list(x)) for x in X]  # one Value per sample
            outputs = [s.data for s in scores]
        loss = hinge_loss(scores, y) + 1e-4 * l2_penalty(model.parameters())
        acc = sum((yi > 0) == (si > 0) for yi, si in zip(y, outputs, strict=True)) / len(y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if k % 10 == 0 or k == steps - 1:
            print(f"step {k} loss {loss.data:.6f}, accuracy {acc * 100:.0f}%")
    return acc


if __name__ == "__main__":
    main(*sys.argv[1:2])
