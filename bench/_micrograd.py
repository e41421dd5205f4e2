"""Contender: this micrograd, per sample (one graph per sample) or batched (numpy arrays in).

Public API only, written as the README writes it: per sample, the model called on each row
(a list of floats) and the losses of `micrograd.losses` over the list of outputs, or for
mean squared error the README's own snippet (`sum((model(x) - y) ** 2 ...)` and
`model.update_parameters()`); batched, the README's training loop with `model(X)` on a 2-D
array (a `BatchedMLP` converted from the same `MLP`, where the version has one). Optimizers and
schedules from `micrograd.optim`. No garbage-collector pause is added: whatever the library
does inside `backward()` the README loop gets too.
"""

from __future__ import annotations

from typing import Any

from _spec import batch, learning_rate

Step = Any


def build(spec: dict[str, Any], batched: bool) -> Step:
    import numpy as np

    from micrograd.losses import cross_entropy, hinge_loss, l2_penalty, mse_loss
    from micrograd.nn import MLP
    from micrograd.optim import SGD, Adam, LinearLR

    try:
        from micrograd.batched import BatchedMLP
    except ImportError:  # a micrograd from before batched mode was its own model
        BatchedMLP = None

    sizes = spec["sizes"]
    model = MLP(sizes[0], sizes[1:], activation=spec["activation"])
    params = model.parameters()
    for p, w in zip(params, spec["weights"], strict=True):
        p.data = w
    if batched and BatchedMLP is not None:
        model = BatchedMLP.from_mlp(model)
        params = model.parameters()
    loss_name, alpha = spec["loss"], spec["alpha"]
    if spec["optimizer"] == "adam":
        optimizer: Any = Adam(params, lr=spec["lr"])
    else:
        optimizer = SGD(params, lr=spec["lr"])
    schedule = None
    if spec["schedule"] == "linear":
        schedule = LinearLR(
            optimizer, start_factor=1.0, end_factor=0.1, total_iters=spec["total_iters"]
        )
    loss_fn = {"hinge": hinge_loss, "mse": mse_loss, "cross_entropy": cross_entropy}[loss_name]
    if batched:
        X: Any = np.array(spec["X"], dtype=np.float64)
        y: Any = np.array(spec["y"], dtype=np.int64 if loss_name == "cross_entropy" else np.float64)
    else:
        X, y = spec["X"], spec["y"]

    def rows(k: int) -> tuple[Any, Any]:
        idx = batch(spec, k)
        if idx is None:
            return X, y
        if batched:
            return X[idx], y[idx]
        return [X[i] for i in idx], [y[i] for i in idx]

    def step(k: int) -> float:
        xb, yb = rows(k)
        outputs = model(xb) if batched else [model(x) for x in xb]
        loss = loss_fn(outputs, yb)
        if alpha:
            loss = loss + alpha * l2_penalty(model.parameters())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if schedule is not None:
            schedule.step()
        return float(loss.data)

    def readme_mse_step(k: int) -> float:
        xs, ys = rows(k)
        model.step = learning_rate(spec, k)
        loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys, strict=True)) / len(ys)
        model.zero_grad()
        loss.backward()
        model.update_parameters()
        return float(loss.data)

    if not batched and loss_name == "mse" and not alpha and spec["optimizer"] == "sgd":
        return readme_mse_step
    return step
