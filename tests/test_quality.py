"""The code stays clean: ruff (lint and format) and mypy, as configured in pyproject.toml,
report nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "command",
    [["ruff", "check", "."], ["ruff", "format", "--check", "."], [sys.executable, "-m", "mypy"]],
    ids=["ruff", "ruff-format", "mypy"],
)
def test_linters_are_clean(command: list[str]) -> None:
    tool = "mypy" if command[0] == sys.executable else command[0]
    if command[0] != sys.executable and shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (it comes with the test extra)")
    pytest.importorskip(tool, reason=f"{tool} is not installed (it comes with the test extra)")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
