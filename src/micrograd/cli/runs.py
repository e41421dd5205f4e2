"""Run folders: each run is written whole into a fresh temporary folder beside its target and
then renamed into place in one step, so a folder never holds half a run or parts of two.

A rename onto a folder that already holds files fails, which makes the placement an exclusive
create: two runs aiming at the same folder never interleave. An explicit `--out` never moves: the
run that comes second is refused as it would be had it started later (or, with `--force`, moves
the older run aside first). The default folder takes the next free name (`NAME-2`, `NAME-3`,
...), chosen before the run is written so that its files carry the name of the folder they end
up in (`save_run`).
A temporary folder is removed on every exit path; those left by a killed process (their names
carry its process id) are swept away by the next run in the same parent folder.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import re
import secrets
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from ..files import process_alive
from .arguments import UsageError
from .output import make_folder

__all__ = [
    "RUN_FILES",
    "Held",
    "check_target",
    "interruptible",
    "save_run",
    "sweep_stale",
]

T = TypeVar("T")

# Every file a run or a comparison writes, and `micrograd export` adds beside a model:
# --force replaces only folders holding nothing else.
RUN_FILES = frozenset(
    {
        "model.json",
        "run.json",
        "curves.png",
        "decision_boundary.png",
        "fit.png",
        "confusion_matrix.png",
        "misclassified.png",
        "compare.json",
        "compare.png",
        "model.onnx",
        "model.pt2",
    }
)
_TEMPORARY = re.compile(r"^\..+\.(?:run|old)-(\d+)-[0-9a-f]{12}\.tmp$")
_TAKEN = (errno.EEXIST, errno.ENOTEMPTY)


def _temporary(target: Path, kind: str) -> Path:
    return target.parent / f".{target.name}.{kind}-{os.getpid()}-{secrets.token_hex(6)}.tmp"


def sweep_stale(parent: Path) -> None:
    """Remove the temporary run folders in `parent` whose process no longer runs."""
    with contextlib.suppress(OSError):
        for entry in parent.iterdir():
            match = _TEMPORARY.match(entry.name)
            stale = match is not None and not process_alive(int(match.group(1)))
            if stale and entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)


def _holds_only_a_run(folder: Path) -> bool:
    return all(entry.name in RUN_FILES and entry.is_file() for entry in folder.iterdir())


def check_target(target: Path, flag: str, *, numbered: bool, force: bool) -> None:
    """Refuse, before any work, a target the run could not be written to."""
    if str(target) == "" or target.name in ("", ".", ".."):
        raise UsageError(f"{flag} {str(target)!r} names no folder: expected e.g. {flag} runs/mine")
    if target.exists() or target.is_symlink():
        if not target.is_dir():
            raise UsageError(f"{flag} {target} is a file: expected a folder to write the run into")
        if target.resolve() in (Path.cwd().resolve(), *Path.cwd().resolve().parents):
            raise UsageError(
                f"{flag} {target} is the current folder or holds it: name a new folder for the "
                f"run, e.g. {flag} runs/mine"
            )
        empty = not any(target.iterdir())
        if not empty and not numbered and not force:
            raise UsageError(_taken(target, flag))
        if not empty and force and not _holds_only_a_run(target):
            raise UsageError(
                f"{flag} {target} holds files that are not a micrograd run; --force replaces only "
                "a run's own files: choose another folder"
            )


def _taken(target: Path, flag: str) -> str:
    return (
        f"{flag} {target} already holds files: choose another folder, or add --force to replace "
        "the run in it"
    )


class Held:
    """Whether Ctrl-C (or SIGTERM) came while it was held back."""

    pressed = False


@contextlib.contextmanager
def _on_interrupt(handler: Callable[[int, object], None]) -> Iterator[None]:
    """Ctrl-C and SIGTERM go to `handler` while the block runs (in the main thread: only it
    receives signals; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)


