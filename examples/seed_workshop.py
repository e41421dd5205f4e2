"""The seed workshop's step 5, written with nothing but the contract's API: MLP(3, [4, 4, 1]) on
four samples, mean squared error, zero_grad, backward, one gradient step, 40 epochs."""

from __future__ import annotations

import random

from micrograd import MLP

xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
ys = [1.0, -1.0, -1.0, 1.0]


def main(epochs: int = 40, seed: int = 0) -> list[float]:
    """Train and return the loss of every epoch."""
    random.seed(seed)
    n = MLP(3, [4, 4, 1], step=0.05)
    losses = []
    for epoch in range(epochs):
        ypred = [n(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred, strict=True)) / len(ys)
        n.zero_grad()
        loss.backward()
        n.update_parameters()
        losses.append(loss.data)
        print(f"epoch {epoch} loss {loss.data:.6f}")
    print("predictions:", [round(n(x).data, 3) for x in xs])
    return losses


if __name__ == "__main__":
    main()
