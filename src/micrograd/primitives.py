"""The table of primitives: each operation's forward beside its backward rule.

`engine` fills it with the lecture's operations, one `define(...)` line each, next to the rules
it writes; the fast path (`fused`, `buffers`) adds its fused nodes the same way. A node keeps
its primitive's rule, and `backward()` runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .numeric import Array

if TYPE_CHECKING:
    from .engine import Value

__all__ = ["KEEPS_SHAPE", "PRIMITIVES", "Primitive", "Rule", "define"]

Rule = Callable[["Value"], None]


@dataclass(frozen=True)
class Primitive:
    """One operation: the `_op` its nodes show, its forward beside its backward rule, and
    whether the rule gives every child a gradient of the child's own shape (else batched mode
    sums it back, see `backprop.run_rule`)."""

    op: str
    forward: Callable[..., Array]
    backward: Rule
    keeps_shape: bool


PRIMITIVES: dict[str, Primitive] = {}
KEEPS_SHAPE: set[Rule] = set()  # the backward rules of the primitives that keep shapes


def define(
    name: str, op: str, forward: Callable[..., Array], backward: Rule, *, keeps_shape: bool
) -> Primitive:
    """Add a primitive to the table and return it."""
    if name in PRIMITIVES:
        raise ValueError(f"primitive {name!r} is already defined")
    PRIMITIVES[name] = prim = Primitive(op, forward, backward, keeps_shape)
    if keeps_shape:
        KEEPS_SHAPE.add(backward)
    return prim
