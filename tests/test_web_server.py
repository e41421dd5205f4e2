"""`micrograd playground`: the command serves on loopback, prints a usable URL for every
host, handles a taken port, warns about other hosts, stops cleanly on Ctrl-C, and without the
`playground` extra says how to install it. Over real sockets: a wrong Host, a foreign Origin,
oversize messages and uploads, and a client at its session cap are refused."""

from __future__ import annotations

import contextlib
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
import urllib.parse
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
        self.proc.wait(timeout=20)  # its output is a few lines: the pipes cannot fill up
        # Read through the same buffered files readline() used: communicate() reads the raw
        # pipes and would lose lines readline() had already buffered (the note under the URL).
        assert self.proc.stdout is not None and self.proc.stderr is not None
        out, err = self.proc.stdout.read(), self.proc.stderr.read()
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
    assert "--host no-such-host.invalid is neither an IP address nor a host name" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1  # no warning first


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


# -- the printed URL and note, for every kind of --host ----------------------------------


def _announced(monkeypatch: pytest.MonkeyPatch, host: str) -> list[str]:
    """The lines `serve` prints for `host`, with uvicorn's run replaced (nothing listens)."""
    import uvicorn

    import micrograd.web.server as server

    lines: list[str] = []
    expected = 1 if host == "127.0.0.1" else 2

    def fake_run(self: Any, sockets: Any = None) -> None:
        self.started = True
        deadline = time.monotonic() + 5
        while len(lines) < expected and time.monotonic() < deadline:
            time.sleep(0.01)

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    assert server.serve(host, 0, False, lines.append) == 0
    return lines


@serves
@pytest.mark.parametrize(
    ("host", "url", "note"),
    [
        ("127.0.0.1", "http://127.0.0.1:", None),
        ("0.0.0.0", "http://127.0.0.1:", "listening on every interface (0.0.0.0): other machines"),
        ("localhost", "http://localhost:", "listening on 127.0.0.1 (loopback): only this machine"),
        ("127.0.0.2", "http://127.0.0.2:", "listening on 127.0.0.2 (loopback): only this machine"),
    ],
)
def test_every_host_prints_a_url_a_browser_can_open_and_who_can_reach_it(
    monkeypatch: pytest.MonkeyPatch, host: str, url: str, note: str | None
) -> None:
    lines = _announced(monkeypatch, host)
    assert lines[0].startswith(f"micrograd playground at {url}"), lines
    assert "0.0.0.0" not in lines[0]
    if note is None:
        assert lines[1:] == ["playground stopped"]
    else:
        assert lines[1].startswith(note), lines
    if host == "0.0.0.0":
        assert "(it has no login)" in lines[1]


@serves
@pytest.mark.parametrize("host", ["localhost", "127.0.0.2"])
def test_the_printed_url_serves_the_page(host: str) -> None:
    served = Served("--host", host, "--port", "0")
    try:
        assert served.url.startswith(f"http://{host}:")
        with urllib.request.urlopen(served.url, timeout=10) as answer:
            assert b"micrograd playground" in answer.read()
    finally:
        code, out, err = served.stop()
    assert code == 0, err
    assert "only this machine can reach it" in out
    assert "warning" not in err


# -- security over real sockets: what uvicorn and a browser-like client see ---------------


def _raw(url: str, request: bytes) -> bytes:
    """Send raw HTTP bytes (headers ending in one CRLF) to the server at `url`; the answer."""
    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1))
        answer = b""
        while chunk := sock.recv(4096):  # the server closes after its answer
            answer += chunk
        return answer


def _ws(url: str, **options: Any) -> Any:
    from websockets.sync.client import connect

    return connect(url.replace("http://", "ws://") + "ws", proxy=None, **options)


@serves
def test_a_real_server_refuses_a_wrong_host_and_a_foreign_origin() -> None:
    from websockets.exceptions import ConnectionClosed

    from micrograd.web.server import Background

    with Background() as url:
        port = urllib.parse.urlsplit(url).port
        rebound = _raw(url, f"GET / HTTP/1.1\r\nHost: evil.example:{port}\r\n\r\n".encode())
        assert rebound.startswith(b"HTTP/1.1 403") and b"is not this server's address" in rebound
        own = _raw(url, f"GET / HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n".encode())
        assert own.startswith(b"HTTP/1.1 200")
        with _ws(url, origin="http://127.0.0.1:1") as ws, pytest.raises(ConnectionClosed) as c:
            ws.recv(timeout=10)
        assert c.value.rcvd is not None and c.value.rcvd.code == 1008
        assert "refused: a WebSocket from the page at 'http://127.0.0.1:1'" in c.value.rcvd.reason
        with _ws(url, origin=url.rstrip("/")) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "hello"


