"""`micrograd workshop`: write the workshop's starting files, and check a learner's steps.

    micrograd workshop start [DIR]          value.py, mlp.py and WORKSHOP.md, never overwriting
    micrograd workshop check STEP [DIR]     STEP is 1-5 or all

`check` prints every check of the step: a pass, or what was tried, what the learner's code
gave, what was expected and why, and one hint. Exit status 0 when the steps pass, 1 when a
check fails, 2 for usage errors (no such folder, a missing file, a bad STEP).
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from ..workshop import (
    DEFAULT_TIMEOUT,
    STEPS,
    CheckResult,
    StepReport,
    WorkshopError,
    check_steps,
    start,
)
from .arguments import PROG, UsageError, add_command, positive_float
from .output import console

__all__ = ["register", "run"]

GRAPH_NAME = "workshop_graph.svg"

NAME = "workshop"
HELP = "build your own micrograd step by step, with checks that explain"
DESCRIPTION = (
    "The micrograd workshop: write your own Value and MLP in five steps. 'start' writes the "
    "skeletons and WORKSHOP.md; 'check' compares your code with micrograd's engine and says, "
    "for each check, what it tried, what it expected and why."
)

EXAMPLES = f"""\
examples:
  {PROG} workshop start my-micrograd      write value.py, mlp.py and WORKSHOP.md there
  cd my-micrograd
  {PROG} workshop check 1                 check step 1 (operators) in this folder
  {PROG} workshop check all               every step, stopping at the first that fails
  {PROG} workshop check 2 ../other --timeout 10

