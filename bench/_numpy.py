"""Contender: the numpy floor, an MLP vectorised by hand (forward, backward, update).

No graph and no per-node objects: a few array operations per layer, the practical floor for
Python driving numpy on these workloads. Adam is written out as `torch.optim.Adam` computes it.
"""

from __future__ import annotations

from typing import Any

from _spec import batch, layer_weights, learning_rate

Step = Any


def build(spec: dict[str, Any]) -> Step:
    import numpy as np

    Ws = [np.array(W, dtype=np.float64) for W, _ in layer_weights(spec)]
    bs = [np.array(b, dtype=np.float64) for _, b in layer_weights(spec)]
    params = [a for pair in zip(Ws, bs, strict=True) for a in pair]
    loss_name, alpha = spec["loss"], spec["alpha"]
    tanh = spec["activation"] == "tanh"
    X = np.array(spec["X"], dtype=np.float64)
    y = np.array(spec["y"], dtype=np.int64 if loss_name == "cross_entropy" else np.float64)
    last = len(Ws) - 1
    adam = spec["optimizer"] == "adam"
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8

    def loss_and_grad(out: Any, yb: Any) -> tuple[float, Any]:
        n = len(yb)
        if loss_name == "cross_entropy":
            z = out - out.max(axis=1, keepdims=True)
            e = np.exp(z)
            total = e.sum(axis=1, keepdims=True)
            rows = np.arange(n)
            loss = float((np.log(total[:, 0]) - z[rows, yb]).mean())
            g = e / total
            g[rows, yb] -= 1.0
            return loss, g / n
        s = out[:, 0]
        if loss_name == "mse":
            d = s - yb
            return float((d * d).mean()), (2.0 / n * d)[:, None]
        margin = 1.0 - yb * s
        return float(np.maximum(margin, 0.0).mean()), (-(yb * (margin > 0)) / n)[:, None]

    def step(k: int) -> float:
        idx = batch(spec, k)
        xb, yb = (X, y) if idx is None else (X[idx], y[idx])
        acts = [xb]
        for i, (W, b) in enumerate(zip(Ws, bs, strict=True)):
            z = acts[-1] @ W.T + b
            acts.append(z if i == last else np.tanh(z) if tanh else np.maximum(z, 0.0))
        loss, g = loss_and_grad(acts[-1], yb)
        if alpha:
            loss += alpha * sum(float((p * p).sum()) for p in params)
        grads: list[Any] = [None] * len(params)
        for i in range(last, -1, -1):
            grads[2 * i] = g.T @ acts[i]
            grads[2 * i + 1] = g.sum(axis=0)
            if i:
                a = acts[i]
                g = (g @ Ws[i]) * ((1.0 - a * a) if tanh else (a > 0))
        if alpha:
            grads = [gp + 2 * alpha * p for p, gp in zip(params, grads, strict=True)]
        lr = learning_rate(spec, k)
        if adam:
            t = k + 1
            step_size = lr / (1 - beta1**t)
            bias2 = (1 - beta2**t) ** 0.5
            for p, gp, mi, vi in zip(params, grads, m, v, strict=True):
                mi += (1 - beta1) * (gp - mi)
                vi *= beta2
                vi += (1 - beta2) * gp * gp
                p -= step_size * mi / (np.sqrt(vi) / bias2 + eps)
        else:
            for p, gp in zip(params, grads, strict=True):
                p -= lr * gp
        return loss

    return step
