"""The seed workshop's name for the engine: `from micrograd.value import Value` gives the very
same class as `micrograd.engine.Value`, so a learner's code and tests run unchanged."""

from .engine import Value

__all__ = ["Value"]