@contextlib.contextmanager
def interrupts_held(held: Held | None = None) -> Iterator[Held]:
    """Hold back Ctrl-C and SIGTERM while the block runs, noting them in `held` (a new one if
    not given) instead: writing and placing a finished run is quick and must not be cut in
    half."""
    held = Held() if held is None else held

    def note(signum: int, frame: object) -> None:
        held.pressed = True

    with _on_interrupt(note):
        yield held


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Inside `interrupts_held`, let Ctrl-C and SIGTERM stop this block again, as
    KeyboardInterrupt: a long part of a saved run (drawing its pictures) that may be skipped,
    while the parts before and after it stay held back."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    with _on_interrupt(stop):
        yield


@contextlib.contextmanager
def staging(target: Path) -> Iterator[Path]:
    """A fresh, empty temporary folder beside `target` to write the run into; removed when the
    block ends (by then `place` has renamed it into place, or the run is abandoned)."""
    make_folder(target.parent)
    sweep_stale(target.parent)
    while True:
        folder = _temporary(target, "run")
        try:
            folder.mkdir()
            break
        except FileExistsError:
            continue
        except OSError as e:
            raise OSError(e.errno, e.strerror, str(target)) from None
    try:
        yield folder
    except OSError as e:
        raise _retold(e, folder, target) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _retold(error: OSError, folder: Path, target: Path) -> OSError:
    """`error` about a file in the temporary `folder` told about the same file in `target`:
    the user never sees a temporary name."""
    if error.filename is None or error.errno is None:
        return error
    path = Path(error.filename)
    if path != folder and folder not in path.parents:
        return error
    return OSError(error.errno, error.strerror, str(target / path.relative_to(folder)))


def _rename(staged: Path, dest: Path) -> bool:
    """Rename `staged` to `dest`; False when `dest` already holds files."""
    try:
        os.rename(staged, dest)
    except OSError as e:
        if e.errno in _TAKEN:
            return False
        raise OSError(e.errno, e.strerror, str(dest)) from None
    return True


def place(staged: Path, target: Path, *, force: bool) -> Path:
    """Rename the `staged` folder to `target` and return it.

    `force`: an older run at `target` is moved aside and removed. Otherwise, when `target`
    holds files (another run took it since `check_target`), the run is refused with
    `UsageError`, as `check_target` would have refused it.
    """
    if force:
        while not _rename(staged, target):  # a run placed meanwhile is moved aside in turn
            old = _temporary(target, "old")
            with contextlib.suppress(FileNotFoundError):
                os.rename(target, old)
            shutil.rmtree(old, ignore_errors=True)
        return target
    if _rename(staged, target):
        return target
    raise UsageError(_taken(target, "--out"))


def _numbered(target: Path, n: int) -> Path:
    return target if n == 1 else target.with_name(f"{target.name}-{n}")


def _free(target: Path) -> Path:
    """The first of `target`, `target-2`, ... that is missing or an empty folder."""
    for n in itertools.count(1):
        dest = _numbered(target, n)
        if not (dest.exists() or dest.is_symlink()):
            return dest
        # A rename replaces an empty folder, on POSIX only.
        with contextlib.suppress(OSError):
            if (
                os.name == "posix"
                and dest.is_dir()
                and not dest.is_symlink()
                and not any(dest.iterdir())
            ):
                return dest
    raise AssertionError("unreachable")  # pragma: no cover


def save_run(
    target: Path,
    write: Callable[[Path, str], T],
    *,
    numbered: bool,
    force: bool,
    placing: Held | None = None,
) -> tuple[Path, T]:
    """Write a run with `write(folder, name)` into a staging folder and place it (see `place`);
    return where it went and what `write` returned.

    `name` is the name of the folder the run ends up in, for its files to carry: a `numbered`
    run's folder is chosen before it is written, and should another run take that name first,
    the run is written again under the next free one. An explicit target never moves.
    Ctrl-C and SIGTERM are held back throughout, noted in `placing`, except where `write` lets
    them through (`interruptible`): a run once written is placed, never lost half-way.
    """
    while True:
        dest = _free(target) if numbered and not force else target
        with interrupts_held(placing), staging(dest) as folder:
            written = write(folder, dest.name)
            if force or not numbered:
                return place(folder, dest, force=force), written
            if _rename(folder, dest):
                return dest, written
