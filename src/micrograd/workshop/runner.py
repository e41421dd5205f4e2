"""Running the checks on the learner's code, in a separate Python process with a time limit.

The learner's `value.py` and `mlp.py` may loop forever, recurse without end, exit, or fail to
parse. So they run in a child process that answers one request at a time over its standard
input and output (JSON lines): load the files, run one check, draw the graph. The parent gives
each request a time limit; a child that overruns is killed, and one that dies is reported with
what it was trying. Whatever happens, every check ends as a `CheckResult`.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import IO, Any

from .base import METHOD_STEP, STEPS, Check, CheckResult, Failed, checks_for
from .probe import Probe

__all__ = ["DEFAULT_TIMEOUT", "StepReport", "WorkshopError", "check_steps", "child_main"]

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
        code = "from micrograd.workshop.runner import child_main; child_main()"
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
        deadline = _now() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(deadline - _now(), 0.0))
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


def _now() -> float:
    import time

    return time.monotonic()


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


# -- the child's side -------------------------------------------------------------------------


class _Session:
    """The child's state: the learner's modules and the output of the current check."""

    def __init__(self, send: Any) -> None:
        self.send = send
        self.folder = Path()
        self.modules: dict[str, ModuleType] = {}

    def load(self, folder: str, files: list[str]) -> dict[str, Any]:
        import importlib

        self.folder = Path(folder)
        sys.path.insert(0, folder)
        for name in files:
            step = 1 if name == "value" else 4
            try:
                with _captured():
                    self.modules[name] = importlib.import_module(name)
            except SyntaxError as e:
                line = (e.text or "").strip()
                return {
                    "result": CheckResult(
                        step,
                        f"{name}.py loads",
                        "error",
                        tried=f"import {name}",
                        got=f"SyntaxError: {e.msg}",
                        where=f"{name}.py, line {e.lineno}" + (f": {line}" if line else ""),
                        why="Python cannot read the file, so none of it can run",
                        hint="fix that line; when it looks right, look at the line before it (an "
                        "unclosed bracket is only noticed on the next line)",
                    ).to_dict()
                }
            except BaseException as e:
                return {"result": self._error(step, f"{name}.py loads", f"import {name}", e)}
        if not isinstance(getattr(self.modules["value"], "Value", None), type):
            return {
                "result": CheckResult(
                    1,
                    "value.py loads",
                    "fail",
                    tried="from value import Value",
                    got="value.py defines no class Value",
                    expected="a class Value",
                    why="every check builds Values from your class",
                    hint="keep the skeleton's `class Value:`",
                ).to_dict()
            }
        return {"result": None}

    def probe(self) -> Probe:
        value: Any = self.modules["value"]
        probe = Probe(value.Value, self.modules.get("mlp"))
        probe.on_try = lambda text: self.send({"tried": text})
        return probe

    def run(self, key: str) -> dict[str, Any]:
        step = int(key.split(".")[0])
        chk = next(c for c in checks_for(step) if c.key == key)
        probe = self.probe()
        with _captured() as out:
            try:
                chk.run(probe)
            except Failed as f:
                result = CheckResult(
                    chk.step,
                    chk.title,
                    "fail",
                    tried=probe.tried,
                    got=f.got,
                    expected=f.expected,
                    why=f.why or chk.why,
                    hint=f.hint or chk.hint,
                    output=out.getvalue()[-400:],
                )
            except BaseException as e:
                return {"result": self._error(chk.step, chk.title, probe.tried, e, chk)}
            else:
                result = CheckResult(chk.step, chk.title, "pass", tried=probe.tried)
        return {"result": result.to_dict()}

    def _error(
        self, step: int, name: str, tried: str, e: BaseException, chk: Check | None = None
    ) -> dict[str, Any]:
        frame = _their_frame(e, self.folder)
        why = chk.why if chk else "the file raised an exception while Python was loading it"
        hint = chk.hint if chk else "the line shown runs when the file is imported"
        if isinstance(e, NotImplementedError) and frame is not None:
            method = frame[2]
            # The skeleton's own message names the step: "step 4: write Neuron.__init__".
            said = re.match(r"step (\d)\b", str(e))
            introduced = int(said[1]) if said else METHOD_STEP.get(method.split(".")[-1], step)
            why = f"{method} still raises the skeleton's NotImplementedError: " + (
                f"step {introduced} asks you to write it"
                if introduced >= step
                else f"it is part of step {introduced}; finish that step first"
            )
            hint = f"write {method} (WORKSHOP.md, step {introduced})"
        elif isinstance(e, AttributeError) and _plain_number(e.obj):
            inside = f" in {frame[2]}" if frame else ""
            why = (
                f"a plain number ({e.obj!r}, {_article(type(e.obj).__name__)}) reached "
                f"code{inside} that expects a Value: a number has no .{e.name}"
            )
            hint = (
                "wrap plain operands first, in every operator that takes one: "
                "`other = other if isinstance(other, Value) else Value(other)`"
            )
        elif isinstance(e, AttributeError) and e.name in METHOD_STEP:
            introduced = METHOD_STEP[e.name]
            owner = type(e.obj).__name__ if e.obj is not None else "object"
            why = f"your {owner} has no {e.name}: step {introduced} introduces it"
            if introduced < step:
                why += f"; finish step {introduced} first"
        elif isinstance(e, RecursionError) and not (chk and chk.slug == "deep"):
            why = "a function kept calling itself (or two kept calling each other) until Python "
            why += "stopped it"
            hint = "look at the line shown: does it call the same operator or method again?"
        message = str(e) if str(e) else "(no message)"
        return CheckResult(
            step,
            name,
            "error",
            tried=tried,
            got=f"raised {type(e).__name__}: {message[:300]}",
            where=frame[0] if frame else "",
            why=why,
            hint=hint,
        ).to_dict()

    def graph(self, path: str) -> dict[str, Any]:
        from ..viz import draw_dot

        value: Any = self.modules["value"].Value
        with _captured():
            nodes = {}
            for name, x in (("a", 2.0), ("b", -3.0), ("c", 10.0), ("f", -2.0)):
                nodes[name] = value(x)
            nodes["e"] = nodes["a"] * nodes["b"]
            nodes["d"] = nodes["e"] + nodes["c"]
            nodes["L"] = nodes["d"] * nodes["f"]
            for name, node in nodes.items():
                with contextlib.suppress(AttributeError):
                    node.label = name
            nodes["L"].backward()
            graph = draw_dot(nodes["L"])
            graph.save(path)
        return {"note": f"L = (a*b + c) * f with your Value: {len(graph)} values"}


def _article(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def _plain_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


@contextlib.contextmanager
def _captured() -> Any:
    """Collect what the learner's code prints, instead of letting it into the protocol."""
    out = io.StringIO()
    before = sys.stdout
    sys.stdout = out
    try:
        yield out
    finally:
        sys.stdout = before


