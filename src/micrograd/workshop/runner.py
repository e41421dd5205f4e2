"""Running the checks on the learner's code, in a separate Python process with a time limit.

The learner's `value.py` and `mlp.py` may loop forever, recurse without end, exit, or fail to
parse. So they run in a child process that answers one request at a time over its standard
input and output (JSON lines): load the files, run one check, draw the graph. The parent gives
each request a time limit; a child that overruns is killed, and one that dies is reported with
what it was trying. Whatever happens, every check ends as a `CheckResult`. This module is the
parent's side; `child.py` is the child's.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .base import STEPS, Check, CheckResult
from .catalog import checks_for

__all__ = ["DEFAULT_TIMEOUT", "StepReport", "WorkshopError", "check_steps"]

DEFAULT_TIMEOUT = 5.0
STARTUP = 60.0  # seconds for a fresh Python to import micrograd, however busy the machine
FILES = {1: ("value",), 2: ("value",), 3: ("value",), 4: ("value", "mlp"), 5: ("value", "mlp")}


class WorkshopError(Exception):
    """A usage problem: no such folder, or a file the step needs is missing."""


@dataclass
class StepReport:
    """One step's results, and the picture of the learner's graph when one was drawn."""

    step: int
    results: list[CheckResult] = field(default_factory=list)
    graph: Path | None = None
    graph_note: str = ""

    @property
    def title(self) -> str:
        return STEPS[self.step]

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)


def check_steps(
    steps: Sequence[int],
    folder: str | os.PathLike[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    graph: str | os.PathLike[str] | None = None,
    stop_at_failure: bool = True,
) -> list[StepReport]:
    """Run the checks of `steps` on the learner's files in `folder`; one report per step run.

    With `stop_at_failure`, steps after the first failing one are not run (they build on it).
    `graph`, when given, is where to save the SVG of the learner's graph once step 2 passes.
    """
    where = Path(folder)
    if not where.is_dir():
        raise WorkshopError(f"no folder {where}: give the folder that holds your value.py")
    for step in steps:
        if step not in STEPS:
            raise WorkshopError(f"the workshop has steps 1-{len(STEPS)}, not {step}")
        for name in FILES[step]:
            if not (where / f"{name}.py").is_file():
                raise WorkshopError(
                    f"no {name}.py in {where}: step {step} checks it; "
                    f"'micrograd workshop start {where}' writes the starting files"
                )
    if timeout <= 0:
        raise WorkshopError(f"the time limit must be positive, got {timeout:g} s")
    reports = []
    child: _Child | None = None
    try:
        for step in steps:
            report, child = _run_step(step, where.resolve(), timeout, child)
            if step == 2 and report.passed and graph is not None and child is not None:
                _draw(report, child, Path(graph), timeout)
            reports.append(report)
            if stop_at_failure and not report.passed:
                break
    finally:
        if child is not None:
            child.close()
    return reports


def _run_step(
    step: int, folder: Path, timeout: float, child: _Child | None
) -> tuple[StepReport, _Child | None]:
    report = StepReport(step)
    checks = checks_for(step)
    for i, chk in enumerate(checks):
        if child is None or child.files != FILES[step]:
            if child is not None:
                child.close()
            child = _Child(folder, FILES[step])
            failed = child.load(timeout)
            if failed is not None:
                report.results.append(failed)
                report.results += _skipped(checks[i:], f"not run: {failed.name} failed")
                child.close()
                return report, None
        result = child.run(chk, timeout)
        report.results.append(result)
        if result.status in ("timeout", "crash"):
            child = None  # it was killed or is dead
            report.results += _skipped(checks[i + 1 :], "not run: the check above did not finish")
            break
    return report, child


def _skipped(checks: Sequence[Check], why: str) -> list[CheckResult]:
    return [CheckResult(c.step, c.title, "skipped", why=why) for c in checks]


def _draw(report: StepReport, child: _Child, path: Path, timeout: float) -> None:
    answer = child.ask({"op": "graph", "path": str(path.resolve())}, timeout)
    if answer is None or "error" in answer:
        why = "it took too long" if answer is None else answer["error"]
        report.graph_note = f"could not draw your graph: {why}"
    else:
        report.graph = path
        report.graph_note = answer["note"]


# -- the parent's side ------------------------------------------------------------------------


class _Child:
    """A Python process running the learner's code, one request at a time."""

    def __init__(self, folder: Path, files: tuple[str, ...]) -> None:
        self.folder = folder
        self.files = files
        self.tried = ""
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        code = "from micrograd.workshop.child import main; main()"
        env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONDONTWRITEBYTECODE": "1"}
        # -P: the learner's folder (the working directory) is not put ahead of micrograd's own.
        self._proc = subprocess.Popen(
            [sys.executable, "-P", "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=folder,
            env=env,
            text=True,
            encoding="utf-8",
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(self._proc.stdout,), daemon=True).start()

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """The child's answer; None when it overran `timeout` (it is then killed); a dict with
        "died" when it exited without answering."""
        self.tried = ""
        try:
            assert self._proc.stdin is not None
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
        except OSError:
            return self._died()
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(deadline - time.monotonic(), 0.0))
            except queue.Empty:
                self.kill()
                return None
            if line is None:
                return self._died()
            message: dict[str, Any] = json.loads(line)
            if "tried" in message:
                self.tried = message["tried"]
                continue
            return message

    def _died(self) -> dict[str, Any]:
        try:
            code = self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = None
        self._stderr.seek(0)
        text = self._stderr.read().decode("utf-8", "replace").strip()
        return {"died": True, "code": code, "stderr": text[-600:]}

    def load(self, timeout: float) -> CheckResult | None:
        """Import the learner's files; a CheckResult saying what went wrong, or None."""
        step = 1 if self.files == ("value",) else 4
        # Python's own start is not the learner's time: wait for the child to say it is ready.
        try:
            first = self._lines.get(timeout=STARTUP)
        except queue.Empty:
            self.kill()
            first = None
        if first is None:
            return _crash(step, "your files load", "starting Python", self._died())
        answer = self.ask({"op": "load", "folder": str(self.folder), "files": self.files}, timeout)
        if answer is None:
            return CheckResult(
                step,
                "your files load",
                "timeout",
                tried=f"import {', '.join(self.files)}",
                why=f"importing your files was still running after {timeout:g} s: code at the "
                "top level of the file (outside any def) runs on import",
                hint="move experiments under `if __name__ == '__main__':`",
            )
        if "died" in answer:
            return _crash(step, "your files load", f"import {', '.join(self.files)}", answer)
        if answer.get("result") is not None:
            return CheckResult.from_dict(answer["result"])
        return None

    def run(self, chk: Check, timeout: float) -> CheckResult:
        answer = self.ask({"op": "run", "key": chk.key}, timeout)
        if answer is None:
            return CheckResult(
                chk.step,
                chk.title,
                "timeout",
                tried=self.tried,
                got=f"still running after {timeout:g} s, so it was stopped",
                why="an endless loop, or a walk over the graph that never runs out of nodes "
                "(a node revisited again and again)",
                hint="look at the loops in the code this check calls: does each one move on, "
                "and is every visited node remembered?",
            )
        if "died" in answer:
            return _crash(chk.step, chk.title, self.tried, answer)
        return CheckResult.from_dict(answer["result"])

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self._proc.kill()
        self._proc.wait()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            assert self._proc.stdin is not None
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
        self._stderr.close()


def _crash(step: int, name: str, tried: str, answer: dict[str, Any]) -> CheckResult:
    code = answer.get("code")
    last = answer.get("stderr", "").splitlines()[-1:] or [""]
    return CheckResult(
        step,
        name,
        "crash",
        tried=tried,
        got=f"the Python running your code stopped (exit status {code})"
        + (f": {last[0]}" if last[0] else ""),
        why="something ended the whole process: os._exit(), a crash inside Python, or running "
        "out of memory",
        hint="run the lines under 'tried' in a Python shell of your own to see what happens",
    )
