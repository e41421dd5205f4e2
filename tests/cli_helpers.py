"""Shared helpers of the `micrograd` command's tests: running it in-process or installed, and
checking that an error is one line with exit status 2."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from micrograd import cli

Capsys = pytest.CaptureFixture[str]


def run(argv: list[str]) -> int:
    """main(argv), with argparse's SystemExit turned into its status."""
    try:
        return cli.main(argv)
    except SystemExit as e:
        return int(e.code or 0)


def assert_error(argv: list[str], capsys: Capsys, *needles: str) -> str:
    """The command fails with exit status 2 and one line on stderr naming the problem."""
    status = run(argv)
    out, err = capsys.readouterr()
    assert status == 2, (argv, status, out, err)
    return error_line(err, *needles)


def one_line(err: str) -> str:
    """The command's stderr is one line "micrograd: ...", no traceback; that line."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("micrograd: "), err
    assert "Traceback" not in err
    return lines[0]


def error_line(err: str, *needles: str) -> str:
    """The command's stderr is one line "micrograd: error: ..." holding every needle; that line."""
    line = one_line(err)
    assert line.startswith("micrograd: error: "), line
    for needle in needles:
        assert needle in line, (needle, line)
    return line


def one_error(done: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The installed command (`installed`) failed with exit status 2 and one stderr line naming
    the problem, no traceback; that line."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    return error_line(done.stderr, *needles)


def read_json(path: Path) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{path} holds {constant}, which is not JSON")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def command() -> str:
    """The installed `micrograd` command (the test skips when it is not installed)."""
    exe = shutil.which("micrograd")
    if exe is None:
        pytest.skip("the micrograd command is not on PATH (install the package: pip install -e .)")
    return exe


def command_env() -> dict[str, str]:
    """The environment without what would make rich colour or resize the output."""
    hidden = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env["PYTHONUNBUFFERED"] = "1"  # each line reaches a test reading the pipe as it is printed
    return env


def installed(
    args: list[str], cwd: Path, *, timeout: float = 300, **popen: Any
) -> subprocess.CompletedProcess[str]:
    """The installed command run with `args` in `cwd`, its output captured as text; it never
    raises on a failing status (the test looks at it). `popen` adds or replaces subprocess.run's
    arguments (env, preexec_fn, ...)."""
    options: dict[str, Any] = {"capture_output": True, "text": True, "env": command_env()}
    return subprocess.run(
        [command(), *args], cwd=cwd, timeout=timeout, check=False, **{**options, **popen}
    )


def refuse_new_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file creation fails as in a folder without write permission (even for root)."""
    real_open = os.open

    def refuse(file: Any, flags: int, *args: Any) -> int:
        if flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(file))
        return real_open(file, flags, *args)

    monkeypatch.setattr(os, "open", refuse)


# Run the command in a fresh interpreter in which importing each module of `sys.argv[1]` (a
# comma-separated list) fails, as it does where it was never installed; print, after the
# command's own output, the third-party top-level modules it loaded.
_WITHOUT = """
import sys
for name in filter(None, sys.argv[1].split(",")):
    sys.modules[name] = None
before = set(sys.modules)
from micrograd.cli import main
status = main(sys.argv[2:])
loaded = {m.split(".")[0] for m in set(sys.modules) - before if sys.modules.get(m) is not None}
print("LOADED", *sorted(loaded - set(sys.stdlib_module_names) - {"micrograd"}))
sys.exit(status)
"""


def run_without(
    missing: tuple[str, ...], argv: list[str], cwd: Path, timeout: float = 300
) -> tuple[int, str, str, set[str]]:
    """`micrograd ARGV` with the `missing` modules impossible to import: (exit status, stdout
    without the last line, stderr, the third-party top-level modules loaded)."""
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT, ",".join(missing), *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=command_env(),
        timeout=timeout,
        check=False,
    )
    out, _, last = done.stdout.rstrip("\n").rpartition("\n")
    if not last.startswith("LOADED"):
        out, last = done.stdout, "LOADED"
    return done.returncode, out, done.stderr, set(last.split()[1:])


def assert_missing_extra(
    result: tuple[int, str, str, set[str]], starts: str, extra: str, folder: Path
) -> None:
    """A command run without an extra (`run_without`) said so in one stderr line starting with
    `starts` and naming `pip install "micrograd[extra]"`, exited 2 and wrote nothing in `folder`."""
    status, out, err, _ = result
    assert status == 2, (out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(starts)
    assert f'pip install "micrograd[{extra}]"' in lines[0]
    assert list(folder.iterdir()) == []
