"""The checks of step 5: parameters, a linear output layer, zero_grad and the training loop.

The learner's `train` is compared step for step with the same loop run by our engine from the
same starting weights; when it differs, the checker runs the usual wrong loops too (no
zero_grad, a step uphill, a summed loss, no step) to name the mistake. A learner who follows
the seed workshop has no `train` (its step 5 is a loop in the test): their `MLP` is then
trained by the workshop's own loop, which checks `parameters()` and `zero_grad()` at work. A
`train` may stop early once the loss is below a tolerance.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable
from typing import Any

from ..nn import MLP as OurMLP
from .base import Failed, check
from .nets import (
    SIZES,
    XS,
    YS,
    Weights,
    cls,
    flat,
    make,
    net_weights,
    outputs,
    read_layer,
    read_layers,
    read_neuron,
    scalar,
)
from .probe import Probe, close, fmt

__all__: list[str] = []


def _expect_parameters(got: object, neurons: list[Any], what: str) -> None:
    want = [v for n in neurons for v in (*n.w, n.b)]
    if not isinstance(got, list):
        raise Failed(f"{what} returned {type(got).__name__}", "a list")
    ids = [id(v) for v in got]
    seen = set(ids)
    if len(ids) == len(want) == len(seen) and seen == {id(v) for v in want}:
        return
    lost_b = sum(1 for n in neurons if id(n.b) not in seen)
    lost_w = sum(1 for n in neurons for v in n.w if id(v) not in seen)
    parts = [f"{what} gave {len(got)} Values"]
    if lost_b:
        parts.append(f"without {lost_b} of the {len(neurons)} biases")
    if lost_w:
        parts.append(f"without {lost_w} of the weights")
    if len(ids) != len(seen):
        parts.append(f"{len(ids) - len(seen)} listed twice")
    expected = f"the {len(want)} weights and biases, each once"
    if lost_b and not lost_w:
        raise Failed(
            ", ".join(parts),
            expected,
            why="the bias is learned like the weights: a bias left out of parameters() is never "
            "updated or zeroed",
            hint="Neuron.parameters() returns self.w + [self.b]",
        )
    raise Failed(", ".join(parts), expected)


@check(
    5,
    "parameters() of a Neuron, a Layer and an MLP",
    why="parameters() lists every number the network learns, weights and biases alike: one left "
    "out is never updated or zeroed",
    hint="Neuron: self.w + [self.b]; Layer: [p for n in self.neurons for p in n.parameters()]; "
    "MLP: [p for layer in self.layers for p in layer.parameters()]",
)
def parameters(p: Probe) -> None:
    n = make(p, "Neuron(3)")
    read_neuron(p, n, 3)
    p.tried += "; n.parameters()"
    _expect_parameters(n.parameters(), [n], "Neuron(3).parameters()")
    layer = make(p, "Layer(3, 4)")
    neurons = read_layer(p, layer, 3, 4, "n")
    p.tried += "; n.parameters()"
    _expect_parameters(layer.parameters(), neurons, "Layer(3, 4).parameters()")
    net = make(p, "MLP(3, [4, 4, 1])")
    neurons = flat(read_layers(p, net, SIZES))
    p.tried += "; n.parameters()"
    _expect_parameters(net.parameters(), neurons, "MLP(3, [4, 4, 1]).parameters()")


@check(
    5,
    "the output layer is linear",
    why="the targets include -1.0, but ReLU never gives a negative number: the last layer has "
    "no activation (it is linear), so the network can output any number",
    hint="give Neuron and Layer a nonlin flag and build the last layer with nonlin=False",
)
def linear_output(p: Probe) -> None:
    net = _low_output_bias(p)
    setup = "random.seed(0); n = MLP(3, [4, 4, 1]); n.layers[2].neurons[0].b.data = -10.0"
    for got, want in outputs(p, net, XS, setup):
        if not close(got, want):
            raise Failed(f"{fmt(got)}", f"{fmt(want)}, negative like the output's bias")


@check(
    5,
    "zero_grad() resets every parameter",
    why="gradients accumulate (+=) across backward() calls: zero_grad() must reset every "
    "parameter, or the next step follows old gradients too",
    hint="for p in self.parameters(): p.grad = 0.0",
)
def zero_grad(p: Probe) -> None:
    net = make(p, "MLP(3, [4, 4, 1])")
    neurons = flat(read_layers(p, net, SIZES))
    p.tried = "random.seed(0); n = MLP(3, [4, 4, 1]); every parameter's grad = 1.5; n.zero_grad()"
    for n in neurons:
        for v in (*n.w, n.b):
            v.grad = 1.5
    net.zero_grad()
    kept_b = sum(1 for n in neurons if n.b.grad != 0)
    kept_w = sum(1 for n in neurons for v in n.w if v.grad != 0)
    if kept_b or kept_w:
        parts = [f"{kept_w} of the 32 weights"] if kept_w else []
        parts += [f"{kept_b} of the 9 biases"] if kept_b else []
        raise Failed(f"{' and '.join(parts)} still have grad 1.5", "every grad 0.0")


def _low_output_bias(p: Probe, seed: int = 0) -> Any:
    """Their MLP(3, [4, 4, 1]) built after random.seed(seed), its output neuron's bias set to
    -10.0, which pulls a linear output down where a ReLU output stops at 0."""
    net = make(p, "MLP(3, [4, 4, 1])", seed)
    read_layers(p, net, SIZES)[2][0].b.data = -10.0
    return net


_LOSS = "loss = sum((n(x) - y) ** 2 for x, y in zip(xs, ys)) / len(ys)"


def _loss(preds: list[Any], mean: bool = True) -> Any:
    total = sum((yp - y) ** 2 for yp, y in zip(preds, YS, strict=True))
    return total / len(YS) if mean else total


def _load(weights: Weights, relu_out: bool) -> OurMLP:
    """Our MLP with these weights; its output layer as the learner's is (the linear-output
    check judges that), so each check here looks at its own idea only."""
    net = OurMLP(3, SIZES[1:], output_activation="relu" if relu_out else None, rng=random.Random(0))
    neurons = [n for layer in net.layers for n in layer.neurons]
    for n, (w, b) in zip(neurons, weights, strict=True):
        for v, x in zip(n.w, w, strict=True):
            v.data = x
        n.b.data = b
    return net


def _relu_output(p: Probe) -> bool:
    """Does the learner's MLP put ReLU on its output? Asked of a spare network, whose output
    bias is set so low that ReLU would give exactly 0."""
    spare = _low_output_bias(p, seed=1)
    return scalar(p, spare(XS[0]), "n(x)") == 0.0


def _name(k: int) -> str:
    """The k-th parameter's place, in parameters() order."""
    at = 0
    for i, width in enumerate(SIZES[1:]):
        for j in range(width):
            nin = SIZES[i]
            if k < at + nin + 1:
                part = f"w[{k - at}]" if k - at < nin else "b"
                return f"n.layers[{i}].neurons[{j}].{part}"
            at += nin + 1
    raise IndexError(k)


