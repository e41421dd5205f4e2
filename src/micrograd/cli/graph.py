"""`micrograd graph`: draw the computation graph of an expression or of a model after backward()."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..engine import Value
from ..expression import ExpressionError, parse_assignments, parse_expression
from ..nn import MLP
from ..serialization import load, load_metadata
from ..train import predict, raw_outputs
from ..viz import (
    ENGINES,
    MAX_NODES,
    RANKDIRS,
    GraphTooLargeError,
    GraphvizError,
    draw_dot,
    trace_model,
)
from .arguments import PROG, UsageError, add_command, positive_int, sample
from .models import check_width, label, model_info, model_scaler, sample_text
from .output import console, make_folder, names

__all__ = ["register", "run"]

# Where the pictures go without --out: under runs/ like a run, not into the current folder.
DEFAULT_OUT = Path("runs") / "graph"

NAME = "graph"
HELP = "draw the computation graph of an expression or of a model"
DESCRIPTION = (
    "Draw a computation graph after backward(): every node shows its op, "
    "data and grad, and its label where it has one."
)
EXAMPLES = f"""\
examples:
  {PROG} graph "(a*b + c).tanh()" a=2 b=-3 c=10
  {PROG} graph "relu(x*w + b) ** 2 / 2" x=1.5 w=-0.5 b=1 --out pics/neuron
  {PROG} graph --model runs/moons-relu-seed0/model.json --input 0.5,1.0
  {PROG} graph -- "-a * b" a=1 b=2     (an expression starting with '-' goes after --)

