"""`micrograd playground`: the command serves on loopback, prints its URL, handles a taken
port, warns about other hosts, stops cleanly on Ctrl-C, and without the `playground` extra
says how to install it."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from micrograd.cli import main

# The tests that serve need the `playground` extra; the others run without it.
serves = pytest.mark.skipif(
    importlib.util.find_spec("uvicorn") is None or importlib.util.find_spec("starlette") is None,
    reason='the playground needs its extra: pip install "micrograd[playground]"',
)


def _command() -> list[str]:
    exe = shutil.which("micrograd")
    return [exe] if exe else [sys.executable, "-m", "micrograd"]


class Served:
    """`micrograd playground ...` in a subprocess, stopped with SIGINT like Ctrl-C."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [*_command(), "playground", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if "micrograd playground at" in line:
                self.url = line.split(" at ")[1].split()[0]
                return
        self.proc.kill()
        raise AssertionError(f"no URL printed: {self.lines} {self.proc.stderr.read()}")  # type: ignore[union-attr]

    def stop(self) -> tuple[int, str, str]:
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, "".join(self.lines) + out, err


@serves
def test_the_command_serves_on_loopback_and_ctrl_c_stops_it_cleanly() -> None:
    served = Served("--port", "0")
    try:
        assert served.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(served.url + "api/options", timeout=10) as answer:
            assert json.load(answer)["limits"]["samples_max"] == 2000
        with urllib.request.urlopen(served.url, timeout=10) as answer:
            assert b"micrograd playground" in answer.read()
    finally:
        code, out, err = served.stop()
    assert code == 0, err
    assert "playground stopped" in out
    assert "Traceback" not in err


@serves
def test_a_taken_port_gives_a_message_and_a_free_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        served = Served("--port", str(port))
        code, out, err = served.stop()
    assert code == 0, err
    assert f"port {port} on 127.0.0.1 is taken" in out
    assert served.url.startswith("http://127.0.0.1:") and f":{port}/" not in served.url


@serves
def test_another_host_must_be_asked_for_and_prints_a_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import micrograd.web.server as server

    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(server, "serve", lambda *a: calls.append(a) or 0)
    assert main(["playground", "--host", "0.0.0.0", "--port", "9000"]) == 0
    assert calls[0][:3] == ("0.0.0.0", 9000, False)
    assert "warning: listening on 0.0.0.0" in capsys.readouterr().err
    assert main(["playground"]) == 0
    assert calls[1][:3] == ("127.0.0.1", 8765, False)
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("port", "expected"), [("70000", "a port is 0-65535"), ("http", "expected a port number")]
)
def test_a_bad_port_is_a_usage_error(
    port: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["playground", "--port", port])
    assert ended.value.code == 2
    assert expected in capsys.readouterr().err


@serves
def test_an_address_it_cannot_listen_on_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["playground", "--host", "no-such-host.invalid", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "cannot listen on no-such-host.invalid:0" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 2  # warning + error


@serves
def test_open_opens_the_page_once_the_server_is_up(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    import micrograd.web.server as server

    opened: list[str] = []
    seen = threading.Event()

    def fake_run(self: Any, sockets: Any = None) -> None:
        self.started = True
        seen.wait(5)

    def fake_open(url: str) -> bool:
        opened.append(url)
        seen.set()
        return True

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    monkeypatch.setattr(server.webbrowser, "open", fake_open)
    lines: list[str] = []
    assert server.serve("127.0.0.1", 0, True, lines.append) == 0
    assert opened and opened[0].startswith("http://127.0.0.1:")
    assert f"micrograd playground at {opened[0]}" in lines[0]


def test_other_commands_do_not_import_the_web_packages() -> None:
    code = (
        "import sys, micrograd.cli as c; c.build_parser(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'uvicorn', 'starlette', 'pydantic', 'anyio', 'websockets'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_page_ships_inside_the_package() -> None:
    import micrograd.web

    static = Path(micrograd.web.__file__).parent / "static"
    assert {p.name for p in static.iterdir()} >= {"index.html", "app.js", "style.css"}


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        *(
            (
                name,
                f"micrograd playground needs {name}, which is not installed: pip install "
                f'"micrograd[playground]"',
            )
            for name in ("starlette", "uvicorn", "websockets", "pydantic")
        ),
        # A package of the extra that is there but broken (one of its own imports fails).
        ("anyio", "micrograd playground needs anyio"),
    ],
)
def test_without_the_playground_extra_the_command_says_how_to_install_it(
    module: str, expected: str
) -> None:
    code = (
        f"import sys; sys.modules[{module!r}] = None; import micrograd.cli as c; "
        "sys.exit(c.main(['playground', '--port', '0', '--host', '0.0.0.0']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""  # no server started, no URL printed
    assert done.stderr.splitlines() == [done.stderr.strip()]  # one line: no warning, no traceback
    assert done.stderr.startswith("micrograd: error: ") and expected in done.stderr
    assert 'pip install "micrograd[playground]"' in done.stderr
