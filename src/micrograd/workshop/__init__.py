"""The micrograd workshop: a learner writes their own `Value` and `MLP` in five steps, and a
checker that teaches compares their code with our engine at each step.

`start(folder)` writes the starting point (`value.py`, `mlp.py`, `WORKSHOP.md`);
`check_steps([step], folder)` runs one step's checks on the learner's code in a separate
process and returns what each check tried, got and expected, and why.
"""

from .base import STEPS, CheckResult
from .runner import DEFAULT_TIMEOUT, StepReport, WorkshopError, check_steps
from .starter import TEMPLATES, start

__all__ = [
    "DEFAULT_TIMEOUT",
    "STEPS",
    "TEMPLATES",
    "CheckResult",
    "StepReport",
    "WorkshopError",
    "check_steps",
    "start",
]
