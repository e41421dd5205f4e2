"""A finite-difference gradient checker for any function built from `Value` operations.

`gradcheck(f, inputs)` compares the gradients backpropagation gives with central differences
`(f(x + eps) - f(x - eps)) / (2 eps)`, input by input, and returns a report saying which input
disagrees and by how much. Point it at your own functions while you write new operations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .engine import Value

__all__ = ["GradcheckReport", "GradcheckRow", "gradcheck"]


@dataclass(frozen=True)
class GradcheckRow:
    """One input: its gradient by backpropagation and by central differences."""

    index: int
    label: str
    analytic: float
    numeric: float
    ok: bool

    @property
    def abs_error(self) -> float:
        return abs(self.analytic - self.numeric)

    @property
    def rel_error(self) -> float:
        scale = max(abs(self.analytic), abs(self.numeric))
        return self.abs_error / scale if scale else 0.0


@dataclass(frozen=True)
class GradcheckReport:
    """The result of `gradcheck`: true when every input agrees within the tolerances."""

    rows: list[GradcheckRow] = field(default_factory=list)
    atol: float = 0.0
    rtol: float = 0.0

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def failures(self) -> list[GradcheckRow]:
        return [r for r in self.rows if not r.ok]

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        head = f"{'input':<12}{'analytic':>16}{'numeric':>16}{'abs error':>12}  "
        lines = [head]
        for r in self.rows:
            name = r.label or f"#{r.index}"
            mark = "ok" if r.ok else "MISMATCH"
            lines.append(
                f"{name:<12}{r.analytic:>16.8g}{r.numeric:>16.8g}{r.abs_error:>12.3g}  {mark}"
            )
        verdict = "all gradients agree" if self.ok else f"{len(self.failures)} input(s) disagree"
        lines.append(f"{verdict} (atol={self.atol:g}, rtol={self.rtol:g})")
        return "\n".join(lines)


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[float | Value],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> GradcheckReport:
    """Check `f(*inputs)`'s gradient with respect to each input against central differences.

    `f` takes one Value per input and returns a scalar Value. An input passes when
    `|analytic - numeric| <= atol + rtol * |numeric|`, as in `math.isclose`-style checks.
    """
    if eps <= 0:
        raise ValueError(f"eps must be positive, got {eps}")
    points = [float(x.data) if isinstance(x, Value) else float(x) for x in inputs]
    labels = [x.label if isinstance(x, Value) else "" for x in inputs]

    def evaluate(xs: Sequence[float]) -> Value:
        out = f(*[Value(x, label=name) for x, name in zip(xs, labels, strict=True)])
        if not isinstance(out, Value):
            raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
        return out

    leaves = [Value(x, label=name) for x, name in zip(points, labels, strict=True)]
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    out.backward()
    rows = []
    for i, leaf in enumerate(leaves):
        up = [*points[:i], points[i] + eps, *points[i + 1 :]]
        down = [*points[:i], points[i] - eps, *points[i + 1 :]]
        numeric = (evaluate(up).data - evaluate(down).data) / (2 * eps)
        analytic = float(leaf.grad)
        ok = abs(analytic - numeric) <= atol + rtol * abs(numeric)
        rows.append(GradcheckRow(i, labels[i], analytic, numeric, ok))
    return GradcheckReport(rows, atol, rtol)
