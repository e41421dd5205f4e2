"""Optimizers and schedulers against torch.optim, step by step, plus their input validation."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from micrograd import MLP, Value
from micrograd.batched import BatchedMLP, flat_parameters
from micrograd.optim import (
    OPTIMIZERS,
    SCHEDULES,
    SGD,
    Adam,
    AdamW,
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    LRScheduler,
    Optimizer,
    StepLR,
    make_scheduler,
)

INIT = [0.5, -1.25, 2.0, 0.0, -0.3, 1e-3]
STEPS = 5


@pytest.fixture(scope="module")
def torch() -> Any:
    return pytest.importorskip("torch", reason="torch is needed to compare against torch.optim")


def synthetic_grads(steps: int, n: int, seed: int = 0) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-2.0, 2.0) for _ in range(n)] for _ in range(steps)]


def run_both(
    torch: Any, ours: Callable[[list[Value]], Optimizer], theirs: Callable[[list[Any]], Any]
) -> None:
    """Feed the same gradients to both optimizers and compare the parameters after each step."""
    params = [Value(x) for x in INIT]
    tparams = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in INIT]
    opt, topt = ours(params), theirs(tparams)
    for k, grads in enumerate(synthetic_grads(STEPS, len(INIT))):
        for p, tp, g in zip(params, tparams, grads, strict=True):
            p.grad = g
            tp.grad = torch.tensor(g, dtype=torch.float64)
        if k == 3:  # a learning rate changed mid-run is honoured by both
            opt.lr = opt.lr / 2
            for group in topt.param_groups:
                group["lr"] = group["lr"] / 2
        opt.step()
        topt.step()
        for i, (p, tp) in enumerate(zip(params, tparams, strict=True)):
            assert p.data == pytest.approx(tp.item(), abs=1e-9, rel=0), f"step {k}, param {i}"


SGD_CONFIGS = {
    "plain": {"lr": 0.1},
    "momentum": {"lr": 0.1, "momentum": 0.9},
    "nesterov": {"lr": 0.05, "momentum": 0.8, "nesterov": True},
    "dampening": {"lr": 0.1, "momentum": 0.9, "dampening": 0.3},
    "weight_decay": {"lr": 0.1, "weight_decay": 0.05},
    "momentum_weight_decay": {"lr": 0.1, "momentum": 0.7, "weight_decay": 0.05},
    "nesterov_weight_decay": {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
}


@pytest.mark.parametrize("config", SGD_CONFIGS.values(), ids=SGD_CONFIGS.keys())
def test_sgd_matches_torch(torch: Any, config: dict[str, Any]) -> None:
    run_both(torch, lambda ps: SGD(ps, **config), lambda ps: torch.optim.SGD(ps, **config))


ADAM_CONFIGS = {
    "defaults": {},
    "large_lr": {"lr": 0.1},
    "betas_eps": {"lr": 0.05, "betas": (0.8, 0.95), "eps": 1e-6},
    "weight_decay": {"lr": 0.05, "weight_decay": 0.1},
    "beta1_zero": {"lr": 0.05, "betas": (0.0, 0.5)},
}


@pytest.mark.parametrize("config", ADAM_CONFIGS.values(), ids=ADAM_CONFIGS.keys())
def test_adam_matches_torch(torch: Any, config: dict[str, Any]) -> None:
    run_both(torch, lambda ps: Adam(ps, **config), lambda ps: torch.optim.Adam(ps, **config))


ADAMW_CONFIGS = {
    "defaults": {},
    "no_weight_decay": {"lr": 0.05, "weight_decay": 0.0},
    "weight_decay": {"lr": 0.05, "weight_decay": 0.3, "betas": (0.85, 0.99)},
}


@pytest.mark.parametrize("config", ADAMW_CONFIGS.values(), ids=ADAMW_CONFIGS.keys())
def test_adamw_matches_torch(torch: Any, config: dict[str, Any]) -> None:
    run_both(torch, lambda ps: AdamW(ps, **config), lambda ps: torch.optim.AdamW(ps, **config))


def test_adamw_default_weight_decay_differs_from_adam() -> None:
    a, b = Value(1.0), Value(1.0)
    opt_a, opt_b = Adam([a], lr=0.1), AdamW([b], lr=0.1)
    assert opt_b.weight_decay == 1e-2
    a.grad = b.grad = 0.5
    opt_a.step()
    opt_b.step()
    assert b.data == pytest.approx(a.data - 0.1 * 1e-2 * 1.0)


def test_state_lives_in_the_optimizer() -> None:
    params = [Value(1.0), Value(2.0)]
    sgd = SGD(params, lr=0.1, momentum=0.9)
    assert sgd.momentum_buffers == [None, None]  # made by the first step, as torch's state is
    params[0].grad, params[1].grad = 1.0, -1.0
    sgd.step()
    assert sgd.momentum_buffers == [1.0, -1.0]
    adam = Adam(params)
    adam.step()
    assert adam.step_count == 1
    assert len(adam.exp_avg) == len(adam.exp_avg_sq) == 2


def test_zero_grad_and_generator_params() -> None:
    model = MLP(2, [3, 1], rng=random.Random(0))
    opt = SGD((p for p in model.parameters()), lr=0.1)
    assert len(opt.params) == len(model.parameters())
    for p in opt.params:
        p.grad = 1.0
    opt.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_each_optimizer_trains_the_seed_workshop_loop(name: str) -> None:
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    model = MLP(3, [4, 4, 1], activation="tanh", rng=random.Random(1))
    opt = OPTIMIZERS[name](model.parameters(), lr=0.05)
    losses = []
    for _ in range(40):
        loss = Value(0.0)
        for x, y in zip(xs, ys, strict=True):
            pred = model(x)
            assert isinstance(pred, Value)
            loss = loss + (pred - y) ** 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.data)
    assert losses[-1] < 0.5 * losses[0]


# -- validation ---------------------------------------------------------------------------


def test_empty_params() -> None:
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        Adam([])


@pytest.mark.parametrize("lr", [0.0, -0.1, math.inf, math.nan])
@pytest.mark.parametrize("cls", [SGD, Adam, AdamW])
def test_bad_lr(cls: type[Optimizer], lr: float) -> None:
    with pytest.raises(ValueError, match="lr must be"):
        cls([Value(1.0)], lr=lr)


def test_lr_attribute_is_validated_but_may_reach_zero() -> None:
    opt = SGD([Value(1.0)], lr=0.1)
    opt.lr = 0.0
    with pytest.raises(ValueError, match="lr must be >= 0"):
        opt.lr = -1.0


def test_nesterov_needs_momentum_and_no_dampening() -> None:
    with pytest.raises(ValueError, match="nesterov=True requires momentum > 0"):
        SGD([Value(1.0)], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="dampening = 0"):
        SGD([Value(1.0)], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)


@pytest.mark.parametrize(
    ("betas", "match"),
    [
        ((1.0, 0.999), r"betas\[0\] must be in \[0, 1\)"),
        ((0.9, 1.0), r"betas\[1\] must be in \[0, 1\)"),
        ((-0.1, 0.999), r"betas\[0\] must be in \[0, 1\)"),
        ((0.9,), "betas must be a pair"),
    ],
)
@pytest.mark.parametrize("cls", [Adam, AdamW])
def test_bad_betas(cls: type[Adam], betas: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        cls([Value(1.0)], betas=betas)


def test_other_bad_hyperparameters() -> None:
    p = [Value(1.0)]
    with pytest.raises(ValueError, match="momentum must be >= 0"):
        SGD(p, lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="weight_decay must be >= 0"):
        SGD(p, lr=0.1, weight_decay=-1e-3)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        Adam(p, eps=-1.0)
    with pytest.raises(ValueError, match="weight_decay must be >= 0"):
        AdamW(p, weight_decay=-0.1)
    with pytest.raises(TypeError, match="lr must be a real number"):
        SGD(p, lr="0.1")  # type: ignore[arg-type]


def test_bad_params() -> None:
    v = Value(1.0)
    with pytest.raises(TypeError, match="parameter 1 must be a Value"):
        SGD([v, 2.0], lr=0.1)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="parameter 1 is the same Value as parameter 0"):
        SGD([v, v], lr=0.1)
    with pytest.raises(TypeError, match="got one Value"):
        SGD(v, lr=0.1)  # type: ignore[arg-type]


def test_non_finite_gradient_leaves_every_parameter_unchanged() -> None:
    params = [Value(1.0), Value(2.0)]
    opt = Adam(params, lr=0.1)
    params[0].grad, params[1].grad = 1.0, math.nan
    with pytest.raises(ValueError, match="parameter 1 has a non-finite gradient"):
        opt.step()
    assert [p.data for p in params] == [1.0, 2.0]
    assert opt.step_count == 0


# -- schedulers ---------------------------------------------------------------------------

SCHEDULER_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "constant": ("ConstantLR", {"factor": 0.5, "total_iters": 4}),
    "linear_decay": ("LinearLR", {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 10}),
    "linear_warmup": ("LinearLR", {"start_factor": 0.25, "end_factor": 1.0, "total_iters": 8}),
    "step": ("StepLR", {"step_size": 3, "gamma": 0.5}),
    "exponential": ("ExponentialLR", {"gamma": 0.9}),
    "cosine": ("CosineAnnealingLR", {"T_max": 20}),
    "cosine_restart": ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.01}),
}
OURS: dict[str, type[LRScheduler]] = {
    "ConstantLR": ConstantLR,
    "LinearLR": LinearLR,
    "StepLR": StepLR,
    "ExponentialLR": ExponentialLR,
    "CosineAnnealingLR": CosineAnnealingLR,
}


def torch_lrs(torch: Any, chain: list[tuple[str, dict[str, Any]]], steps: int) -> list[float]:
    opt = torch.optim.SGD([torch.zeros(1, dtype=torch.float64, requires_grad=True)], lr=0.5)
    scheds = [getattr(torch.optim.lr_scheduler, name)(opt, **kw) for name, kw in chain]
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(steps):
        opt.step()
        for s in scheds:
            s.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


def our_lrs(chain: list[tuple[str, dict[str, Any]]], steps: int) -> list[float]:
    opt = SGD([Value(0.0)], lr=0.5)
    scheds = [OURS[name](opt, **kw) for name, kw in chain]
    lrs = [opt.lr]
    for _ in range(steps):
        opt.step()
        for s in scheds:
            s.step()
        assert scheds[-1].get_last_lr() == opt.lr
        lrs.append(opt.lr)
    return lrs


@pytest.mark.parametrize("case", SCHEDULER_CASES.values(), ids=SCHEDULER_CASES.keys())
def test_scheduler_matches_torch(torch: Any, case: tuple[str, dict[str, Any]]) -> None:
    assert our_lrs([case], 20) == pytest.approx(torch_lrs(torch, [case], 20), abs=1e-9, rel=0)


@pytest.mark.parametrize(
    "chain",
    [
        [SCHEDULER_CASES["step"], SCHEDULER_CASES["exponential"]],
        [SCHEDULER_CASES["linear_warmup"], SCHEDULER_CASES["cosine"]],
        [SCHEDULER_CASES["constant"], SCHEDULER_CASES["linear_decay"]],
    ],
    ids=["step+exponential", "warmup+cosine", "constant+linear"],
)
def test_chained_schedulers_match_torch(
    torch: Any, chain: list[tuple[str, dict[str, Any]]]
) -> None:
    assert our_lrs(chain, 20) == pytest.approx(torch_lrs(torch, chain, 20), abs=1e-9, rel=0)


def test_linear_defaults_reproduce_the_micrograd_demo_exactly() -> None:
    opt = SGD([Value(0.0)], lr=1.0)
    sched = LinearLR(opt)
    for k in range(100):
        assert opt.lr == 1.0 - 0.9 * k / 100
        sched.step()


def test_scheduler_overrides_a_hand_set_lr_at_its_next_step() -> None:
    opt = SGD([Value(0.0)], lr=1.0)
    sched = StepLR(opt, step_size=10)
    opt.lr = 0.123
    sched.step()
    assert opt.lr == 1.0


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_make_scheduler_builds_each_schedule(name: str) -> None:
    opt = SGD([Value(0.0)], lr=2.0)
    sched = make_scheduler(name, opt, 30)
    assert isinstance(sched, LRScheduler)
    assert opt.lr == 2.0
    for _ in range(30):
        sched.step()
    final = {
        "constant": 2.0,
        "linear": 0.2,
        "step": 2.0 * 0.1**3,
        "exponential": 0.02,
        "cosine": 0.0,
    }
    assert opt.lr == pytest.approx(final[name], abs=1e-12)


def test_make_scheduler_defaults() -> None:
    opt = SGD([Value(0.0)], lr=1.0)
    step = make_scheduler("step", opt, 2)
    assert isinstance(step, StepLR)
    assert (step.step_size, step.gamma) == (1, 0.1)
    cosine = make_scheduler("cosine", SGD([Value(0.0)], lr=1.0), 12)
    assert isinstance(cosine, CosineAnnealingLR)
    assert (cosine.T_max, cosine.eta_min) == (12, 0.0)


def test_make_scheduler_rejects_unknown_names_and_bad_lengths() -> None:
    opt = SGD([Value(0.0)], lr=1.0)
    with pytest.raises(ValueError, match="constant, linear, step, exponential, cosine"):
        make_scheduler("warmup", opt, 10)
    with pytest.raises(ValueError, match="total_steps must be >= 1"):
        make_scheduler("linear", opt, 0)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda o: LinearLR(o, start_factor=0.0), r"start_factor must be in \(0, 1\]"),
        (lambda o: LinearLR(o, end_factor=1.5), r"end_factor must be in \[0, 1\]"),
        (lambda o: LinearLR(o, total_iters=0), "total_iters must be >= 1"),
        (lambda o: ConstantLR(o, factor=2.0), r"factor must be in \[0, 1\]"),
        (lambda o: StepLR(o, step_size=0), "step_size must be >= 1"),
        (lambda o: StepLR(o, step_size=2, gamma=0.0), "gamma must be > 0"),
        (lambda o: ExponentialLR(o, gamma=-0.5), "gamma must be > 0"),
        (lambda o: CosineAnnealingLR(o, T_max=0), "T_max must be >= 1"),
        (lambda o: CosineAnnealingLR(o, T_max=5, eta_min=-1.0), "eta_min must be >= 0"),
    ],
)
def test_scheduler_validation(build: Callable[[Optimizer], LRScheduler], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build(SGD([Value(0.0)], lr=1.0))


def test_scheduler_needs_a_micrograd_optimizer() -> None:
    with pytest.raises(TypeError, match="needs a micrograd Optimizer"):
        StepLR(object(), step_size=1)  # type: ignore[arg-type]


def test_a_step_after_a_hand_written_update_starts_from_the_new_data() -> None:
    model = BatchedMLP(2, [3, 1])
    params = model.parameters()
    optimizer = SGD(params, lr=0.5)
    for p in params:
        p.grad = np.ones_like(p.data)
    optimizer.step()
    params[0].data = np.full((3, 2), 5.0)  # by hand, between two steps
    optimizer.step()
    assert params[0].data.tolist() == [[4.5, 4.5]] * 3


def test_array_and_scalar_parameters_take_the_same_steps() -> None:
    """One update rule for both: a BatchedMLP and its MLP stay equal under Adam and SGD."""
    for make in (lambda ps: Adam(ps, lr=0.1, weight_decay=0.01),
                 lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True)):  # fmt: skip
        mlp = MLP(2, [3, 1], rng=random.Random(1))
        bm = BatchedMLP.from_mlp(mlp)
        opt_a, opt_b = make(mlp.parameters()), make(bm.parameters())
        for step in range(3):
            flat = [math.sin(i + step) for i in range(len(mlp.parameters()))]
            for p, g in zip(mlp.parameters(), flat, strict=True):
                p.grad = g
            offset = 0
            for layer in bm.layers:
                n = layer.weight.data.size + layer.bias.data.size
                block = np.array(flat[offset : offset + n]).reshape(layer.nout, layer.nin + 1)
                layer.weight.grad, layer.bias.grad = block[:, :-1].copy(), block[:, -1].copy()
                offset += n
            opt_a.step()
            opt_b.step()
        assert flat_parameters(bm) == flat_parameters(mlp)


def test_an_array_parameters_bad_gradient_is_named() -> None:
    p = Value(np.zeros((2, 2)))
    opt = SGD([p], lr=0.1)
    p.grad = np.zeros(3)
    with pytest.raises(TypeError, match=r"parameter 0 .*shape \(3,\).*\(2, 2\)"):
        opt.step()
    p.grad = np.array([[1.0, np.inf], [0.0, 0.0]])
    with pytest.raises(ValueError, match="parameter 0 has a non-finite gradient"):
        opt.step()
    assert p.data.tolist() == [[0.0, 0.0], [0.0, 0.0]]
