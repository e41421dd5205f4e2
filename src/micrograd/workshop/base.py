"""What a workshop check is and what it reports.

A check is a small named function for one step. It runs the learner's code on one idea (a
node used twice, the power rule, a linear output layer, ...) and either returns quietly or
raises `Failed` saying what their code gave and what was expected. The runner turns either
outcome, or an exception from their code, into a `CheckResult`: the check's name, whether it
passed, what was tried, what their code gave, what was expected and why, and one hint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "METHOD_STEP",
    "STEPS",
    "Check",
    "CheckResult",
    "Failed",
    "check",
    "registered",
]

# The title of each step, as WORKSHOP.md names them.
STEPS = {
    1: "operators",
    2: "gradients and topological order",
    3: "tanh and ReLU",
    4: "Neuron, Layer and MLP",
    5: "parameters, a linear output, zero_grad and training",
}

# Where each method is introduced, for "your Value has no X: step N introduces it".
_STEP_1 = ("__add__", "__mul__", "__pow__", "__neg__", "__radd__", "__sub__", "__rsub__")
METHOD_STEP = {
    **dict.fromkeys((*_STEP_1, "__rmul__", "__truediv__", "__rtruediv__"), 1),
    "topo_sort": 2,
    "backward": 2,
    "_backward": 2,
    "tanh": 3,
    "relu": 3,
    "Neuron": 4,
    "Layer": 4,
    "MLP": 4,
    "w": 4,
    "b": 4,
    "neurons": 4,
    "layers": 4,
    "parameters": 5,
    "zero_grad": 5,
    "train": 5,
}


class Failed(Exception):
    """A check's verdict that the learner's code disagrees with what was expected.

    `got` and `expected` describe the results; `why` and `hint`, when given, replace the
    check's own (a more precise diagnosis of this particular answer).
    """

    def __init__(self, got: str, expected: str, *, why: str = "", hint: str = "") -> None:
        super().__init__(f"got {got}, expected {expected}")
        self.got = got
        self.expected = expected
        self.why = why
        self.hint = hint


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome, as the runner reports it and the command prints it.

    `status` is "pass", "fail" (a wrong answer), "error" (their code raised), "timeout",
    "crash" (the process died) or "skipped" (not run, `why` says why). `where` is the line of
    the learner's code an exception came from, when it came from there. `note` is something
    worth knowing about code that passes (a limit it will meet, a choice the checker made).
    """

    step: int
    name: str
    status: str
    tried: str = ""
    got: str = ""
    expected: str = ""
    why: str = ""
    hint: str = ""
    where: str = ""
    output: str = ""
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        return cls(**data)


@dataclass(frozen=True)
class Check:
    """A named check of one step: `run(probe)` returns when their code is right."""

    step: int
    slug: str
    title: str
    why: str
    hint: str
    run: Callable[[Any], None]

    @property
    def key(self) -> str:
        return f"{self.step}.{self.slug}"


_REGISTRY: list[Check] = []


def check(step: int, title: str, *, why: str, hint: str) -> Callable[[Any], Any]:
    """Register the decorated function as one check of `step`, in the order written."""

    def register(fn: Callable[[Any], None]) -> Callable[[Any], None]:
        entry = Check(step, fn.__name__, title, why, hint, fn)
        if any(c.key == entry.key for c in _REGISTRY):
            raise ValueError(f"two workshop checks are called {entry.key}")
        _REGISTRY.append(entry)
        return fn

    return register


def registered() -> list[Check]:
    """Every check registered so far, in the order written (`catalog` imports them all)."""
    return list(_REGISTRY)
