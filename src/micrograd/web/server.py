"""Serving the playground with uvicorn: binding a port, printing the URL, stopping cleanly.

`bind(host, port)` opens the listening socket itself, so a taken port is known before the
server starts and another (free) one is taken with a message saying so. `serve(...)` runs
uvicorn on that socket until Ctrl-C (uvicorn catches SIGINT and SIGTERM and shuts down
gracefully) and returns 0. `Background` runs the same server in a thread, for tests and the
benchmark.

The app answers only to the address it is bound to (`Hosts.bound`), and the URL printed is
one a browser on this machine can open: `0.0.0.0` is no address to browse to, so a server
listening on every interface prints 127.0.0.1 and a note that other machines can reach it.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import threading
import time
import webbrowser
from collections.abc import Callable
from typing import Any

import uvicorn

from .app import MAX_PER_CLIENT, MAX_SESSIONS, Hosts, create_app
from .defaults import ANY_ADDRESSES, DEFAULT_HOST, is_loopback
from .messages import MAX_MESSAGE_BYTES

__all__ = ["Background", "bind", "hosts_of", "note_of", "serve", "url_of"]

# uvicorn refuses a larger WebSocket frame before buffering it (close 1009, "message too
# big"); a message under this but over MAX_MESSAGE_BYTES is answered with an error by `parse`.
WS_MAX_SIZE = 4 * MAX_MESSAGE_BYTES


def bind(host: str, port: int, say: Callable[[str], None]) -> socket.socket:
    """A listening socket on host:port, or on a free port (with a message) if that one is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if host == "::":  # every interface means IPv4 too (so 127.0.0.1, the URL printed, works)
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
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


def _is_name(host: str) -> bool:
    """True for a host name (localhost, a machine's name), False for an IP address."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return True
    return False


def url_of(sock: socket.socket, host: str | None = None) -> str:
    """The URL a browser on this machine opens: the name the user gave (`host`), else the
    bound address, and 127.0.0.1 for a server on every interface (0.0.0.0 or ::)."""
    address, port = sock.getsockname()[:2]
    if address in ANY_ADDRESSES:
        v6only = sock.family == socket.AF_INET6 and sock.getsockopt(
            socket.IPPROTO_IPV6, socket.IPV6_V6ONLY
        )
        address = "::1" if v6only else "127.0.0.1"
    elif host is not None and host not in ANY_ADDRESSES and _is_name(host):
        address = host
    shown = f"[{address}]" if ":" in address else address
    return f"http://{shown}:{port}/"


def hosts_of(sock: socket.socket, host: str) -> Hosts:
    """The Host header values the app answers to, for a server bound to `host` on `sock`."""
    address, port = sock.getsockname()[:2]
    return Hosts.bound(host, port, address)


def note_of(sock: socket.socket, host: str) -> str:
    """One line on who can reach the server, for the user to read under the URL."""
    address, port = sock.getsockname()[:2]
    if address in ANY_ADDRESSES:
        return (
            f"listening on every interface ({host or address}): other machines can reach it "
            f"at this machine's addresses, e.g. http://{socket.gethostname()}:{port}/ "
            "(it has no login)"
        )
    if is_loopback(host) or is_loopback(address):
        return f"listening on {address} (loopback): only this machine can reach it"
    return f"listening on {address}: other machines that reach {host} can use it (it has no login)"


def _server(app: Any) -> uvicorn.Server:
    """uvicorn serving `app`; the listening socket is handed to its run() (so Config needs no
    host or port)."""
    config = uvicorn.Config(
        app,
        log_level="warning",
        timeout_graceful_shutdown=3,
        ws_ping_interval=20.0,
        ws_max_size=WS_MAX_SIZE,
        # No proxy stands in front: X-Forwarded-For from a local client must not pick the
        # client address the per-client session cap counts.
        proxy_headers=False,
        lifespan="on",
    )
    return uvicorn.Server(config)


def serve(
    host: str,
    port: int,
    open_browser: bool,
    say: Callable[[str], None],
) -> int:
    """Serve until Ctrl-C; `say` prints a line for the user. Returns the exit status."""
    sock = bind(host, port, say)
    url = url_of(sock, host)
    server = _server(create_app(hosts=hosts_of(sock, host)))

    def announce() -> None:
        # Once uvicorn is up its Ctrl-C handler is in place: the URL is safe to use then.
        while not server.started and not server.should_exit:
            time.sleep(0.02)
        if not server.started:
            return
        say(f"micrograd playground at {url} (Ctrl-C stops it)")
        if host != DEFAULT_HOST:  # the default needs no note: it is this machine only
            say(note_of(sock, host))
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
    url: ...`. Used by the browser tests and the benchmark. `max_sessions` and
    `max_per_client` default to the app's limits."""

    def __init__(
        self,
        max_sessions: int = MAX_SESSIONS,
        max_per_client: int = MAX_PER_CLIENT,
        host: str = DEFAULT_HOST,
    ) -> None:
        self.sock = bind(host, 0, lambda _: None)
        self.url = url_of(self.sock, host)
        self.app = create_app(max_sessions, hosts_of(self.sock, host), max_per_client)
        self.server = _server(self.app)
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
