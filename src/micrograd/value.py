"""The workshop's module name for the engine: `from micrograd.value import Value`.

A learner's code and tests written against the step-by-step workshop import `Value` from
`value`; this module gives them the very same class as `micrograd.engine`.
"""

from .engine import Value

__all__ = ["Value"]
