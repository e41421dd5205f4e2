"""Serving the playground with uvicorn: binding a port, printing the URL, stopping cleanly.

`bind(host, port)` opens the listening socket itself, so a taken port is known before the
server starts and another (free) one is taken with a message saying so. `serve(...)` runs
uvicorn on that socket until Ctrl-C (uvicorn catches SIGINT and SIGTERM and shuts down
gracefully) and returns 0. `Background` runs the same server in a thread, for tests and the
benchmark.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
import time
import webbrowser
from collections.abc import Callable
from typing import Any

import uvicorn

from .app import create_app

__all__ = ["Background", "bind", "serve", "url_of"]


def bind(host: str, port: int, say: Callable[[str], None]) -> socket.socket:
    """A listening socket on host:port, or on a free port (with a message) if that one is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        if e.errno != errno.EADDRINUSE:
            sock.close()
            raise
        sock.bind((host, 0))
        say(
            f"port {port} on {host} is taken (another program listens there); "
            f"using the free port {sock.getsockname()[1]} instead"
        )
    sock.listen(128)
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def _server(sock: socket.socket, app: Any) -> uvicorn.Server:
    config = uvicorn.Config(
        app, log_level="warning", timeout_graceful_shutdown=3, ws_ping_interval=20.0, lifespan="on"
    )
    del sock  # the socket is handed to run(); Config needs no host or port
    return uvicorn.Server(config)


def serve(
    host: str,
    port: int,
    open_browser: bool,
    say: Callable[[str], None],
    max_sessions: int | None = None,
) -> int:
    """Serve until Ctrl-C; `say` prints a line for the user. Returns the exit status."""
    sock = bind(host, port, say)
    url = url_of(sock)
    app = create_app() if max_sessions is None else create_app(max_sessions)
    server = _server(sock, app)

    def announce() -> None:
        # Once uvicorn is up its Ctrl-C handler is in place: the URL is safe to use then.
        while not server.started and not server.should_exit:
            time.sleep(0.02)
        if not server.started:
            return
        say(f"micrograd playground at {url} (Ctrl-C stops it)")
        if open_browser and not webbrowser.open(url):
            say(f"could not open a browser here: open {url} yourself")

    threading.Thread(target=announce, daemon=True, name="playground-announce").start()
    with contextlib.suppress(KeyboardInterrupt):
        # uvicorn shuts down gracefully on Ctrl-C, then raises it again for the caller.
        server.run(sockets=[sock])
    say("playground stopped")
    return 0


class Background:
    """The playground served from a thread on 127.0.0.1 (a free port): `with Background() as
    url: ...`. Used by the browser tests and the benchmark."""

    def __init__(self, max_sessions: int | None = None) -> None:
        self.app = create_app() if max_sessions is None else create_app(max_sessions)
        self.sock = bind("127.0.0.1", 0, lambda _: None)
        self.url = url_of(self.sock)
        self.server = _server(self.sock, self.app)
        self.thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self.sock]},
            daemon=True,
            name="playground-server",
        )

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the playground server did not start")
            time.sleep(0.02)
        return self.url

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        with contextlib.suppress(OSError):
            self.sock.close()
