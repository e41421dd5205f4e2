"""Optimizers and learning-rate schedules, with the names and update rules of `torch.optim`.

An optimizer holds a list of parameters (`Value`s holding a float, or an array in batched
mode) and moves them against their gradients on each `step()`, one parameter at a time, in
arithmetic that is the same for a float and an array. The per-parameter state (momentum
buffers, moment estimates) lives in lists inside the optimizer, indexed by the parameter's
position, so parameters stay plain Values.
`SGD`, `Adam` and `AdamW` apply exactly the formulas of their
`torch.optim` namesakes (weight decay, dampening, Nesterov, bias correction, and a momentum buffer
that starts as the first gradient).

A scheduler sets `optimizer.lr` from a closed form in the number of times its `step()` has been
called (once per epoch or per batch, after `optimizer.step()`), as `torch.optim.lr_scheduler`
does. Schedulers chain: several attached to one optimizer multiply their factors of the lr the
optimizer had when the first was attached, which is what torch's chained schedulers compute for
every multiplicative schedule (all of them here except `CosineAnnealingLR` with `eta_min > 0`).
A scheduler owns the lr: a value written to `optimizer.lr` by hand lasts until its next `step()`.

`OPTIMIZERS` and `SCHEDULES` name them for configuration files and the command line;
`make_scheduler(name, optimizer, total_steps)` builds a schedule with defaults sized to a run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from numbers import Real

from .engine import Value
from .numeric import Array, is_array, numpy

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "SGD",
    "Adam",
    "AdamW",
    "ConstantLR",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LinearLR",
    "Optimizer",
    "StepLR",
    "make_scheduler",
]


def _number(name: str, value: object) -> float:
    if value.__class__ is float and math.isfinite(value):
        return value
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}: {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x!r}")
    return x


def _non_negative(name: str, value: object) -> float:
    x = _number(name, value)
    if x < 0.0:
        raise ValueError(f"{name} must be >= 0, got {x!r}")
    return x


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}: {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value!r}")
    return value


def _unit_interval(name: str, value: object, *, low_open: bool, high_open: bool) -> float:
    x = _number(name, value)
    too_low = x <= 0.0 if low_open else x < 0.0
    too_high = x >= 1.0 if high_open else x > 1.0
    if too_low or too_high:
        interval = f"{'(' if low_open else '['}0, 1{')' if high_open else ']'}"
        raise ValueError(f"{name} must be in {interval}, got {x!r}")
    return x


class Optimizer:
    """Base class: a list of parameters, a learning rate `lr`, `step()` and `zero_grad()`.

    A parameter is a `Value` holding a float (a per-sample `MLP`) or an array (batched mode);
    the update is written once, in arithmetic that works on both, and kept per parameter as in
    `torch.optim`.
    """

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        if isinstance(params, Value):
            raise TypeError(
                "params must be an iterable of Values (e.g. model.parameters()), got one Value"
            )
        try:
            self.params: list[Value] = list(params)
        except TypeError:
            raise TypeError(
                f"params must be an iterable of Values, got {type(params).__name__}"
            ) from None
        if not self.params:
            raise ValueError("optimizer got an empty parameter list: nothing to optimize")
        seen: dict[int, int] = {}
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"parameter {i} must be a Value, got {type(p).__name__}: {p!r}")
            if id(p) in seen:
                raise ValueError(f"parameter {i} is the same Value as parameter {seen[id(p)]}")
            seen[id(p)] = i
        if _number("lr", lr) <= 0.0:
            raise ValueError(f"lr must be > 0, got {lr!r}")
        self.lr = lr
        self._schedulers: list[LRScheduler] = []

    @property
    def lr(self) -> float:
        """The learning rate of the next `step()`. Schedules may take it down to 0."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _non_negative("lr", value)

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0 (they accumulate across `backward()` calls)."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter from its current gradient. Every gradient is checked first,
        so a bad one leaves the model as it was."""
        grads = [_gradient(i, p) for i, p in enumerate(self.params)]
        self._begin_step()
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            p.data = self._update(i, p.data, g)

    def _begin_step(self) -> None:
        """What changes once per step, before the parameters are updated (Adam's step count)."""

    def _update(self, i: int, x: Array, g: Array) -> Array:
        """Parameter `i` after one step, from its data `x` and gradient `g` (floats, or arrays
        of the same shape)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.params)} parameters, lr={self.lr!r})"


def _gradient(i: int, p: Value) -> Array:
    """Parameter i's gradient, checked: a finite float, or a finite array of the parameter's
    shape (a number for an array parameter is that number everywhere)."""
    g, x = p.grad, p.data
    number = isinstance(g, Real) and not isinstance(g, bool)
    if is_array(x):
        np = numpy()
        g = np.full(x.shape, float(g)) if number else g
        if not is_array(g) or g.shape != x.shape or g.dtype.kind != "f":
            raise TypeError(
                f"parameter {i} has a gradient of {_kind(g)}, expected an array of shape "
                f"{x.shape} (its data's)"
            )
        if not np.isfinite(g).all():
            raise ValueError(f"parameter {i} has a non-finite gradient (in an array)")
        return g
    if not number:
        raise TypeError(f"parameter {i} has a gradient of {_kind(g)}, expected a float")
    g = float(g)
    if not math.isfinite(g):
        raise ValueError(f"parameter {i} has a non-finite gradient {g!r}")
    return g


def _kind(g: object) -> str:
    return f"shape {g.shape}" if is_array(g) else f"type {type(g).__name__}"  # type: ignore[attr-defined]


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, Nesterov and L2 decay.

    As in `torch.optim.SGD`, for each parameter p with gradient g:
    g += weight_decay * p; with momentum, buf = g on the first step and
    buf = momentum * buf + (1 - dampening) * g after, then g = g + momentum * buf (Nesterov) or
    g = buf; finally p -= lr * g.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _non_negative("momentum", momentum)
        self.dampening = _number("dampening", dampening)
        self.weight_decay = _non_negative("weight_decay", weight_decay)
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0.0 or self.dampening != 0.0):
            raise ValueError(
                "nesterov=True requires momentum > 0 and dampening = 0, got "
                f"momentum={self.momentum!r}, dampening={self.dampening!r}"
            )
        # one per parameter, from the first step (None before)
        self.momentum_buffers: list[Array | None] = [None] * len(self.params)

    def _update(self, i: int, x: Array, g: Array) -> Array:
        momentum = self.momentum
        if self.weight_decay != 0.0:
            g = g + self.weight_decay * x
        if momentum != 0.0:
            buf = self.momentum_buffers[i]
            buf = g if buf is None else buf * momentum + (1.0 - self.dampening) * g
            self.momentum_buffers[i] = buf
            g = g + momentum * buf if self.nesterov else buf
        return x - self.lr * g


class Adam(Optimizer):
    """Adam with bias-corrected moment estimates and optional L2 weight decay.

    As in `torch.optim.Adam`, at step t for each parameter p with gradient g:
    g += weight_decay * p; m = beta1 * m + (1 - beta1) * g; v = beta2 * v + (1 - beta2) * g**2;
    p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps).
    `weight_decay=None` (the default) means the class's `default_weight_decay`: 0 here, 1e-2 for
    AdamW, as in torch.
    """

    # AdamW shrinks the weights directly instead of adding the decay to the gradient.
    _decoupled_weight_decay = False
    default_weight_decay = 0.0

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float | None = None,
    ) -> None:
        super().__init__(params, lr)
        if weight_decay is None:
            weight_decay = self.default_weight_decay
        if isinstance(betas, str) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (
            _unit_interval("betas[0]", betas[0], low_open=False, high_open=True),
            _unit_interval("betas[1]", betas[1], low_open=False, high_open=True),
        )
        self.eps = _non_negative("eps", eps)
        self.weight_decay = _non_negative("weight_decay", weight_decay)
        self.step_count = 0
        self.exp_avg: list[Array] = [0.0] * len(self.params)
        self.exp_avg_sq: list[Array] = [0.0] * len(self.params)

    def _begin_step(self) -> None:
        self.step_count += 1
        beta1, beta2 = self.betas
        self._step_size = self.lr / (1.0 - beta1**self.step_count)
        self._bias_correction2_sqrt = math.sqrt(1.0 - beta2**self.step_count)

    def _update(self, i: int, x: Array, g: Array) -> Array:
        lr, wd, eps = self.lr, self.weight_decay, self.eps
        beta1, beta2 = self.betas
        if wd != 0.0:
            if self._decoupled_weight_decay:
                x = x * (1.0 - lr * wd)
            else:
                g = g + wd * x
        m = self.exp_avg[i] = beta1 * self.exp_avg[i] + (1.0 - beta1) * g
        v = self.exp_avg_sq[i] = beta2 * self.exp_avg_sq[i] + (1.0 - beta2) * g * g
        denom = math.sqrt(v) if v.__class__ is float else numpy().sqrt(v)
        denom = denom / self._bias_correction2_sqrt + eps
        return x - self._step_size * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay, as `torch.optim.AdamW`.

    Each step first shrinks every parameter, p *= 1 - lr * weight_decay, then applies the Adam
    update to the undecayed gradient.
    """

    _decoupled_weight_decay = True
    default_weight_decay = 1e-2


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam, "adamw": AdamW}


