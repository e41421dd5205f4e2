"""Lists that count their changes, so a layer can tell in O(1) that nothing in it was replaced.

A `Layer` runs a batch through its whole parameter buffer at once only while every neuron still
holds the layer's own weights and bias (`Layer.intact()`). Comparing them all is O(parameters);
instead, every way of replacing one adds to a count the layer shares with its neurons: setting an
item of (or adding to, removing from) a neuron's `w` or the layer's `neurons` (each a
`WatchedList`), or assigning `w`, `b` or `neurons` anew (their classes' `__setattr__`). The layer
compares them only when the count moved. A list assigned anew is not watched, so the layer stops
trusting the count until its own lists are back (it then compares every time: correct, slower).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, SupportsIndex, TypeVar

__all__ = ["Changes", "WatchedList"]

T = TypeVar("T")


class Changes:
    """A count of changes, shared by the lists and objects one cached answer depends on."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def __repr__(self) -> str:
        return f"Changes({self.count})"


class WatchedList(list[T]):
    """A list that adds one to `changes.count` whenever one of its items is set, added or
    removed. Otherwise a plain list: it compares, prints and copies as one."""

    __slots__ = ("changes",)

    def __init__(self, items: Iterable[T] = (), changes: Changes | None = None) -> None:
        super().__init__(items)
        self.changes = Changes() if changes is None else changes

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle and deepcopy: the items and the shared count (one copy per memo)
        return type(self), (list(self), self.changes)

    def __setitem__(self, index: Any, value: Any) -> None:
        super().__setitem__(index, value)
        self.changes.count += 1

    def __delitem__(self, index: SupportsIndex | slice) -> None:
        super().__delitem__(index)
        self.changes.count += 1

    def __iadd__(self, items: Iterable[T]) -> WatchedList[T]:  # type: ignore[override,misc]
        super().__iadd__(items)
        self.changes.count += 1
        return self

    def __imul__(self, times: SupportsIndex) -> WatchedList[T]:
        super().__imul__(times)
        self.changes.count += 1
        return self

    def append(self, item: T) -> None:
        super().append(item)
        self.changes.count += 1

    def extend(self, items: Iterable[T]) -> None:
        super().extend(items)
        self.changes.count += 1

    def insert(self, index: SupportsIndex, item: T) -> None:
        super().insert(index, item)
        self.changes.count += 1

    def pop(self, index: SupportsIndex = -1) -> T:
        item = super().pop(index)
        self.changes.count += 1
        return item

    def remove(self, item: T) -> None:
        super().remove(item)
        self.changes.count += 1

    def clear(self) -> None:
        super().clear()
        self.changes.count += 1

    def sort(self, *args: Any, **kwargs: Any) -> None:
        super().sort(*args, **kwargs)
        self.changes.count += 1

    def reverse(self) -> None:
        super().reverse()
        self.changes.count += 1
