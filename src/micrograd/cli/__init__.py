"""The `micrograd` command: train, compare, predict, graph, export, the workshop and the
playground.

    micrograd train                              # two moons, the original demo's network
    micrograd compare --activation tanh relu     # which is better, over 10 seeds?
    micrograd sweep --grid activation=tanh,relu lr=0.03,0.3,1    # a grid, resumable
    micrograd predict --model runs/moons-relu-seed0/model.json --input 0.5,0.2
    micrograd graph "(a*b + c).tanh()" a=2 b=-3 c=10
    micrograd export runs/moons-relu-seed0/model.json --format onnx   # for PyTorch or ONNX
    micrograd workshop check 2                   # a learner's own micrograd, step 2 checked
    micrograd playground --open                  # train in a web page, click a point's graph

A thin layer over the library: `train.train` and `train.evaluate` do the work, `plots` draws,
`serialization` saves, `viz` draws graphs. This package parses arguments, checks what the user
typed against the data before anything runs, shows progress through a `train.Callback`, and
turns the library's precise exceptions into one line on stderr with exit status 2.

Each subcommand is a module with `register(commands)`, which adds its parser to the
subparsers and sets `run`, and `run(args) -> int`. A new subcommand is one import and one entry
in `COMMANDS`.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import ModuleType

from .. import __version__
from ..csvdata import TargetError
from ..data import DataError
from ..expression import ExpressionError
from ..model_file import ModelFileError
from ..optional import MissingDependencyError
from ..train import TrainingDiverged
from ..viz import GraphTooLargeError
from . import compare, export, graph, playground, predict, sweep, train, workshop
from .arguments import PROG, Formatter, Parser, UsageError, attach_negative_values
from .output import ProgressCallback, fail

__all__ = ["COMMANDS", "ProgressCallback", "UsageError", "build_parser", "main"]

# The subcommands, in the order `micrograd --help` lists them.
COMMANDS: tuple[ModuleType, ...] = (
    train,
    compare,
    sweep,
    predict,
    graph,
    export,
    workshop,
    playground,
)

_EXAMPLES = f"""\
examples:
  {PROG} train                                  two moons, the original demo's network
  {PROG} train --dataset yinyang --layers 16,16,3 --optimizer adam --lr 0.01 --epochs 200
  {PROG} compare --activation tanh relu         tanh or ReLU? 10 seeds each
  {PROG} sweep --grid activation=tanh,relu lr=0.03,0.3,1 --cluster local:2
  {PROG} predict --model runs/moons-relu-seed0/model.json --input 0.5,0.2
  {PROG} graph "(a*b + c).tanh()" a=2 b=-3 c=10
  {PROG} export runs/moons-relu-seed0/model.json --format onnx
  {PROG} workshop start my-micrograd            build your own micrograd, checked step by step
  {PROG} playground --open                      train in a web page, click a point for its graph

Run '{PROG} COMMAND --help' for each command's options and their defaults.
"""


def build_parser() -> argparse.ArgumentParser:
    """The `micrograd` argument parser with every subcommand in `COMMANDS`."""
    parser = Parser(
        prog=PROG,
        description="micrograd: train, compare, use and draw tiny neural networks built on a "
        "scalar autograd engine.",
        epilog=_EXAMPLES,
        formatter_class=Formatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(commands)
    return parser


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """`kill PID` stops a run as Ctrl-C does, so that it saves what it has and cleans up."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (argparse's own errors exit with 2)."""
    parser = build_parser()
    args = parser.parse_args(attach_negative_values(sys.argv[1:] if argv is None else argv))
    if args.command is None:
        parser.print_help()
        return 2
    try:
        with _sigterm_as_interrupt():
            result: int = args.run(args)
        return result
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except TargetError as e:  # the task asked for as this command asks for it: --task
        return fail(e.spelled(lambda task: f"--task {task}"))
    except (UsageError, DataError, ModelFileError, ExpressionError, GraphTooLargeError) as e:
        return fail(str(e))
    except (TrainingDiverged, MissingDependencyError) as e:
        return fail(str(e))
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        return fail(f"{where}{e.strerror or e}")