@check(
    5,
    "gradients through the whole network",
    why="the network and its loss are one big expression: backward() gives every parameter "
    "d loss / d parameter, as our engine does with the same weights",
    hint="if the earlier checks pass, compare your loss with the one in WORKSHOP.md",
)
def network_grads(p: Probe) -> None:
    relu_out = _relu_output(p)
    net = make(p, "MLP(3, [4, 4, 1])")
    weights = net_weights(p, net)
    p.tried = f"random.seed(0); n = MLP(3, [4, 4, 1]); {_LOSS}; loss.backward()"
    loss = p.expect_value(_loss([net(x) for x in XS]), "loss")
    loss.backward()
    ours = _load(weights, relu_out)
    want = _loss([ours(x) for x in XS])
    want.backward()
    got = p.number(loss.data, "loss.data")
    if not close(got, want.data):
        raise Failed(f"loss.data == {fmt(got)}", f"{fmt(want.data)}")
    theirs = [v for n in flat(read_layers(p, net, SIZES)) for v in (*n.w, n.b)]
    for k, (v, w) in enumerate(zip(theirs, ours.parameters(), strict=True)):
        g = p.number(v.grad, "grad")
        if not close(g, w.grad):
            raise Failed(f"{_name(k)}.grad == {fmt(g)}", f"{fmt(w.grad)} (our engine)")