@serves
def test_a_real_server_caps_messages_before_parsing_and_uploads_before_reading() -> None:
    from websockets.exceptions import ConnectionClosed

    from micrograd.web.messages import MAX_MESSAGE_BYTES
    from micrograd.web.server import WS_MAX_SIZE, Background

    with Background() as url:
        port = urllib.parse.urlsplit(url).port
        # A declared 2 MB body, none of it sent: the answer comes at once, nothing is read.
        start = time.monotonic()
        answer = _raw(
            url,
            f"POST /api/csv?name=big.csv HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Length: 2000000\r\n\r\n".encode(),
        )
        assert answer.startswith(b"HTTP/1.1 413") and b"larger than 1,000,000 bytes" in answer
        assert time.monotonic() - start < 5
        with _ws(url, max_size=None) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "hello"
            ws.send("{" * (MAX_MESSAGE_BYTES + 10))  # over the cap: an error, never parsed
            error = json.loads(ws.recv(timeout=10))
            assert error["type"] == "error" and "at most 65,536 bytes" in error["message"]
            ws.send("[" * (WS_MAX_SIZE + 1))  # over uvicorn's frame limit: closed unread
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


@serves
def test_a_client_at_its_cap_is_told_so_and_another_client_still_connects() -> None:
    from micrograd.web.server import Background

    with Background(max_per_client=2) as url, contextlib.ExitStack() as tabs:
        # Another client: a source address of its own on loopback (127.0.0.2).
        other = {"source_address": ("127.0.0.2", 0)}
        for _ in range(2):
            ws = tabs.enter_context(_ws(url, **other))
            assert json.loads(ws.recv(timeout=10))["type"] == "hello"
        with _ws(url, **other) as third:
            error = json.loads(third.recv(timeout=10))
        assert error["fatal"] and error["message"].startswith(
            "this client (127.0.0.2) already has 2 playground tabs open"
        )
        mine = tabs.enter_context(_ws(url))
        assert json.loads(mine.recv(timeout=10))["type"] == "hello"


@serves
def test_closing_a_busy_tab_at_the_cap_frees_its_slot_for_the_next_one() -> None:
    """Regression: a tab closed while its pause waited for a slow epoch still held its slot
    when the next tab opened, so closing one tab and opening another was refused (the
    playground benchmark's ten tabs followed by one more failed CI this way)."""
    from micrograd.web.server import Background

    slow = {"mode": "per-sample", "samples": 2000, "layers": [16, 16, 16], "speed": 0}
    with Background(max_per_client=2) as url, contextlib.ExitStack() as tabs:
        kept = tabs.enter_context(_ws(url))
        assert json.loads(kept.recv(timeout=10))["type"] == "hello"
        with _ws(url) as busy:
            assert json.loads(busy.recv(timeout=10))["type"] == "hello"
            busy.send(json.dumps({"type": "setup", "setup": slow}))
            while json.loads(busy.recv(timeout=30))["type"] != "ready":
                pass
            busy.send(json.dumps({"type": "play"}))
            while not json.loads(reply := busy.recv(timeout=30)).get("playing", False):
                assert json.loads(reply)["type"] != "error", reply
            busy.send(json.dumps({"type": "pause"}))
        with _ws(url) as next_tab:
            assert json.loads(next_tab.recv(timeout=10))["type"] == "hello"


class _Bound:
    """A listening socket's answers, without binding one (IPv6 may be off on a CI machine)."""

    def __init__(self, address: str, port: int, v6only: int = 0) -> None:
        self.address, self.port, self.v6only = address, port, v6only
        self.family = socket.AF_INET6 if ":" in address else socket.AF_INET

    def getsockname(self) -> tuple[Any, ...]:
        return (
            (self.address, self.port)
            if self.family == socket.AF_INET
            else (self.address, self.port, 0, 0)
        )

    def getsockopt(self, *args: Any) -> int:
        return self.v6only


@pytest.mark.parametrize(
    ("address", "host", "v6only", "url"),
    [
        ("0.0.0.0", "0.0.0.0", 0, "http://127.0.0.1:9000/"),
        ("::", "::", 0, "http://127.0.0.1:9000/"),  # dual stack: IPv4 clients reach it too
        ("::", "::", 1, "http://[::1]:9000/"),  # IPv6 only
        ("::1", "::1", 0, "http://[::1]:9000/"),
        ("127.0.0.1", "localhost", 0, "http://localhost:9000/"),
        ("192.168.1.5", "192.168.1.5", 0, "http://192.168.1.5:9000/"),
        ("10.1.2.3", "myhost.lan", 0, "http://myhost.lan:9000/"),
    ],
)
def test_the_url_is_one_a_browser_can_open(address: str, host: str, v6only: int, url: str) -> None:
    from micrograd.web.server import hosts_of, note_of, url_of

    sock: Any = _Bound(address, 9000, v6only)
    assert url_of(sock, host) == url
    assert hosts_of(sock, host).allows(url.split("/")[2])  # and the server answers to it
    note = note_of(sock, host)
    if address in ("0.0.0.0", "::"):
        assert note.startswith(f"listening on every interface ({host}): other machines")
    elif address in ("192.168.1.5", "10.1.2.3"):
        assert f"other machines that reach {host} can use it (it has no login)" in note
    else:
        assert note.endswith("only this machine can reach it")
