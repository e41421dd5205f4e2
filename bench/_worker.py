"""One benchmark contender in its own process, driven by `bench/moons.py` over stdin/stdout.

The workload is the original micrograd demo: two moons, MLP(2, [16, 16, 1]) with ReLU hidden
layers, mean hinge loss + 1e-4 * sum(p*p), SGD with lr = 1.0 - 0.9*k/100. Every contender starts
from the same weights, sent by the harness, so their losses can be compared step by step.

Protocol: the first line is a JSON setup object; then `step K` lines answer with
{"ms", "loss", "acc"}, `memory` answers with {"peak_bytes"} (one more step under tracemalloc),
and `quit` ends. This file also runs under the original micrograd's own virtual environment, so
it imports nothing from this repository at the top.
"""

from __future__ import annotations

import gc
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

Step = Callable[[int], tuple[float, float]]


def lr_at(k: int) -> float:
    return 1.0 - 0.9 * k / 100


def original(X: list[list[float]], y: list[float], weights: list[float], alpha: float) -> Step:
    """The original micrograd 0.1.0 demo's code, as its notebook writes it."""
    from micrograd.engine import Value
    from micrograd.nn import MLP

    model = MLP(2, [16, 16, 1])
    for p, w in zip(model.parameters(), weights, strict=True):
        p.data = w

    def step(k: int) -> tuple[float, float]:
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
        model.zero_grad()
        total_loss.backward()
        learning_rate = lr_at(k)
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        return total_loss.data, sum(accuracy) / len(accuracy)

    return step


def _ours(batched: bool) -> Callable[[list[list[float]], list[float], list[float], float], Step]:
    def build(X: list[list[float]], y: list[float], weights: list[float], alpha: float) -> Step:
        import numpy as np

        from micrograd.losses import hinge_loss, l2_penalty
        from micrograd.nn import MLP
        from micrograd.optim import SGD, LinearLR
        from micrograd.train import gc_paused

        model = MLP(2, [16, 16, 1])
        params = model.parameters()
        for p, w in zip(params, weights, strict=True):
            p.data = w
        optimizer = SGD(params, lr=1.0)
        scheduler = LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total_iters=100)
        inputs: Any = np.array(X) if batched else X
        targets: Any = np.array(y) if batched else y

        def step(k: int) -> tuple[float, float]:
            with gc_paused():
                scores = model(inputs) if batched else list(map(model, inputs))
                total = hinge_loss(scores, targets) + alpha * l2_penalty(params)
                if batched:
                    acc = float(((scores.data > 0) == (targets > 0)).mean())
                else:
                    acc = sum((yi > 0) == (s.data > 0) for yi, s in zip(y, scores)) / len(y)
                optimizer.zero_grad()
                total.backward()
                optimizer.step()
                scheduler.step()
            return total.data, acc

        return step

    return build


def pytorch(X: list[list[float]], y: list[float], weights: list[float], alpha: float) -> Step:
    """The same network in PyTorch: CPU, float64, one thread."""
    import torch

    torch.set_num_threads(1)
    torch.set_grad_enabled(True)
    sizes = [2, 16, 16, 1]
    layers: list[torch.nn.Module] = []
    it = iter(weights)
    for i in range(3):
        lin = torch.nn.Linear(sizes[i], sizes[i + 1]).double()
        with torch.no_grad():
            for j in range(sizes[i + 1]):
                for k in range(sizes[i]):
                    lin.weight[j, k] = next(it)
                lin.bias[j] = next(it)
        layers += [lin, torch.nn.ReLU()] if i < 2 else [lin]
    model = torch.nn.Sequential(*layers)
    params = list(model.parameters())
    Xt = torch.tensor(X, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64)

    def step(k: int) -> tuple[float, float]:
        scores = model(Xt).squeeze(1)
        data_loss = torch.relu(1 - yt * scores).mean()
        total = data_loss + alpha * sum((p * p).sum() for p in params)
        acc = ((yt > 0) == (scores > 0)).double().mean().item()
        for p in params:
            p.grad = None
        total.backward()
        lr = lr_at(k)
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        return total.item(), acc

    return step


def numpy_floor(X: list[list[float]], y: list[float], weights: list[float], alpha: float) -> Step:
    """A hand-vectorised numpy MLP: the practical floor for Python on this workload."""
    import numpy as np

    sizes = [2, 16, 16, 1]
    Ws, bs = [], []
    it = iter(weights)
    for i in range(3):
        W = np.empty((sizes[i + 1], sizes[i]))
        b = np.empty(sizes[i + 1])
        for j in range(sizes[i + 1]):
            for k in range(sizes[i]):
                W[j, k] = next(it)
            b[j] = next(it)
        Ws.append(W)
        bs.append(b)
    Xa = np.array(X)
    ya = np.array(y)
    n = len(ya)

    def step(k: int) -> tuple[float, float]:
        acts = [Xa]
        zs = []
        for i in range(3):
            z = acts[-1] @ Ws[i].T + bs[i]
            zs.append(z)
            acts.append(np.maximum(z, 0.0) if i < 2 else z)
        s = acts[-1][:, 0]
        margin = 1 - ya * s
        total = np.maximum(margin, 0).mean() + alpha * sum((W * W).sum() + (b * b).sum()
                                                            for W, b in zip(Ws, bs))
        acc = float(((ya > 0) == (s > 0)).mean())
        g = (-(ya * (margin > 0)) / n)[:, None]
        lr = lr_at(k)
        for i in (2, 1, 0):
            gW = g.T @ acts[i] + 2 * alpha * Ws[i]
            gb = g.sum(axis=0) + 2 * alpha * bs[i]
            if i:
                g = (g @ Ws[i]) * (zs[i - 1] > 0)
            Ws[i] -= lr * gW
            bs[i] -= lr * gb
        return float(total), acc

    return step


CONTENDERS: dict[str, Callable[[list[list[float]], list[float], list[float], float], Step]] = {
    "original": original,
    "micrograd per-sample": _ours(batched=False),
    "micrograd batched": _ours(batched=True),
    "pytorch": pytorch,
    "numpy": numpy_floor,
}


def main() -> None:
    setup = json.loads(sys.stdin.readline())
    step = CONTENDERS[setup["contender"]](setup["X"], setup["y"], setup["weights"], setup["alpha"])
    out = sys.stdout
    for line in sys.stdin:
        cmd = line.split()
        if cmd[0] == "step":
            k = int(cmd[1])
            t = time.perf_counter()
            loss, acc = step(k)
            ms = (time.perf_counter() - t) * 1e3
            out.write(json.dumps({"ms": ms, "loss": loss, "acc": acc}) + "\n")
        elif cmd[0] == "memory":
            gc.collect()
            tracemalloc.start()
            tracemalloc.reset_peak()
            step(int(cmd[1]))
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            out.write(json.dumps({"peak_bytes": peak}) + "\n")
        elif cmd[0] == "quit":
            break
        out.flush()


if __name__ == "__main__":
    main()