Variant = dict[str, Any]


def _reference(
    weights: Weights, epochs: int, lr: float, relu_out: bool, **variant: Any
) -> tuple[list[float], list[float]]:
    """Our engine's run of the loop from these weights: its losses and final parameters."""
    net = _load(weights, relu_out)
    losses = []
    for _ in range(epochs):
        loss = _loss([net(x) for x in XS], variant.get("mean", True))
        if variant.get("zero", True):
            net.zero_grad()
        loss.backward()
        if variant.get("step", True):
            for q in net.parameters():
                q.data += variant.get("sign", -1.0) * lr * q.grad
        losses.append(loss.data)
    return losses, [q.data for q in net.parameters()]


_VARIANTS: list[tuple[Variant, str, str]] = [
    (
        {"zero": False},
        "your losses match a loop without zero_grad(): gradients accumulate (+=) across "
        "backward() calls, so each step followed the sum of every earlier gradient",
        "call model.zero_grad() before loss.backward() in every epoch",
    ),
    (
        {"sign": 1.0},
        "your losses match a loop that steps uphill: the gradient points toward a larger loss, so "
        "gradient descent moves each parameter against it, downhill",
        "p.data -= lr * p.grad",
    ),
    (
        {"mean": False},
        "your losses match the sum of the squared errors: the loss is their mean, four times "
        "smaller, and so are its gradients and steps",
        "divide the sum by len(ys)",
    ),
    (
        {"step": False},
        "your losses match a loop that never changes the parameters: each epoch moves every "
        "parameter a small step against its gradient",
        "for p in model.parameters(): p.data -= lr * p.grad",
    ),
]


def _numbers(p: Probe, losses: object, epochs: int, train: Any) -> list[float]:
    """The losses `train` returned: one number per epoch it ran (it may stop early)."""
    if not isinstance(losses, list) or not 1 <= len(losses) <= epochs:
        size = f"a list of {len(losses)} losses" if isinstance(losses, list) else fmt(losses)
        defaults = [*(getattr(train, "__defaults__", None) or ())]
        defaults += (getattr(train, "__kwdefaults__", None) or {}).values()
        if (
            isinstance(losses, list)
            and len(losses) > epochs
            and any(isinstance(d, list) for d in defaults)
        ):
            raise Failed(
                f"train returned {size} for {epochs} epochs",
                f"at most {epochs} losses, one per epoch",
                why="a mutable default argument: `losses=[]` in the def line makes one list, "
                "once, when Python reads the def; every call appends to that same list, so it "
                "keeps the losses of every earlier call",
                hint="give the parameter no list default (or None) and start with `losses = []` "
                "inside train",
            )
        raise Failed(
            f"train returned {size}",
            f"a list of losses, one per epoch, at most {epochs}",
            why="train() reports how the loss went, so you can see it fall",
            hint="start with `losses = []` inside train, append loss.data every epoch, and return "
            "the list",
        )
    if any(isinstance(x, p.Value) for x in losses):
        raise Failed(
            "a list of Values",
            "a list of numbers",
            why="each loss Value is the root of a whole graph; keeping 40 of them keeps 40 graphs "
            "alive, and a list of Values is not a list of numbers to print or plot",
            hint="append loss.data, the number, not loss",
        )
    return [p.number(x, "each loss") for x in losses]


def _workshop_loop(model: Any, xs: Any, ys: Any, epochs: int = 40, lr: float = 0.05) -> list[Any]:
    """The seed workshop's step 5, for a learner with no train(): the loop its test runs."""
    losses = []
    for _ in range(epochs):
        loss = _loss([model(x) for x in xs])
        model.zero_grad()
        loss.backward()
        for q in model.parameters():
            q.data += -lr * q.grad
        losses.append(loss.data)
    return losses