# -- learning-rate schedules --------------------------------------------------------------


class LRScheduler:
    """Base class: sets `optimizer.lr = base_lr * _factor(last_epoch)` on creation and each step.

    `last_epoch` counts the calls to `step()`; `base_lr` is the optimizer's lr when the first
    scheduler was attached to it. Subclasses give the closed form `_factor(epoch)`.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"a scheduler needs a micrograd Optimizer, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        chain = optimizer._schedulers
        self.base_lr: float = chain[0].base_lr if chain else optimizer.lr
        if self.base_lr <= 0.0:
            raise ValueError(f"a scheduler needs an optimizer with lr > 0, got {self.base_lr!r}")
        chain.append(self)
        self.last_epoch = 0
        self._last_lr = self._apply()

    def _factor(self, epoch: int) -> float:
        """The multiple of `base_lr` this schedule gives after `epoch` calls to `step()`."""
        raise NotImplementedError

    def lr_at(self, epoch: int) -> float:
        """The lr this schedule alone gives after `epoch` calls to `step()`."""
        return self.base_lr * self._factor(epoch)

    def step(self) -> None:
        """Advance one epoch (or batch) and set the optimizer's lr for the next one."""
        self.last_epoch += 1
        self._last_lr = self._apply()

    def get_last_lr(self) -> float:
        """The lr this scheduler set last."""
        return self._last_lr

    def _apply(self) -> float:
        chain = self.optimizer._schedulers
        if len(chain) == 1:
            lr = self.lr_at(self.last_epoch)
        else:
            lr = self.base_lr * math.prod(s._factor(s.last_epoch) for s in chain)
        self.optimizer.lr = lr
        return lr

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self._last_lr!r})"


