"""`micrograd predict`: run a saved model on inputs from the command line or a CSV file."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rich import box
from rich.markup import escape
from rich.table import Table

from ..data import label_text, read_csv_table
from ..loop import decide, probabilities
from ..metrics import accuracy, classification_report, r2_score, rmse
from ..serialization import load, load_metadata
from ..train import raw_outputs
from .arguments import PROG, UsageError, add_command, count, sample
from .limits import add_allow_large, check_csv
from .models import ModelInfo, check_width, label, model_info, model_scaler, sample_text
from .output import console, jsonable, make_folder, num, per_class_table, write_text

__all__ = ["register", "run"]

NAME = "predict"
HELP = "run a saved model on inputs from the command line or a CSV file"
DESCRIPTION = (
    "Predict with a model saved by 'micrograd train': prints the inputs, the raw outputs and, "
    "for classification, the predicted class and its probability. Probabilities come from "
    "models trained with a log-loss (softmax of the outputs for cross_entropy, the logistic "
    "function for bce); a model trained with hinge (or mse) loss outputs scores, which are not "
    "probabilities, so it has no probability column. A table too wide for the terminal leaves "
    "out the inputs (and raw outputs) and numbers the rows instead; --format csv or json and "
    "--output keep every column, with every class's probability."
)
EXAMPLES = f"""\
examples:
  {PROG} predict --model runs/moons-relu-seed0/model.json --input 0.5,0.2 --input 1,-0.3
  {PROG} predict --model runs/moons-relu-seed0/model.json --input -0.5,0.2
  {PROG} predict --model model.json --csv points.csv
      with one more column than the model's inputs, the last is taken as the target and
      the accuracy (or rmse) is reported too, and for a classifier precision, recall and
      F1 per class
  {PROG} predict --model model.json --csv points.csv --format csv --output predictions.csv