_NO_TRAIN = (
    "mlp.py has no train(), as in the seed workshop: your MLP was trained with the workshop's "
    "own loop (MSE, zero_grad(), backward(), p.data += -lr * p.grad), which checks "
    "parameters() and zero_grad() at work"
)


def _trainer(p: Probe) -> Callable[..., Any]:
    """Their train, or the workshop's loop (with a note) when mlp.py has none."""
    train = getattr(p.mlp, "train", None)
    if train is None:
        p.note = _NO_TRAIN
        return _workshop_loop
    found: Callable[..., Any] = cls(p, "train")
    return found


def _zero_after_backward(train: Any) -> bool:
    """Does train's code call zero_grad() after backward()?"""
    try:
        code = inspect.getsource(train)
    except (OSError, TypeError):
        return False
    zero, back = code.rfind("zero_grad("), code.find(".backward(")
    return back != -1 and zero > back


def _agree(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))


@check(
    5,
    "train() takes the steps of gradient descent",
    why="each epoch: predict every sample, loss = mean of the squared errors, zero_grad, "
    "backward, then p.data -= lr * p.grad for every parameter",
    hint="follow WORKSHOP.md's loop line by line: it fixes the order of these five things",
)
def train_steps(p: Probe) -> None:
    train = _trainer(p)
    relu_out = _relu_output(p)
    net = make(p, "MLP(3, [4, 4, 1])")
    weights = net_weights(p, net)
    p.tried = "random.seed(0); n = MLP(3, [4, 4, 1]); losses = train(n, xs, ys, epochs=3, lr=0.05)"
    got = _numbers(p, train(net, XS, YS, epochs=3, lr=0.05), 3, train)
    after = [v for w, b in net_weights(p, net) for v in (*w, b)]
    want = _reference(weights, 3, 0.05, relu_out)[0]
    # stopped early, after len(got) losses: with or without the last step
    steps = {len(got) - 1, len(got)}
    if _agree(got, want[: len(got)]) and any(
        _agree(after, _reference(weights, k, 0.05, relu_out)[1]) for k in steps
    ):
        return
    got_text = f"losses {', '.join(fmt(x) for x in got)}"
    want_text = f"losses {', '.join(fmt(x) for x in want)} (our engine, same weights)"
    if after == [v for w, b in weights for v in (*w, b)] and _zero_after_backward(train):
        raise Failed(
            got_text + ", and not one parameter moved",
            want_text,
            why="your train() calls zero_grad() after backward(): it erases the gradients "
            "backward() has just computed, so every step moves each parameter by lr * 0",
            hint="zero the gradients first, then backward, then step: model.zero_grad(); "
            "loss.backward(); for p in model.parameters(): p.data -= lr * p.grad",
        )
    for variant, why, hint in _VARIANTS:
        losses, params = _reference(weights, 3, 0.05, relu_out, **variant)
        if _agree(got, losses) and _agree(after, params):
            raise Failed(got_text, want_text, why=why, hint=hint)
    if _agree(got, want[: len(got)]):
        raise Failed("the right losses, but different parameters afterwards", want_text)
    raise Failed(got_text, want_text)


@check(
    5,
    "training drives the loss down",
    why="40 epochs of gradient descent with lr 0.05 on the four samples should at least halve "
    "the loss for most random starts (a train() that stops early below a tolerance is fine)",
    hint="if train() passes the check above, look for a parameter that never moves",
)
def train_converges(p: Probe) -> None:
    train = _trainer(p)
    worse, halved = [], 0
    for seed in range(5):
        net = make(p, "MLP(3, [4, 4, 1])", seed)
        p.tried += "; losses = train(n, xs, ys, epochs=40, lr=0.05)"
        losses = _numbers(p, train(net, XS, YS, epochs=40, lr=0.05), 40, train)
        halved += losses[-1] < 0.5 * losses[0]
        if not losses[-1] < losses[0]:
            worse.append(f"seed {seed}: {fmt(losses[0])} -> {fmt(losses[-1])}")
    if worse or halved < 3:
        raise Failed(
            f"halved in {halved} of 5 runs" + (f"; went up: {', '.join(worse)}" if worse else ""),
            "lower in every run and halved in at least 3 of 5",
        )
