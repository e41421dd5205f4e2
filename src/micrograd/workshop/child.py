"""The child process of the workshop's runner: it runs the learner's code, one request at a time.

It reads JSON requests on standard input (load the learner's files, run one check, draw the
graph) and answers each on standard output. The learner's code never sees those streams: its
prints are collected per check, and `input()` meets the end of a file. Every outcome becomes a
`CheckResult`; an exception is reported with the line of the learner's file it came from.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import linecache
import os
import re
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

from .base import METHOD_STEP, Check, CheckResult, Failed
from .catalog import checks_for
from .probe import Probe

__all__ = ["main"]


class _Session:
    """The child's state: the learner's modules and the output of the current check."""

    def __init__(self, send: Any) -> None:
        self.send = send
        self.folder = Path()
        self.modules: dict[str, ModuleType] = {}

    def load(self, folder: str, files: list[str]) -> dict[str, Any]:
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
                result = CheckResult(
                    chk.step, chk.title, "pass", tried=probe.tried, note=probe.note
                )
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
        elif isinstance(e, RecursionError) and _calls_backward(e, self.folder):
            why = (
                "backward() calls node.backward() on the nodes of the graph: that starts a whole "
                "new backward pass from each node, itself included, again and again; each node's "
                "own rule is node._backward()"
            )
            hint = "for node in reversed(topo): node._backward()"
        elif isinstance(e, RecursionError):
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


def _calls_backward(e: BaseException, folder: Path) -> bool:
    """Did the learner's backward() call .backward() on a node, on the way to `e`?"""
    return any(
        code.co_name == "backward" and ".backward()" in linecache.getline(code.co_filename, line)
        for code, line in _their_frames(e, folder)
    )


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


def _their_frames(e: BaseException, folder: Path) -> Iterator[tuple[CodeType, int]]:
    """The code and line of each frame in the learner's files on `e`'s way, outermost first."""
    for frame, lineno in traceback.walk_tb(e.__traceback__):
        if Path(frame.f_code.co_filename).parent == folder:
            yield frame.f_code, lineno


def _their_frame(e: BaseException, folder: Path) -> tuple[str, int, str] | None:
    """Where in the learner's files `e` was raised: ("value.py, line 7, in f: text", 7, f)."""
    found = None
    for code, lineno in _their_frames(e, folder):
        found = (code.co_filename, lineno, code.co_qualname)
    if found is None:
        return None
    filename, lineno, name = found
    text = linecache.getline(filename, lineno).strip()
    return f"{Path(filename).name}, line {lineno}, in {name}: {text}", lineno, name


def main() -> None:
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