"""

# A table longer than this is shown in part: a terminal scrolls past the rest, and a large
# table takes rich minutes to lay out.
PREVIEW_ROWS = 50

# A column of the predictions: its name, how a table shows its numbers, and its values.
_Column = tuple[str, str, list[Any]]


def register(commands: Any) -> None:
    """Add `predict` to the subcommands."""
    p = add_command(commands, NAME, HELP, DESCRIPTION, EXAMPLES)
    p.add_argument(
        "--model",
        required=True,
        metavar="MODEL.json",
        help="a model file written by micrograd train (required)",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--input",
        action="append",
        type=sample,
        metavar="X1,X2,...",
        help="one sample, its inputs separated by commas; repeat for more "
        "(default: none; give --input or --csv)",
    )
    source.add_argument(
        "--csv",
        metavar="FILE.csv",
        help="a CSV file of samples, with or without a header; one extra "
        "column is read as the target (default: none)",
    )
    p.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="how to print the predictions: a table that fits the terminal, or every column "
        "as CSV or as JSON (a list of one object per sample) (default: table)",
    )
    p.add_argument(
        "--output",
        metavar="FILE.csv",
        default=None,
        help="write the predictions to this file instead of printing them: CSV, or JSON with "
        "--format json (default: print)",
    )
    add_allow_large(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    path = args.model
    _refuse_inputs_as_output(args)
    model = load(path, batched=True)  # arrays: every sample in one pass
    meta = load_metadata(path)
    info = model_info(model, meta, path)
    scaler = model_scaler(model, meta, path)
    targets: NDArray[np.float64] | None = None
    target_name = info.target_name
    if args.input:
        for one in args.input:
            check_width(one, model, path)
        X = np.array(args.input, dtype=np.float64)
        names = info.feature_names
    else:
        X, targets, header = _read_inputs(Path(args.csv), model.nin, args.allow_large)
        names = header[: model.nin] if header else info.feature_names
        if header and targets is not None:
            target_name = header[-1]
    # The columns show the features as given; the model reads them as training saw them.
    seen = X if scaler is None else scaler.transform(X)
    outputs = raw_outputs(model, seen)
    _check_finite(outputs, X, args)

    inputs: list[_Column] = [(name, "input", X[:, j].tolist()) for j, name in enumerate(names)]
    given: list[_Column] = []
    if targets is not None:
        kind = "input" if info.task == "regression" else "label"
        given.append((f"{target_name} (given)", kind, targets.tolist()))
    raw: list[_Column] = (
        [("output", "output", outputs[:, 0].tolist())]
        if outputs.shape[1] == 1
        else [
            (f"output {label(info, k)}", "output", outputs[:, k].tolist())
            for k in range(outputs.shape[1])
        ]
    )
    decided: list[_Column] = []  # the class, its name and its probability
    every: list[_Column] = []  # every class's probability, for csv
    summary = ""
    report = None
    if info.task != "regression":
        predicted = decide(outputs, info.task)
        decided.append(("class", "class", [label(info, int(k)) for k in predicted.tolist()]))
        names_of = _class_names(info)
        called = names_of or [label(info, k) for k in range(info.n_classes)]
        if names_of is not None:
            decided.append(("name", "class", [names_of[int(k)] for k in predicted.tolist()]))
        probs = probabilities(outputs, info.task, info.loss) if info.loss is not None else None
        if probs is not None:
            decided.append(
                ("probability", "probability", probs[np.arange(len(X)), predicted].tolist())
            )
            every = [
                (f"probability {name}", "probability", probs[:, k].tolist())
                for k, name in enumerate(called)
            ]
        if targets is not None:
            truth = _class_indices(info, targets, Path(args.csv))
            summary = (
                f"accuracy {accuracy(truth, predicted):.4f} on {count(len(truth), 'sample')} "
                f"({int((truth == predicted).sum())} right)"
            )
            report = classification_report(
                truth, predicted, info.n_classes, called, present_only=True
            )
    elif targets is not None:
        pred = outputs[:, 0]
        summary = (
            f"rmse {num(rmse(targets, pred))}, r2 {num(r2_score(targets, pred))} on "
            f"{count(len(targets), 'sample')}"
        )

    shown = console()
    if args.output is not None or args.format != "table":
        # Every column: the inputs, the raw outputs and every class's probability.
        columns = [*inputs, *given, *raw, *[c for c in decided if c[0] != "probability"], *every]
        text = (
            _json_text(columns)
            if args.format == "json"
            else _csv_text(
                [c[0] for c in columns],
                [list(row) for row in zip(*(_csv_cells(c) for c in columns), strict=True)],
            )
        )
        if args.output is not None:
            out_path = Path(args.output)
            make_folder(out_path.parent)
            write_text(out_path, text)
            # --output /dev/stdout (or the file stdout is redirected to): the lines that follow
            # go to stderr, so that what was written there stays only the predictions
            said = console(stderr=_is_stdout(out_path))
            said.print(
                f"wrote {len(X)} prediction{'s' if len(X) != 1 else ''} to {escape(str(out_path))}"
            )
            if summary:
                said.print(summary)
        else:
            sys.stdout.write(text)
            if summary:  # stdout holds only the predictions
                print(summary, file=sys.stderr)
        return 0
    shown.print(f"predictions of {escape(path)} ({info.task})")
    preview = len(X) > PREVIEW_ROWS
    row_numbers: _Column = ("#", "class", [str(i + 1) for i in range(min(len(X), PREVIEW_ROWS))])
    shown_columns, left_out = _fit(shown.width, row_numbers, [inputs, given, raw, decided], preview)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name, _, _ in shown_columns:
        table.add_column(escape(name), justify="right")
    for row in zip(*(_table_cells(c) for c in shown_columns), strict=True):
        table.add_row(*row)
    shown.print(table)
    if preview:
        shown.print(
            f"the first {PREVIEW_ROWS} of {len(X)} predictions; --output FILE.csv writes them "
            "all (or --format csv prints them all)"
        )
    if left_out:
        shown.print(f"not shown: {', '.join(left_out)} (--format csv prints every column)")
    if summary:
        shown.print(summary)
    if report is not None:
        shown.print(per_class_table(report, "against the given targets"))
    return 0


def _fit(
    width: int, numbers: _Column, groups: list[list[_Column]], preview: bool
) -> tuple[list[_Column], list[str]]:
    """The columns a table `width` wide shows, and what it leaves out. `groups` are the inputs,
    the given target, the raw outputs and the decision (class, name, probability): all of them
    if they fit; else a classifier's table drops the raw outputs, then the inputs (numbering
    the rows instead), then both; a regression's keeps its output and drops the inputs."""
    rows = PREVIEW_ROWS if preview else None
    inputs, given, raw, decided = ([(n, k, v[:rows]) for n, k, v in g] for g in groups)

    def wide(columns: list[_Column]) -> int:
        cells = [max([len(c[0]), *map(len, _table_cells(c))]) for c in columns]
        return sum(cells) + 2 * (len(cells) - 1)

    no_inputs = count(len(inputs), "input")
    tries: list[tuple[list[_Column], list[str]]] = [([*inputs, *given, *raw, *decided], [])]
    if decided:
        tries += [
            ([*inputs, *given, *decided], ["the raw outputs"]),
            ([numbers, *given, *raw, *decided], [no_inputs]),
        ]
    for columns, left_out in tries:
        if wide(columns) <= width:
            return columns, left_out
    if not decided:  # a regression's output is its prediction
        return [numbers, *given, *raw], [no_inputs]
    return [numbers, *given, *decided], [no_inputs, "the raw outputs"]


def _class_names(info: ModelInfo) -> list[str] | None:
    """The classes' names (iris: setosa, ...) when they say more than the labels do; None
    otherwise (digits: 0..9, names given twice, or no names)."""
    names = info.class_names
    if names is None or len(set(names)) != len(names):
        return None
    if names == [label(info, k) for k in range(info.n_classes)]:
        return None
    return list(names)


