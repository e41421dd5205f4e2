"""What the command shows and writes: consoles, the progress bar, one-line errors, JSON files,
and the per-class report table that train and predict print.

Plain text when the output is not a terminal (logs and pipes), a live progress bar on stderr
when it is. Files are written whole or not at all (`files.write_atomic`).
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
from rich import box
from rich.console import Console, Group
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from ..files import write_atomic
from ..train import Callback, History
from .arguments import PROG, UsageError

__all__ = [
    "ProgressCallback",
    "console",
    "fail",
    "jsonable",
    "make_folder",
    "maybe_progress",
    "mean_std",
    "names",
    "num",
    "per_class_table",
    "plus_minus",
    "progress_bar",
    "write_json",
    "write_text",
]


def console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr): plain and wide when it is not a terminal, and ASCII
    look-alikes for our symbols when the stream cannot encode them (PYTHONIOENCODING=ascii)."""
    stream = sys.stderr if stderr else sys.stdout
    file = None if _encodes(stream, _SYMBOLS) else cast(IO[str], _Degrading(stream))
    shown = Console(file=file, stderr=stderr, highlight=False)
    if not shown.is_terminal:
        # Logs and pipes get plain text, wide enough that tables do not wrap.
        shown = Console(file=file, stderr=stderr, highlight=False, width=max(shown.width, 120))
    return shown


def _encodes(stream: Any, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


# What we print beyond ASCII, and its ASCII look-alike (\u00d7 is the multiplication sign).
_ASCII = {"±": "+/-", "→": "->", "\u00d7": "x", "…": "...", "·": "*", "✓": "ok", "✗": "X"}
_SYMBOLS = "".join(_ASCII)
_LOOK_ALIKES = str.maketrans(_ASCII)


def plus_minus() -> str:
    """ "±", or "+/-" where standard output cannot encode it: tables measure what they print."""
    return "±" if _encodes(sys.stdout, "±") else "+/-"


def mean_std(stats: dict[str, float], digits: int) -> str:
    """ "mean ± std" of a `RunsSummary` statistic (`stats`: mean, std, min, max); "-" when
    it has no runs."""
    if math.isnan(stats["mean"]):
        return "-"
    return f"{num(stats['mean'], digits)} {plus_minus()} {num(stats['std'], digits)}"


class _Degrading:
    """A stream that cannot encode everything we print: our symbols become ASCII look-alikes
    (± as +/-), and anything else it cannot encode a question mark, never an exception
    halfway through a table."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.encoding = str(getattr(stream, "encoding", None) or "ascii")

    def write(self, text: str) -> int:
        plain = text.translate(_LOOK_ALIKES).encode(self.encoding, errors="replace")
        self.stream.write(plain.decode(self.encoding))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return bool(self.stream.isatty())


def progress_bar(on: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=30),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeRemainingColumn(),
        console=on,
    )


class ProgressCallback(Callback):
    """Shows training as a rich progress bar: epoch, loss, accuracy or RMSE, learning rate,
    time left. `fit` never prints; this listens to it. Use it inside `with progress:`."""

    def __init__(self, progress: Progress, description: str = "epoch") -> None:
        self.progress = progress
        self.description = description
        self.task: TaskID | None = None

    def on_train_begin(self, info: dict[str, Any]) -> None:
        self.task = self.progress.add_task(self.description, total=info["epochs"], status="")

    def on_epoch_end(self, log: dict[str, float]) -> None:
        if self.task is None:
            return
        parts = [f"loss {num(log['loss'])}"]
        for name in ("accuracy", "rmse"):
            if name in log:
                parts.append(f"{'acc' if name == 'accuracy' else name} {num(log[name], 3)}")
                if f"val_{name}" in log:
                    parts.append(f"val {num(log[f'val_{name}'], 3)}")
        parts.append(f"lr {log['lr']:.3g}")
        self.progress.update(self.task, completed=int(log["epoch"]), status="  ".join(parts))

    def on_train_end(self, history: History) -> None:
        if self.task is not None and history.stop_reason in ("tolerance", "patience"):
            self.progress.update(
                self.task,
                total=history.epochs,
                description=f"{self.description} (stopped early)",
            )


@contextlib.contextmanager
def maybe_progress(show: bool) -> Iterator[Progress | None]:
    """A live progress display on stderr when it is a terminal and output is wanted."""
    on = console(stderr=True)
    if not show or not on.is_terminal:
        yield None
        return
    progress = progress_bar(on)
    with progress:
        yield progress


def fail(message: str) -> int:
    """Print `message` as one line on stderr; return the exit status for errors, 2."""
    text = " ".join(message.split())
    print(f"{PROG}: error: {text}", file=sys.stderr)
    return 2


def num(x: float, digits: int = 4) -> str:
    """A number in at most about 10 characters: fixed point when that reads well."""
    if x == 0 or 10.0**-digits <= abs(x) < 1e5:
        return f"{x:.{digits}f}"
    return f"{x:.2e}"


def names(files: Sequence[Path]) -> str:
    return ", ".join(f.name for f in files)


def write_text(path: Path, text: str) -> None:
    write_atomic(path, text.encode("utf-8"))


def jsonable(x: Any) -> Any:
    """Plain JSON: tuples as lists, numpy scalars as numbers, NaN and infinity as null."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(jsonable(data), indent=2, allow_nan=False) + "\n")


def make_folder(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UsageError(f"{path} is a file: expected a folder to write into") from None


def per_class_table(report: dict[str, Any], where: str) -> Group:
    """A `metrics.classification_report` as scikit-learn prints it, within 80 columns, under a
    line saying `where` the samples came from ("on the test split"): a line of its own, as a
    table's title would be wrapped to the table's width."""
    total = report["macro avg"]["support"]
    right = round(report["accuracy"] * total)
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("class")
    for column in ("precision", "recall", "f1-score", "support"):
        table.add_column(column, justify="right")
    rows = [(k, v) for k, v in report.items() if isinstance(v, dict)]
    for i, (key, row) in enumerate(rows):
        if i == len(rows) - 2:  # the averages, after the classes and the accuracy
            table.add_row("accuracy", "", "", f"{report['accuracy']:.4f}", str(total))
        table.add_row(
            escape(key),
            *(f"{row[m]:.4f}" for m in ("precision", "recall", "f1-score")),
            str(row["support"]),
            end_section=i == len(rows) - 3,
        )
    return Group(Text(f"per class, {where}: {right} of {total} right"), table)
