"""The workshop's checks, all of them: importing the check modules registers their checks (each
module imports `base` for the `check` decorator, so the list lives here, above them)."""

from __future__ import annotations

# importing registers the checks
from . import checks, checks_backward, checks_mlp, checks_train  # noqa: F401
from .base import STEPS, Check, registered

__all__ = ["checks_for"]


def checks_for(step: int) -> list[Check]:
    """The checks of one step (1-5), in the order they run."""
    if step not in STEPS:
        raise ValueError(f"the workshop has steps 1-{len(STEPS)}, not {step}")
    return [c for c in registered() if c.step == step]