Exit status: 0 when every check passes, 1 when one fails, 2 for a usage error.
"""


def _step(text: str) -> list[int]:
    if text.lower() == "all":
        return list(STEPS)
    if text.isdigit() and int(text) in STEPS:
        return [int(text)]
    raise argparse.ArgumentTypeError(f"STEP is 1-{len(STEPS)} or all, got {text!r}")


def register(commands: Any) -> None:
    """Add `workshop` (with `start` and `check`) to the subcommands."""
    p = add_command(commands, NAME, HELP, DESCRIPTION, EXAMPLES)
    actions = p.add_subparsers(title="actions", dest="action", metavar="ACTION", required=True)
    s = add_command(
        actions,
        "start",
        help="write value.py, mlp.py and WORKSHOP.md (never overwrites)",
        description="Write the starting point into DIR: value.py and mlp.py skeletons and "
        "WORKSHOP.md. Refuses, writing nothing, if any of them is already there.",
        examples=f"examples:\n  {PROG} workshop start my-micrograd\n",
    )
    s.add_argument(
        "dir",
        nargs="?",
        default=".",
        metavar="DIR",
        help="the folder to write into, made if missing (default: .)",
    )
    c = add_command(
        actions,
        "check",
        help="run the checks of one step (1-5) or all",
        description="Run the checks of STEP on value.py (and mlp.py for steps 4-5) in DIR. Your "
        "code runs in a separate Python process, each check with a time limit. Exit status: 0 "
        "when every check passes, 1 when one fails, 2 for a usage error.",
        examples=f"examples:\n  {PROG} workshop check 1\n  {PROG} workshop check all "
        "my-micrograd --timeout 10\n",
    )
    c.add_argument("step", type=_step, metavar="STEP", help="1, 2, 3, 4, 5 or all")
    c.add_argument(
        "dir",
        nargs="?",
        default=".",
        metavar="DIR",
        help="the folder with your value.py and mlp.py (default: .)",
    )
    c.add_argument(
        "--timeout",
        type=positive_float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"time limit of each check (default: {DEFAULT_TIMEOUT:g})",
    )
    graph = c.add_mutually_exclusive_group()
    graph.add_argument(
        "--graph",
        default=None,
        metavar="FILE.svg",
        help=f"where to draw your graph once step 2 passes (default: DIR/{GRAPH_NAME})",
    )
    graph.add_argument("--no-graph", action="store_true", help="do not draw it")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "start":
        return _start(Path(args.dir))
    return _check(args)


def _start(folder: Path) -> int:
    try:
        written = start(folder)
    except WorkshopError as e:
        raise UsageError(str(e)) from None
    out = console()
    where = "" if folder == Path() else f" {folder}"
    out.print(Text(f"wrote {', '.join(p.name for p in written)} into {folder}"), soft_wrap=True)
    out.print("next: read WORKSHOP.md, write step 1 in value.py, then run")
    out.print(Text(f"  {PROG} workshop check 1{where}"), soft_wrap=True)
    return 0


def _check(args: argparse.Namespace) -> int:
    where = "" if Path(args.dir) == Path() else f" {args.dir}"
    folder = Path(args.dir)
    graph = None if args.no_graph else Path(args.graph or folder / GRAPH_NAME)
    if graph is not None and graph.suffix.lower() != ".svg":
        raise UsageError(f"--graph draws an SVG: give a name ending in .svg, not {graph.name}")
    try:
        reports = check_steps(args.step, folder, timeout=args.timeout, graph=graph)
    except WorkshopError as e:
        raise UsageError(str(e)) from None
    out = console()
    for report in reports:
        _show(out, report, where)
    left = [s for s in args.step if s not in {r.step for r in reports}]
    passed = all(r.passed for r in reports) and not left
    if left:
        span = f"{left[0]}" if len(left) == 1 else f"{left[0]}-{left[-1]}"
        out.print(
            Text(
                f"step{'s' if len(left) > 1 else ''} {span} not checked: step "
                f"{reports[-1].step} must pass first",
                style="yellow",
            )
        )
    elif passed and len(args.step) == len(STEPS):
        out.print(
            Text(
                "every step passes: this is your own micrograd. Run 'python mlp.py' "
                "to watch it learn.",
                style="bold green",
            )
        )
    return 0 if passed else 1


_MARK = {"pass": ("✓", "green"), "skipped": ("·", "dim")}


def _show(out: Console, report: StepReport, where: str) -> None:
    out.print(Text(f"Step {report.step}: {report.title}", style="bold"))
    skipped = [r for r in report.results if r.status == "skipped"]
    for result in report.results:
        if result.status == "skipped":
            continue
        mark, style = _MARK.get(result.status, ("✗", "red"))
        line = Text(f"  {mark} ", style=style)
        line.append(result.name)
        if result.status in ("timeout", "crash"):
            line.append(f"  ({result.status})", style=style)
        out.print(line)
        if result.got.startswith("raised NotImplementedError"):
            # The skeleton, not yet written: one line says which method and which step.
            _lines(out, [("", result.why)], "yellow")
        elif not result.passed:
            _lines(out, _details(result))
        if result.note:
            _lines(out, [("note", result.note)], "yellow")
    if skipped:
        out.print(
            Text(
                f"  · {len(skipped)} more not run ({skipped[0].why.removeprefix('not run: ')})",
                style="dim",
            )
        )
    good = sum(r.passed for r in report.results)
    if report.passed:
        out.print(Text(f"step {report.step} passes: {good} of {good} checks", style="green"))
    else:
        out.print(
            Text(f"step {report.step}: {good} of {len(report.results)} checks pass", style="red")
        )
    if report.graph is not None:
        out.print(Text(f"your graph: {report.graph} ({report.graph_note})"), soft_wrap=True)
        out.print("open it in a browser to see each node's data and grad")
    elif report.graph_note:
        out.print(Text(report.graph_note, style="yellow"))
    if report.passed and report.step + 1 in STEPS:
        after = report.step + 1
        out.print(
            Text(f"next: step {after}, {STEPS[after]}: {PROG} workshop check {after}{where}"),
            soft_wrap=True,
        )
    out.print()


def _details(result: CheckResult) -> list[tuple[str, str]]:
    return [
        ("tried", result.tried),
        ("got", result.got),
        ("expected", result.expected),
        ("where", result.where),
        ("why", result.why),
        ("hint", result.hint),
        ("printed", result.output.rstrip()),
    ]


def _lines(out: Console, rows: list[tuple[str, str]], style: str = "") -> None:
    """Rows of `name  text`, indented, the text wrapped to the terminal under itself, and no
    space at the end of any line (rich's tables pad their cells)."""
    width = max(out.width - 16, 30)
    for name, text in rows:
        if not text:
            continue
        lead = f"    {name:<9} " if name else "    "
        for k, chunk in enumerate(_wrap(text, width)):
            prefix = lead if k == 0 else " " * len(lead)
            line = Text(prefix, style="dim")
            line.append(chunk, style=style)
            out.print(line, soft_wrap=True)


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters, broken at spaces where possible (code in a hint
    is long; a word longer than the width is cut)."""
    lines: list[str] = []
    for part in text.splitlines() or [""]:
        lines += textwrap.wrap(part, width, break_long_words=True, break_on_hyphens=False) or [""]
    return [line.rstrip() for line in lines]
