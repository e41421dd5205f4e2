"""CSV files: `load_csv` reads a comma-separated file whose last column is the target,
`read_csv_table` reads any table of numbers, and `save_csv` writes a `Dataset` back.

Anything wrong in a file raises `DataError` naming the file, line and column. No row is ever
dropped and no value is ever silently changed.
"""

from __future__ import annotations

import csv
import io
import math
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .dataset import TASKS, DataError, Dataset, FloatArray
from .files import write_atomic

__all__ = ["TargetError", "label_text", "load_csv", "read_csv_table", "save_csv"]

_CLASSIFICATION = ("binary", "multiclass", "classification")


def _keyword(task: str) -> str:
    return f"task={task!r}"


class TargetError(DataError):
    """A target column that cannot hold the class labels asked for or guessed. Its message
    names a task as `load_csv`'s keyword does (task='regression'); `spelled` says it with
    another way to ask for that task, e.g. the command line's `--task regression`."""

    def __init__(self, say: Callable[[Callable[[str], str]], str]) -> None:
        self._say = say
        super().__init__(say(_keyword))

    def spelled(self, ask: Callable[[str], str]) -> str:
        """The message with `ask(task)` wherever it names a task."""
        return self._say(ask)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """The non-blank rows with their line numbers. Blank lines may only end the file."""
    rows: list[tuple[int, list[str]]] = []
    blank: int | None = None
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise DataError(f"{path}: not a regular file (a device or a pipe): expected CSV")
            reader = csv.reader(f)
            try:
                for row in reader:
                    if not row:
                        blank = blank or reader.line_num
                        continue
                    if blank is not None:
                        raise DataError(
                            f"{path}: line {blank} is blank, but data follows it on line "
                            f"{reader.line_num}; remove the blank line"
                        )
                    rows.append((reader.line_num, row))
            except csv.Error as e:
                raise DataError(f"{path}: line {reader.line_num}: malformed CSV: {e}") from None
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    return rows


def read_csv_table(
    path: str | os.PathLike[str], min_columns: int = 1
) -> tuple[FloatArray, list[str] | None, list[int]]:
    """A comma-separated file of numbers: (values, header or None, the line number of each row).

    The first line is a header if any of its cells is not a number. Every other cell must be a
    finite number; a bad cell, an empty cell, a row with the wrong number of columns, an empty
    file or fewer than `min_columns` columns raise `DataError` naming the file, the line and the
    column (1-based, with its header name when there is a header).
    """
    path = Path(path)
    rows = _read_rows(path)
    if not rows:
        raise DataError(f"{path}: the file is empty")
    first_line, first = rows[0]
    # Empty cells do not make a header: on a data row they are reported as empty cells.
    is_header = any(c.strip() and not _is_number(c) for c in first)
    header = [c.strip() for c in first] if is_header else None
    ncols = len(first)
    if ncols < min_columns:
        raise DataError(
            f"{path}: line {first_line} has {ncols} column{'s' if ncols != 1 else ''}; need at "
            f"least {min_columns} (the features, then the target in the last column)"
        )
    if header is not None:
        for j, name in enumerate(header):
            if not name:
                raise DataError(f"{path}: line {first_line}, column {j + 1}: empty header name")
        rows = rows[1:]
        if not rows:
            raise DataError(f"{path}: line {first_line} is a header, but no data rows follow")

    def column(j: int) -> str:
        return f"column {j + 1}" + (f" ({header[j]!r})" if header else "")

    values = np.empty((len(rows), ncols), dtype=np.float64)
    for i, (line, row) in enumerate(rows):
        if len(row) != ncols:
            source = "the header" if header else f"line {first_line}"
            raise DataError(
                f"{path}: line {line} has {len(row)} column{'s' if len(row) != 1 else ''}, "
                f"expected {ncols} as on {source}"
            )
        for j, cell in enumerate(row):
            if not cell.strip():
                raise DataError(f"{path}: line {line}, {column(j)}: empty cell")
            try:
                x = float(cell)
            except ValueError:
                raise DataError(
                    f"{path}: line {line}, {column(j)}: {cell!r} is not a number"
                ) from None
            if not math.isfinite(x):
                raise DataError(f"{path}: line {line}, {column(j)}: {cell!r} is not finite")
            values[i, j] = x
    return values, header, [line for line, _ in rows]


