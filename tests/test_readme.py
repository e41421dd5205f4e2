"""The README's Python snippets print what the README says they print: the lines marked `#> `
after a snippet, and the values after `# prints` on a line of it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def expected_output(block: str) -> list[str] | None:
    shown = [line[3:] for line in block.splitlines() if line.startswith("#> ")]
    inline = re.findall(r"# prints (\S+?),", block)
    return shown or inline or None


def test_the_readme_shows_what_its_snippets_print() -> None:
    assert sum(expected_output(b) is not None for b in BLOCKS) >= 3


@pytest.mark.parametrize("block", BLOCKS, ids=[f"snippet{i + 1}" for i in range(len(BLOCKS))])
def test_readme_snippet_prints_what_it_says(block: str) -> None:
    expected = expected_output(block)
    if expected is None:
        # It reads files that the README's commands write first: it must at least be Python.
        compile(block, "README.md", "exec")
        return
    done = subprocess.run(
        [sys.executable, "-c", block], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == expected
