"""Contender: the original micrograd 0.1.0, run from its own virtual environment.

Its code is the original demo notebook's (hinge loss) and README's (mean squared error):
inputs wrapped in `Value`s, one graph per sample, `p.data -= lr * p.grad` by hand. It has
ReLU only and no exp or log, so it runs the workloads it can express: hinge and MSE with ReLU.
"""

from __future__ import annotations

from typing import Any

from _spec import learning_rate

Step = Any


def build(spec: dict[str, Any]) -> Step:
    from micrograd.engine import Value
    from micrograd.nn import MLP

    if spec["activation"] != "relu" or spec["loss"] not in ("hinge", "mse") or spec["batches"]:
        raise SystemExit("the original micrograd runs full-batch ReLU hinge or MSE workloads only")
    sizes = spec["sizes"]
    model = MLP(sizes[0], sizes[1:])
    for p, w in zip(model.parameters(), spec["weights"], strict=True):
        p.data = w
    X, y, alpha = spec["X"], spec["y"], spec["alpha"]

    def update(loss: Any, k: int) -> float:
        model.zero_grad()
        loss.backward()
        lr = learning_rate(spec, k)
        for p in model.parameters():
            p.data -= lr * p.grad
        return float(loss.data)

    def hinge_step(k: int) -> float:
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = alpha * sum(p * p for p in model.parameters())
        return update(data_loss + reg_loss, k)

    def mse_step(k: int) -> float:
        return update(sum((model(x) - yi) ** 2 for x, yi in zip(X, y, strict=True)) / len(y), k)

    return hinge_step if spec["loss"] == "hinge" else mse_step