Expressions may use numbers, the variables given, + - * / ** //, and tanh relu sigmoid exp
log sqrt abs as f(x) or x.f(); nothing else is evaluated. Writes NAME.dot, NAME.svg and
NAME.html (a self-contained page), and NAME.png when Graphviz is installed: runs/graph.* unless
--out NAME says where.
"""

_GRAPH_SUFFIXES = (".dot", ".gv", ".svg", ".html", ".png")
_GET_GRAPHVIZ_SHORT = "apt-get install graphviz, or brew install graphviz"
_GET_GRAPHVIZ = (
    "install Graphviz: sudo apt-get install graphviz (Debian, Ubuntu), brew install "
    "graphviz (macOS), or see https://graphviz.org/download"
)


def register(commands: Any) -> None:
    """Add `graph` to the subcommands."""
    p = add_command(commands, NAME, HELP, DESCRIPTION, EXAMPLES)
    p.add_argument(
        "expression",
        nargs="?",
        default=None,
        help='an expression such as "(a*b + c).tanh()" (default: none; or use --model)',
    )
    p.add_argument(
        "assignments",
        nargs="*",
        metavar="NAME=VALUE",
        help="a value for each variable, e.g. a=2 b=-3 (default: none)",
    )
    p.add_argument(
        "--model",
        default=None,
        metavar="MODEL.json",
        help="draw this model's graph for one --input instead (default: none)",
    )
    p.add_argument(
        "--input",
        type=sample,
        default=None,
        metavar="X1,X2,...",
        help="the sample to run through --model (default: none)",
    )
    p.add_argument(
        "--out",
        default=str(DEFAULT_OUT),
        metavar="NAME",
        help="where to write, without extension: NAME.dot, NAME.svg, NAME.html, "
        f"NAME.png (default: {DEFAULT_OUT}, beside the runs of '{PROG} train')",
    )
    p.add_argument(
        "--rankdir",
        choices=RANKDIRS,
        default="LR",
        help="LR draws inputs on the left, TB at the top (default: LR)",
    )
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="who lays out the SVG and HTML: Graphviz, the builtin layout, or auto "
        "(Graphviz when installed) (default: auto)",
    )
    p.add_argument(
        "--max-nodes",
        type=positive_int,
        default=MAX_NODES,
        metavar="N",
        help=f"refuse graphs with more values than this (default: {MAX_NODES})",
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="print nothing but errors (default: print the values and the files)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    shown = console()
    if args.model is not None:
        if args.expression is not None:
            raise UsageError("draw an expression or a --model, not both")
        if args.input is None:
            raise UsageError(
                f"--model {args.model} needs one --input sample to trace, e.g. --input 0.5,1.0"
            )
        model = load(args.model)
        check_width(args.input, model, args.model)
        meta = load_metadata(args.model)
        scaler = model_scaler(model, meta, args.model)
        one = args.input if scaler is None else scaler.transform([args.input])[0].tolist()
        try:
            root = trace_model(model, one)
        except (ArithmeticError, ValueError) as e:
            raise UsageError(
                f"cannot run {args.model} on --input {sample_text(args.input)}: {e}"
            ) from None
        if not math.isfinite(float(root.data)):
            raise UsageError(
                f"--input {sample_text(args.input)}: the model's output overflows to "
                f"{float(root.data):g} for these inputs; they are far outside what it was "
                "trained on"
            )
        what = f"{args.model} on input {sample_text(args.input)}"
        if scaler is not None:
            what += f", standardised as in training to {sample_text(one)}"
        verdict = _verdict(model, meta, args.model, one)
    else:
        if args.expression is None:
            raise UsageError(
                'give an expression and its values, e.g. micrograd graph "(a*b + c).tanh()" '
                "a=2 b=-3 c=10, or a model: --model model.json --input 0.5,1.0"
            )
        if args.input is not None:
            raise UsageError("--input goes with --model; an expression takes name=value pairs")
        root = _evaluate_expression(args.expression, args.assignments)
        what = args.expression
        verdict = ""
    try:
        graph = draw_dot(root, rankdir=args.rankdir, max_nodes=args.max_nodes)
    except GraphTooLargeError as e:
        raise UsageError(
            f"the graph has more than {e.limit} values, too many for a readable picture: draw "
            f"a smaller expression or model, or raise the limit with --max-nodes N"
        ) from None

    stem = _stem(args.out)
    if stem.parent != Path():
        make_folder(stem.parent)
    for suffix in (".dot", ".svg", ".html", ".png"):
        path = stem.parent / f"{stem.name}{suffix}"
        if path.is_dir():
            raise UsageError(
                f"{path} is a folder, where the graph's {suffix} file goes: choose another "
                "--out NAME"
            )
    has_dot = shutil.which("dot") is not None
    if args.engine == "graphviz" and not has_dot:
        raise UsageError(
            f"--engine graphviz needs Graphviz's dot program on PATH: "
            f"{_GET_GRAPHVIZ}; or use --engine builtin"
        )
    engine = "graphviz" if has_dot and args.engine != "builtin" else "builtin"
    notes = []

    def target(suffix: str) -> Path:
        return stem.parent / f"{stem.name}{suffix}"

    written = [graph.save(target(".dot"))]
    try:
        written.append(graph.save(target(".svg"), engine=engine))
        written.append(graph.save(target(".html"), engine=engine, title=f"micrograd: {what}"))
    except GraphvizError as e:
        notes.append(f"Graphviz failed ({e}); drew the SVG and HTML with the builtin layout")
        engine = "builtin"
        written.append(graph.save(target(".svg"), engine="builtin"))
        written.append(graph.save(target(".html"), engine="builtin", title=f"micrograd: {what}"))
    png = target(".png")
    if has_dot and args.engine != "builtin":
        try:
            written.append(graph.save(png, engine="graphviz"))
        except GraphvizError as e:
            notes.append(f"PNG skipped: {e}")
    elif has_dot:
        notes.append("PNG skipped: --engine builtin draws only SVG and HTML")
    else:
        notes.append(f"no PNG without Graphviz ({_GET_GRAPHVIZ_SHORT})")
    if not any(p == png for p in written) and png.is_file() and not png.is_symlink():
        with contextlib.suppress(FileNotFoundError):
            png.unlink()  # an older picture of another graph would mislead

    if not args.quiet:
        _print_graph_values(shown, root, args.model is not None)
        if verdict:
            shown.print(verdict)
        layout = "Graphviz" if engine == "graphviz" else "builtin layout"
        folder = "" if stem.parent == Path() else f"{stem.parent}{os.sep}"
        shown.print(
            f"graph of {len(graph)} values ({layout}); wrote {escape(folder)}: {names(written)}"
            if folder
            else f"graph of {len(graph)} values ({layout}); wrote {names(written)}"
        )
        for note in notes:
            shown.print(escape(note))
    return 0


def _evaluate_expression(expression: str, assignments: list[str]) -> Value:
    variables = parse_assignments(assignments)
    try:
        root = parse_expression(expression, variables)
    except (ArithmeticError, ValueError) as e:
        if isinstance(e, ExpressionError):
            raise
        # The engine's math errors (log of a negative number, division by zero, overflow).
        raise UsageError(f"cannot evaluate {expression!r} with these values: {e}") from None
    used = {v.label for v in root.topo_sort() if not v.children}
    unused = [name for name in variables if name not in used]
    if unused:
        print(f"{PROG}: note: {', '.join(unused)} not used by the expression", file=sys.stderr)
    try:
        root.backward()
    except (ArithmeticError, ValueError) as e:
        # A gradient that does not exist there, e.g. of sqrt(a) at a=0, or that overflows.
        raise UsageError(f"cannot differentiate {expression!r} at these values: {e}") from None
    return root


def _stem(out: str) -> Path:
    """--out NAME as a path without extension, refusing names that cannot be one."""
    if not out.strip():
        raise UsageError(
            f"--out {out!r} names no file: expected a name without extension, e.g. --out graph"
        )
    stem = Path(out)
    if out.endswith(("/", os.sep)) or stem.is_dir() or stem.name in (".", ".."):
        raise UsageError(
            f"--out {out} is a folder: expected a file name without extension, e.g. --out "
            f"{stem / 'graph'}"
        )
    return stem.with_suffix("") if stem.suffix.lower() in _GRAPH_SUFFIXES else stem


def _verdict(model: MLP, meta: dict[str, Any], path: str, one: list[float]) -> str:
    """What the model makes of the sample: its outputs and, for classification, the class."""
    info = model_info(model, meta, path)
    X = np.array([one], dtype=np.float64)
    outputs = ", ".join(f"{o:.6g}" for o in raw_outputs(model, X)[0].tolist())
    if info.task == "regression":
        return f"model output: {outputs}"
    k = int(predict(model, X, info.task)[0])
    return f"model output: {outputs} -> class {label(info, k)}"


def _print_graph_values(shown: Console, root: Value, is_model: bool) -> None:
    """The result and the gradient of every named input: what the picture shows, in brief."""
    leaves = [v for v in root.topo_sort() if not v.children and v.label]
    if is_model:
        leaves = [v for v in leaves if v.label.startswith("x")]
    table = Table(
        box=box.SIMPLE_HEAD,
        title=f"{escape(root.label or 'result')} = {float(root.data):.6g}",
        title_justify="left",
    )
    table.add_column("input" if is_model else "variable")
    table.add_column("value", justify="right")
    table.add_column(f"d {root.label or 'result'} / d input", justify="right")
    for v in sorted(leaves, key=lambda v: v.label):
        table.add_row(escape(v.label), f"{float(v.data):.6g}", f"{float(v.grad):.6g}")
    shown.print(table)