class ConstantLR(LRScheduler):
    """lr = base_lr * factor for the first `total_iters` steps, then base_lr (torch's ConstantLR).

    With `factor=1.0` the lr never changes: that is the "constant" schedule of `SCHEDULES`.
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5) -> None:
        self.factor = _unit_interval("factor", factor, low_open=False, high_open=False)
        self.total_iters = _positive_int("total_iters", total_iters)
        super().__init__(optimizer)

    def _factor(self, epoch: int) -> float:
        return self.factor if epoch < self.total_iters else 1.0


class LinearLR(LRScheduler):
    """lr goes linearly from base_lr * start_factor to base_lr * end_factor in `total_iters` steps.

    lr = base_lr * (start_factor + (end_factor - start_factor) * min(t, total_iters) / total_iters)

    The defaults reproduce the original micrograd demo's lr = 1.0 - 0.9 * k / 100 for base lr 1.0.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0,
        end_factor: float = 0.1,
        total_iters: int = 100,
    ) -> None:
        self.start_factor = _unit_interval(
            "start_factor", start_factor, low_open=True, high_open=False
        )
        self.end_factor = _unit_interval("end_factor", end_factor, low_open=False, high_open=False)
        self.total_iters = _positive_int("total_iters", total_iters)
        super().__init__(optimizer)

    def _factor(self, epoch: int) -> float:
        done = min(epoch, self.total_iters)
        return self.start_factor + (self.end_factor - self.start_factor) * done / self.total_iters


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (t // step_size): decays by `gamma` every `step_size` steps."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _positive_int("step_size", step_size)
        self.gamma = _number("gamma", gamma)
        if self.gamma <= 0.0:
            raise ValueError(f"gamma must be > 0, got {self.gamma!r}")
        super().__init__(optimizer)

    def _factor(self, epoch: int) -> float:
        return float(self.gamma ** (epoch // self.step_size))


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** t: decays by `gamma` every step."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = _number("gamma", gamma)
        if self.gamma <= 0.0:
            raise ValueError(f"gamma must be > 0, got {self.gamma!r}")
        super().__init__(optimizer)

    def _factor(self, epoch: int) -> float:
        return float(self.gamma**epoch)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2.

    It falls from base_lr to eta_min over `T_max` steps and, past them, rises again along the
    same cosine, as torch's does.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        self.T_max = _positive_int("T_max", T_max)
        self.eta_min = _non_negative("eta_min", eta_min)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        cosine = (1.0 + math.cos(math.pi * epoch / self.T_max)) / 2.0
        return self.eta_min + (self.base_lr - self.eta_min) * cosine

    def _factor(self, epoch: int) -> float:
        return self.lr_at(epoch) / self.base_lr


def _constant(optimizer: Optimizer, total_steps: int) -> LRScheduler:
    """The lr never changes."""
    return ConstantLR(optimizer, factor=1.0, total_iters=total_steps)


def _linear(optimizer: Optimizer, total_steps: int) -> LRScheduler:
    """Linear decay from lr to lr / 10 over the run."""
    return LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total_iters=total_steps)


def _step(optimizer: Optimizer, total_steps: int) -> LRScheduler:
    """lr divided by 10 after each third of the run."""
    return StepLR(optimizer, step_size=max(1, total_steps // 3), gamma=0.1)


def _exponential(optimizer: Optimizer, total_steps: int) -> LRScheduler:
    """Exponential decay reaching lr / 100 after `total_steps` steps."""
    return ExponentialLR(optimizer, gamma=0.01 ** (1.0 / total_steps))


def _cosine(optimizer: Optimizer, total_steps: int) -> LRScheduler:
    """Cosine annealing from lr down to 0 over the run."""
    return CosineAnnealingLR(optimizer, T_max=total_steps, eta_min=0.0)


# name -> factory(optimizer, total_steps); each factory's docstring says what it builds.
SCHEDULES: dict[str, Callable[[Optimizer, int], LRScheduler]] = {
    "constant": _constant,
    "linear": _linear,
    "step": _step,
    "exponential": _exponential,
    "cosine": _cosine,
}


def make_scheduler(name: str, optimizer: Optimizer, total_steps: int) -> LRScheduler:
    """A schedule named in `SCHEDULES`, sized for `total_steps` calls to `step()`.

    - "constant": the lr never changes (`ConstantLR` with factor 1).
    - "linear": `LinearLR` from lr to lr / 10 over `total_steps`.
    - "step": `StepLR` dividing by 10 every `max(1, total_steps // 3)` steps.
    - "exponential": `ExponentialLR` with gamma = 0.01 ** (1 / total_steps), reaching lr / 100.
    - "cosine": `CosineAnnealingLR` with T_max = total_steps, down to 0.
    """
    factory = SCHEDULES.get(name)
    if factory is None:
        raise ValueError(
            f"unknown learning-rate schedule {name!r}: expected one of {', '.join(SCHEDULES)}"
        )
    return factory(optimizer, _positive_int("total_steps", total_steps))
