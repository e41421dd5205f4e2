"""Contender: PyTorch on the CPU, one thread, float64 or float32.

`torch.nn.Sequential` of `Linear` layers and the loss from `torch.nn.functional`, as a PyTorch
user writes it. Two update styles: `torch.optim` (SGD with `LinearLR`, or Adam, with
`zero_grad()`), or a lean hand-written one (`p.grad = None`, then `p -= lr * p.grad` under
`no_grad`, or Adam's moments updated in place), which skips the optimizer's bookkeeping.
"""

from __future__ import annotations

from typing import Any

from _spec import layer_weights, learning_rate

Step = Any


def build(spec: dict[str, Any], dtype: str, lean: bool) -> Step:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    torch.set_grad_enabled(True)
    dt = getattr(torch, dtype)
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[spec["activation"]]
    layers: list[torch.nn.Module] = []
    for i, (W, b) in enumerate(layer_weights(spec)):
        lin = torch.nn.Linear(len(W[0]), len(W), dtype=dt)
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(W, dtype=torch.float64))
            lin.bias.copy_(torch.tensor(b, dtype=torch.float64))
        layers.append(lin)
        if i < len(spec["sizes"]) - 2:
            layers.append(act())
    model = torch.nn.Sequential(*layers)
    params = list(model.parameters())
    loss_name, alpha = spec["loss"], spec["alpha"]
    X = torch.tensor(spec["X"], dtype=torch.float64).to(dt)
    y = torch.tensor(spec["y"], dtype=torch.long if loss_name == "cross_entropy" else dt)
    batches = [torch.tensor(b) for b in spec["batches"]] if spec["batches"] else None

    def loss_of(xb: Any, yb: Any) -> Any:
        out = model(xb)
        if loss_name == "cross_entropy":
            loss = F.cross_entropy(out, yb)
        elif loss_name == "mse":
            loss = F.mse_loss(out.squeeze(1), yb)
        else:
            loss = torch.relu(1 - yb * out.squeeze(1)).mean()
        if alpha:
            loss = loss + alpha * sum((p * p).sum() for p in model.parameters())
        return loss

    def rows(k: int) -> tuple[Any, Any]:
        if batches is None:
            return X, y
        idx = batches[k % len(batches)]
        return X[idx], y[idx]

    adam = spec["optimizer"] == "adam"
    if not lean:
        if adam:
            optimizer: Any = torch.optim.Adam(params, lr=spec["lr"])
        else:
            optimizer = torch.optim.SGD(params, lr=spec["lr"])
        schedule = None
        if spec["schedule"] == "linear":
            schedule = torch.optim.lr_scheduler.LinearLR(
                optimizer, start_factor=1.0, end_factor=0.1, total_iters=spec["total_iters"]
            )

        def optim_step(k: int) -> float:
            loss = loss_of(*rows(k))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            return float(loss.item())

        return optim_step

    # Adam by hand, in place, as torch.optim.Adam's single-tensor path computes it.
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8

    def lean_step(k: int) -> float:
        loss = loss_of(*rows(k))
        for p in params:
            p.grad = None
        loss.backward()
        lr = learning_rate(spec, k)
        with torch.no_grad():
            if adam:
                t = k + 1
                step_size = lr / (1 - beta1**t)
                bias2 = (1 - beta2**t) ** 0.5
                for p, mi, vi in zip(params, m, v, strict=True):
                    mi.lerp_(p.grad, 1 - beta1)
                    vi.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                    p.addcdiv_(mi, (vi.sqrt() / bias2).add_(eps), value=-step_size)
            else:
                for p in params:
                    p -= lr * p.grad
        return float(loss.item())

    return lean_step