def load_csv(path: str | os.PathLike[str], task: str | None = None) -> Dataset:
    """A comma-separated file as a Dataset: every column a feature but the last, the target.

    The cells are read by `read_csv_table`, which names the line and column of any bad one; the
    file needs at least 2 columns.

    `task` is 'regression', 'binary', 'multiclass', 'classification' (binary or multiclass by
    the number of classes) or None to infer it: targets that are all integers with exactly 2
    distinct values, or at most 20 distinct values and fewer than half as many as rows, are
    class labels; anything else is regression. Class labels must be integers 0..C-1 (inferred
    ones must use every value 0..C-1; a given task allows classes missing from the file), except
    that labels -1 and 1 (the +-1 convention of margin losses) are mapped to classes 0 and 1,
    recorded in `Dataset.classes` as [-1.0, 1.0]. Other labels raise `TargetError` (a
    `DataError`): relabel them as 0..C-1, or pass task='regression' to treat them as numbers.
    """
    path = Path(path)
    if task is not None and task not in (*TASKS, "classification"):
        raise DataError(
            f"task must be None, 'classification' or one of {', '.join(TASKS)}, got {task!r}"
        )
    values, header, lines = read_csv_table(path, min_columns=2)
    ncols = values.shape[1]
    X = np.ascontiguousarray(values[:, :-1])
    targets = values[:, -1]
    target = f"column {ncols}" + (f" ({header[-1]!r})" if header else "")
    kind, y, n_classes, classes = _resolve_targets(targets, task, lines, f"{path}: {target}")
    return Dataset(X, y, path.stem, kind, n_classes, classes, header)


def _looks_like_labels(targets: FloatArray) -> bool:
    if not np.all(targets == np.round(targets)):
        return False
    distinct = len(np.unique(targets))
    return distinct == 2 or (distinct <= 20 and distinct < len(targets) / 2)


def _resolve_targets(
    targets: FloatArray, task: str | None, lines: list[int], where: str
) -> tuple[str, NDArray[Any], int, list[float] | None]:
    """(task, y, n_classes, classes) for the target column of a file."""
    if task == "regression" or (task is None and not _looks_like_labels(targets)):
        return "regression", targets, 0, None

    def asked(ask: Callable[[str], str]) -> str:
        return "they look like class labels" if task is None else f"{ask(task)} needs class labels"

    distinct = set(np.unique(targets).tolist())
    if distinct <= {-1.0, 1.0} and -1.0 in distinct and task != "multiclass":
        return "binary", (targets == 1.0).astype(np.int64), 2, [-1.0, 1.0]
    bad = np.flatnonzero((targets != np.round(targets)) | (targets < 0))
    if bad.size:
        i = int(bad[0])
        raise TargetError(
            lambda ask: (
                f"{where}: {asked(ask)}, which must be integers 0..C-1 (or -1 and 1), "
                f"but line {lines[i]} has {float(targets[i])!r}; relabel the classes as 0..C-1, or "
                f"pass {ask('regression')} to treat the targets as numbers"
            )
        )
    if task is None and distinct != set(range(len(distinct))):
        # Given a task, a class may be missing from a file; guessing one, gaps mean "not labels".
        shown = ", ".join(label_text(v) for v in sorted(distinct))
        raise TargetError(
            lambda ask: (
                f"{where}: {asked(ask)}, but {{{shown}}} is not 0..C-1; relabel the "
                f"classes as 0..C-1, or pass {ask('regression')} to treat the targets as numbers"
            )
        )
    n_classes = max(2, int(targets.max()) + 1)
    if task == "binary" and n_classes != 2:
        i = int(np.argmax(targets))
        raise TargetError(
            lambda ask: (
                f"{where}: {ask('binary')} needs labels 0 and 1 (or -1 and 1), "
                f"but line {lines[i]} has {float(targets[i])!r}"
            )
        )
    if task in ("binary", "multiclass"):
        kind = task
    else:
        kind = "binary" if n_classes == 2 else "multiclass"
    return kind, targets.astype(np.int64), n_classes, None


def label_text(x: float) -> str:
    """A label or number as a file would hold it: the shortest text that reads back as exactly
    `x`, integers without a '.0' (class 1.0 is "1")."""
    return str(int(x)) if x == int(x) and abs(x) < 2**53 else repr(float(x))


def save_csv(ds: Dataset, path: str | os.PathLike[str], header: bool = True) -> None:
    """Write `ds` as a CSV file that `load_csv` reads back to the same arrays.

    Features are written exactly (as the shortest text that reads back to the same float); the
    target column holds the original labels (`ds.classes`) when they were mapped. The header is
    `ds.columns`, or x1..xd,y when the dataset has none; `header=False` leaves it out.
    """
    names = ds.columns or [*(f"x{j + 1}" for j in range(ds.n_features)), "y"]
    if ds.task == "regression":
        targets = [repr(float(t)) for t in ds.y]
    else:
        labels = ds.classes or list(range(ds.n_classes))
        targets = [label_text(float(labels[int(c)])) for c in ds.y]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(names)
    for row, target in zip(ds.X, targets, strict=True):
        writer.writerow([*(repr(float(x)) for x in row), target])
    write_atomic(Path(path), buffer.getvalue().encode("utf-8"))