def _refuse_inputs_as_output(args: argparse.Namespace) -> None:
    """--output must not name a file the predictions are made from."""
    if args.output is None:
        return
    output = Path(args.output)
    for flag, given in (("--model", args.model), ("--csv", args.csv)):
        if given is None:
            continue
        same = Path(given).resolve() == output.resolve()
        with contextlib.suppress(OSError):
            same = same or output.samefile(given)
        if same:
            raise UsageError(
                f"--output {output} is the {flag} file it reads: writing the predictions there "
                "would destroy it; choose another --output file"
            )


def _check_finite(outputs: NDArray[np.float64], X: NDArray[np.float64], args: Any) -> None:
    """Inputs so large that the model's output overflows have no prediction to show."""
    bad = ~np.isfinite(outputs).all(axis=1)
    if not bad.any():
        return
    i = int(np.argmax(bad))
    where = f"--input {sample_text(X[i].tolist())}" if args.input else f"{args.csv}: row {i + 1}"
    raise UsageError(
        f"{where}: the model's output overflows to {outputs[i].tolist()[0]:g} for these inputs; "
        f"they are far outside what it was trained on"
    )


def _read_inputs(
    path: Path, nin: int, allow_large: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None, list[str] | None]:
    """(X, targets or None, header or None) from a CSV with `nin` or `nin` + 1 columns."""
    check_csv(path, "--csv", allow_large)
    values, header, _ = read_csv_table(path)
    ncols = values.shape[1]
    if ncols not in (nin, nin + 1):
        raise UsageError(
            f"{path} has {count(ncols, 'column')}, but the model takes {count(nin, 'input')}: "
            f"expected {count(nin, 'column')} (the inputs) or {nin + 1} (the inputs, then the "
            "target)"
        )
    if ncols == nin:
        return values, None, header
    return np.ascontiguousarray(values[:, :-1]), values[:, -1], header


def _class_indices(info: ModelInfo, targets: NDArray[np.float64], path: Path) -> NDArray[Any]:
    """Targets as written in a file -> class indices, through the model's `classes`."""
    labels = info.classes if info.classes is not None else list(range(info.n_classes))
    index = {float(c): k for k, c in enumerate(labels)}
    out = np.empty(len(targets), dtype=np.int64)
    known = ", ".join(label_text(c) for c in labels)
    for i, t in enumerate(targets.tolist()):
        if t not in index:
            raise UsageError(
                f"{path}: row {i + 1}: the target {label_text(t)} is not one of the "
                f"model's classes ({known})"
            )
        out[i] = index[t]
    present = sorted(set(targets.tolist()))
    if len(present) < len(labels) and len(targets) >= 10 * len(labels):
        # Enough rows that every class should appear: maybe data for another model.
        print(
            f"{PROG}: note: {path}'s targets hold {len(present)} labels "
            f"({', '.join(map(label_text, present))}) but the model has {len(labels)} classes "
            f"({known}): is this the data it was made for?",
            file=sys.stderr,
        )
    return out


def _csv_cells(column: _Column) -> list[str]:
    """Exact text: floats as the shortest repr that reads back the same."""
    _, kind, values = column
    if kind == "class":
        return [str(v) for v in values]
    if kind == "label":
        return [label_text(v) for v in values]
    return [repr(float(v)) for v in values]


def _table_cells(column: _Column) -> list[str]:
    _, kind, values = column
    if kind == "probability":
        return [f"{v:.4f}" for v in values]
    if kind == "class":
        return [escape(str(v)) for v in values]
    if kind == "label":
        return [label_text(v) for v in values]
    if kind == "input":
        return [f"{v:.6g}" for v in values]
    return [num(v) for v in values]


def _json_text(columns: list[_Column]) -> str:
    """A JSON list of one object per sample, one per line: numbers as numbers, classes and
    their names as the text the table shows, a given class label as the file's number."""

    def value(kind: str, v: Any) -> Any:
        if kind == "class":
            return str(v)
        if kind == "label" and float(v).is_integer():
            return int(v)
        return float(v)

    records = [
        {name: value(kind, v) for (name, kind, _), v in zip(columns, row, strict=True)}
        for row in zip(*(c[2] for c in columns), strict=True)
    ]
    lines = ",\n".join(f"  {json.dumps(jsonable(r), allow_nan=False)}" for r in records)
    return f"[\n{lines}\n]\n"


def _csv_text(columns: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def _is_stdout(path: Path) -> bool:
    """Whether `path` is the file this process's stdout writes to."""
    try:
        return os.path.samestat(os.stat(path), os.fstat(sys.stdout.fileno()))
    except (OSError, ValueError, io.UnsupportedOperation):
        return False  # no such file, or a stdout without a file (captured by a test)