def _their_frame(e: BaseException, folder: Path) -> tuple[str, int, str] | None:
    """Where in the learner's files `e` was raised: ("value.py, line 7, in f: text", 7, f)."""
    import linecache

    found = None
    for frame, lineno in traceback.walk_tb(e.__traceback__):
        filename = frame.f_code.co_filename
        if Path(filename).parent == folder:
            found = (filename, lineno, frame.f_code.co_qualname)
    if found is None:
        return None
    filename, lineno, name = found
    text = linecache.getline(filename, lineno).strip()
    return f"{Path(filename).name}, line {lineno}, in {name}: {text}", lineno, name


def child_main() -> None:
    """The child process: answer requests from standard input until it closes."""
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    # The learner's code gets no terminal: input() sees end of file, prints are collected.
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - open for the process's life

    def send(message: dict[str, Any]) -> None:
        replies.write(json.dumps(message) + "\n")
        replies.flush()

    session = _Session(send)
    checks_for(1)  # import every check now, before the clock of the first request starts
    send({"ready": True})
    for line in requests:
        request = json.loads(line)
        op = request["op"]
        if op == "load":
            send(session.load(request["folder"], request["files"]))
        elif op == "run":
            send(session.run(request["key"]))
        elif op == "graph":
            try:
                send(session.graph(request["path"]))
            except BaseException as e:
                send({"error": f"{type(e).__name__}: {e}"})
