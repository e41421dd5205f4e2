"""`micrograd playground`: a local web page where the engine trains while you watch.

    micrograd playground                 serve on 127.0.0.1:8765 and print the URL
    micrograd playground --open          ... and open it in the default browser
    micrograd playground --port 9000     another port (a taken one falls back to a free port)

The server (starlette, uvicorn, websockets, pydantic: the `playground` extra, `pip install
"micrograd[playground]"`) is imported only when this command runs, so the other commands start
as fast as before and work without it; without it this command says so in one line. It
listens on loopback unless `--host` says otherwise, and then it warns: the page has no login.
The URL printed is one a browser here can open (127.0.0.1 for `--host 0.0.0.0` or `::`), with a
note under it saying who else can reach the server. The server answers only to the address it
listens on and to pages of its own origin (see `web.app.SameOrigin`). Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import socket
import sys
from typing import Any

from ..optional import MissingDependencyError, require
from ..web.defaults import DEFAULT_HOST, DEFAULT_PORT, is_loopback
from .arguments import PROG, UsageError, add_command

__all__ = ["register", "run"]

NAME = "playground"
# What the server needs, all from the `playground` extra (uvicorn serves WebSockets with
# websockets).
PACKAGES = ("starlette", "uvicorn", "websockets", "pydantic")
HELP = "train in a web page: watch the boundary form, click a point to see its graph"
DESCRIPTION = (
    "Serve the micrograd playground, a page in the style of TensorFlow Playground that trains "
    "with this engine: pick a data set and a network, press play, watch the decision boundary "
    "and each neuron, click a point to see its computation graph. Everything it needs ships in "
    "the package; it works offline."
)
EXAMPLES = f"""\
examples:
  {PROG} playground --open              serve on 127.0.0.1 and open the page
  {PROG} playground --port 9000         serve on another port
  {PROG} playground --host 0.0.0.0      let other machines in (no login: a warning is printed)

Each browser tab gets its own data, model and training; Ctrl-C stops the server.
"""


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0-65535 (0: any free port), got {port}")
    return port


def register(commands: Any) -> None:
    """Add `playground` to the subcommands."""
    p = add_command(commands, NAME, HELP, DESCRIPTION, EXAMPLES)
    p.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"port to listen on; if taken, a free one is used (default: {DEFAULT_PORT})",
    )
    p.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default: {DEFAULT_HOST}, this machine only; 0.0.0.0 or :: "
        "listens on every interface)",
    )
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    def say(line: str) -> None:
        print(line, flush=True)

    try:
        for package in PACKAGES:  # a missing one: one line naming the extra (from cli.main)
            require(package, package, "playground", "micrograd playground")
        from ..web.server import serve
    except MissingDependencyError:
        raise
    except ImportError as e:  # a broken install: say what is missing, not a traceback
        raise UsageError(
            f"micrograd playground needs {e.name or 'its web packages'}, which cannot be "
            'imported: pip install "micrograd[playground]"'
        ) from None
    _check_host(args.host)  # before the warning: an address that cannot work is one line
    if not is_loopback(args.host):
        print(
            f"{PROG}: warning: listening on {args.host}, not only this machine: anyone who can "
            "reach it can use the playground (it has no login)",
            file=sys.stderr,
            flush=True,
        )
    try:
        return serve(args.host, args.port, args.open, say)
    except OSError as e:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}") from None


def _check_host(host: str) -> None:
    """Refuse an address this machine cannot listen on: not an IP address, a name that does not
    resolve, or an address of another machine."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if re.fullmatch(r"[\d.]+", host) or ":" in host:  # meant as an address, not a name
            raise UsageError(
                f"--host {host} is not a valid IP address: expected e.g. 127.0.0.1, 0.0.0.0, "
                "::1 or a host name"
            ) from None
        try:  # the server listens on the name's IPv4 address (`web.server.bind`)
            socket.getaddrinfo(host, None, family=socket.AF_INET, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise UsageError(
                f"--host {host} is neither an IP address nor a host name this machine can "
                "resolve: expected e.g. 127.0.0.1, 0.0.0.0 or localhost"
            ) from None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, 0))  # any port: whether the address is this machine's
        except OSError as e:
            raise UsageError(
                f"cannot listen on {host}: {e.strerror or e} (it is not an address of this "
                "machine; 0.0.0.0 listens on all of them)"
            ) from None
