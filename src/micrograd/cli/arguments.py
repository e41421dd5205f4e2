"""The command line's argument types and parser: what a typed value must look like.

Each type turns one command-line string into a value or raises `argparse.ArgumentTypeError`
saying what was expected; `Parser` turns argparse's errors into one line. Prefix matching is off
on every parser (`allow_abbrev=False`): `--epoch 10` is an error, not `--epochs 10`.
"""

from __future__ import annotations

import argparse
import difflib
import math
import os
import re
import shutil
import sys
import textwrap
from argparse import PARSER
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn, TypeVar, overload

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
_N = TypeVar("_N")


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


_UNSIGNED = r"(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NUMBER = rf"-?{_UNSIGNED}"
_NEGATIVE = re.compile(rf"^-{_UNSIGNED}$")  # a negative number, never an option
_NEGATIVE_LIST = re.compile(rf"^-{_UNSIGNED}(?:\s*,\s*{_NUMBER})*$")


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
    """argparse, with its errors as one line and no prefix matching of long options.

    Each (sub)command's parser refuses what it does not know itself, so the error points to
    that command's --help; and an unknown option is named as such ("unknown option --mod, did
    you mean --model?") before whatever argparse would say next: a required option missing
    (`predict --mod m.json`), or the option's value taken for a command (`sweep --gri lr=1`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)
        self._parsing: list[str] = []

    # typeshed's signatures, so that the one below overrides them all.
    @overload
    def parse_known_args(
        self, args: Iterable[str] | None = None, namespace: None = None
    ) -> tuple[argparse.Namespace, list[str]]: ...
    @overload
    def parse_known_args(
        self, args: Iterable[str] | None, namespace: _N
    ) -> tuple[_N, list[str]]: ...
    @overload
    def parse_known_args(self, *, namespace: _N) -> tuple[_N, list[str]]: ...

    def parse_known_args(
        self, args: Iterable[str] | None = None, namespace: Any = None
    ) -> tuple[Any, list[str]]:
        self._parsing = list(sys.argv[1:] if args is None else args)
        namespace, extras = super().parse_known_args(self._parsing, namespace)
        if extras:  # a subcommand's parser does not leave them to the top level's error
            words = " ".join(repr(word) for word in extras)
            self.error(f"unexpected argument{'s' if len(extras) > 1 else ''} {words}")
        return namespace, extras

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {self._explain(message)} (see '{self.prog} --help')\n")

    def _explain(self, message: str) -> str:
        """The message for what went wrong first: an unknown option, an unknown command."""
        unknown, command = _scan(self, self._parsing)
        if unknown:
            name = unknown[0].split("=")[0]
            options = [o for o in self._option_string_actions if o.startswith("--")]
            hint = _did_you_mean(name, options)
            values = [a for a in self._actions if not a.option_strings and a.nargs != PARSER]
            if not hint and not name.startswith("--") and values:  # graph "-a*b": a value
                hint = " (a value that starts with '-' goes after --)"
            return f"unknown option {name}{hint}"
        commands = _commands(self)
        if command is not None and commands is not None and command not in commands:
            names = list(commands)
            if len(names) == 1:
                return (
                    f"unexpected {command!r}: {self.prog} takes options, or the command {names[0]}"
                )
            return f"unknown command {command!r}{_did_you_mean(command, names)}"
        return _choice_hint(message)


# argparse's words for a value outside an option's choices
_INVALID_CHOICE = re.compile(r"invalid choice: '(?P<value>[^']*)' \(choose from (?P<choices>.*)\)$")


def _choice_hint(message: str) -> str:
    """argparse's invalid-choice message with ', did you mean X?' after the value when one
    choice is close (--dataset moonz: moons)."""
    found = _INVALID_CHOICE.search(message)
    if found is None:
        return message
    choices = re.findall(r"'([^']*)'", found["choices"])
    hint = _did_you_mean(found["value"], choices)
    at = found.start("choices") - len(" (choose from ")
    return f"{message[:at]}{hint}{message[at:]}" if hint else message


def _did_you_mean(word: str, known: list[str]) -> str:
    """', did you mean X?' for the one name `word` begins, else the closest if close."""
    starting = [name for name in known if name.startswith(word)]
    close = starting if len(starting) == 1 else difflib.get_close_matches(word, known, 1, 0.75)
    return f", did you mean {close[0]}?" if close else ""


def _commands(parser: argparse.ArgumentParser) -> dict[str, Any] | None:
    """The subcommands of `parser` by name, or None when it has none."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return None


def _scan(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[list[str], str | None]:
    """(the option-like words of `argv` that `parser` does not know, the word that names a
    subcommand or None), read as argparse reads them: a known option takes its values, an
    unknown one the words after it; a subcommand's own words are its parser's to judge."""
    known = parser._option_string_actions
    commands = _commands(parser)
    unknown: list[str] = []
    takes = 0  # how many of the next plain words are the last option's values (-1: any)
    for word in argv:
        if word == "--":
            break
        if _is_option(parser, word):
            name, eq, _ = word.partition("=")
            action = known.get(word) or known.get(name)
            if action is None:
                unknown.append(word)
                takes = 0 if eq else -1
            elif eq or action.nargs == 0:
                takes = 0
            elif isinstance(action.nargs, int):
                takes = action.nargs
            else:
                takes = -1 if action.nargs in ("+", "*", argparse.REMAINDER) else 1
        elif takes:
            takes = max(takes - 1, -1)
        elif commands is not None:
            return unknown, word  # the rest is the subcommand's
    return unknown, None


def _is_option(parser: argparse.ArgumentParser, word: str) -> bool:
    """True when argparse takes `word` for an option (known or not), not for a value."""
    if len(word) < 2 or word[0] not in parser.prefix_chars or " " in word:
        return False
    return not (_NEGATIVE.match(word) and not parser._has_negative_number_optionals)


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
