"""The command line's argument types and parser: what a typed value must look like.

Each type turns one command-line string into a value or raises `argparse.ArgumentTypeError`
saying what was expected; `Parser` turns argparse's errors into one line. Prefix matching is off
on every parser (`allow_abbrev=False`): `--epoch 10` is an error, not `--epochs 10`.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

__all__ = [
    "PROG",
    "Formatter",
    "Parser",
    "UsageError",
    "add_command",
    "add_output_options",
    "add_workers_option",
    "attach_negative_values",
    "count",
    "file_problem",
    "fraction",
    "layers",
    "non_negative_float",
    "non_negative_int",
    "number",
    "paragraph",
    "positive_float",
    "positive_int",
    "sample",
    "standardize",
]

PROG = "micrograd"
_T = TypeVar("_T")


def count(n: int, noun: str) -> str:
    """'1 number', '2 numbers': `n` and `noun`, in the plural unless `n` is 1."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}es" if noun.endswith("s") else f"{n} {noun}s"


class UsageError(ValueError):
    """Something the user typed does not fit: the message says what and what is expected."""


def number(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return x


def positive_float(text: str) -> float:
    x = number(text)
    if x <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return x


def non_negative_float(text: str) -> float:
    x = number(text)
    if x < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return x


def fraction(text: str) -> float:
    x = number(text)
    if not 0 <= x < 1:
        raise argparse.ArgumentTypeError(
            f"expected a fraction of the data in [0, 1), e.g. 0.2, got {text}"
        )
    return x


def _integer(text: str, minimum: int) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < minimum:
        raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {text}")
    return n


def positive_int(text: str) -> int:
    return _integer(text, 1)


def non_negative_int(text: str) -> int:
    return _integer(text, 0)


def standardize(text: str) -> bool | None:
    """'yes' -> True, 'no' -> False, 'auto' -> None (the dataset decides)."""
    choices = {"yes": True, "no": False, "auto": None}
    if text not in choices:
        raise argparse.ArgumentTypeError(f"expected yes, no or auto, got {text!r}")
    return choices[text]


def _comma_list(text: str, convert: Callable[[str], _T], item_name: str, expected: str) -> list[_T]:
    """Each comma-separated item of `text` through `convert` (which raises ValueError with what
    is wrong with that item)."""
    values = []
    for item in (item.strip() for item in text.split(",")):
        if not item:
            raise argparse.ArgumentTypeError(f"{text!r} has an empty {item_name}: {expected}")
        try:
            values.append(convert(item))
        except (ValueError, argparse.ArgumentTypeError) as e:
            raise argparse.ArgumentTypeError(f"in {text!r}, {e}: {expected}") from None
    return values


def _width(item: str) -> int:
    try:
        width = int(item)
    except ValueError:
        raise ValueError(f"{item!r} is not a whole number") from None
    if width < 1:
        raise ValueError(f"a layer needs at least one neuron, got {width}")
    return width


def layers(text: str) -> tuple[int, ...]:
    """'16,16,1' -> (16, 16, 1)."""
    expected = "expected positive layer widths separated by commas, e.g. 16,16,1"
    return tuple(_comma_list(text, _width, "width", expected))


def sample(text: str) -> list[float]:
    """'0.5,1.2' -> [0.5, 1.2]: one input sample."""
    return _comma_list(text, number, "value", "expected numbers separated by commas, e.g. 0.5,1.2")


_NUMBER = r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NEGATIVE_LIST = re.compile(rf"^-(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?:\s*,\s*{_NUMBER})*$")


def attach_negative_values(argv: list[str]) -> list[str]:
    """`--input -0.5,0.2` as `--input=-0.5,0.2`: argparse would take a value that starts with
    '-' and holds a comma for an option, and report that --input "expected one argument"."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            return out + argv[i:]
        previous = out[-1] if out else ""
        takes_value = previous.startswith("--") and "=" not in previous and previous != "--"
        if takes_value and _NEGATIVE_LIST.match(arg):
            out[-1] = f"{previous}={arg}"
        else:
            out.append(arg)
    return out


def file_problem(path: Path) -> str | None:
    """Why `path` cannot be read as a data or model file, or None when it can."""
    if path.is_dir():
        return "is a folder"
    if not path.exists():
        return "does not exist"
    if not path.is_file():
        return "is not a regular file (a device or a pipe)"
    return None


class Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line and no prefix matching of long options."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


class Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        width = min(shutil.get_terminal_size().columns, 110)
        super().__init__(prog, max_help_position=30, width=width)


def paragraph(text: str) -> str:
    return textwrap.fill(text, 88)


def add_command(
    commands: Any, name: str, help: str, description: str, examples: str
) -> argparse.ArgumentParser:
    """A subcommand's parser: `help` in the list of commands, `description` atop its --help,
    `examples` (starting "examples:") at its end."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=help,
        description=paragraph(description),
        epilog=examples,
        formatter_class=Formatter,
    )
    return parser


def add_workers_option(group: Any) -> None:
    """Add --workers N, the local processes that train many runs, to a parser or group."""
    group.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="N",
        help="local worker processes to train in; 1 trains here, serially (default: one per "
        f"CPU core, {os.cpu_count() or 1} on this machine)",
    )


def add_output_options(parser: argparse.ArgumentParser, out_default: str) -> None:
    group = parser.add_argument_group("output")
    group.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="a new folder for the files; a DIR that already holds files is refused, and "
        f"never overwritten, unless --force (default: {out_default}, or the same name with "
        "-2, -3, ... appended when that folder already holds a run)",
    )
    group.add_argument(
        "--force",
        action="store_true",
        help="replace the run already in --out DIR (only a folder holding nothing but a "
        "micrograd run's files) (default: never replace a run)",
    )
    group.add_argument(
        "--no-plots", action="store_true", help="skip the PNG pictures (default: draw them)"
    )
    group.add_argument(
        "--quiet",
        action="store_true",
        help="print nothing but errors (default: progress bar and summary)",
    )
