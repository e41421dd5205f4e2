"""The playground's ASGI app (Starlette): the page, its files, uploads, downloads, a WebSocket.

Routes:
- `GET /`: the page; `GET /static/...`: its script and style, shipped inside the package;
- `GET /api/options`: the choices, defaults and limits the page builds its controls from;
- `POST /api/csv?name=FILE`: a CSV file's bytes; answers its id and shape, or 400 and a message;
- `GET /api/sessions/{id}/model.json`: the tab's model as `micrograd predict` loads it;
- `WS /ws`: one `Session` per connection; JSON messages both ways (see `messages`, `session`).

Every request passes `SameOrigin` first: its Host must name the address the server is bound to
(a page on another name that resolves here, DNS rebinding, is refused), and an Origin, when the
browser sends one, must be that same address: another page open in the user's browser can
neither open a session nor upload a file. Sessions are capped per client address and in all,
so one client cannot take every slot.

Frames are produced by a session's training thread and handed to the event loop through an
`Outbox`: messages keep their order, and a frame the socket has not sent yet is merged into
the next one (its metric rows kept), so a slow page gets fewer frames, never a growing queue.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket as sockets
import threading
from collections import Counter, deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from ..features import FEATURES
from ..loop import DEFAULT_LOSS, TASK_LOSSES
from .backprop import backprop_page, backprop_steps
from .defaults import ANY_ADDRESSES
from .messages import (
    LIMITS,
    GraphMessage,
    Incoming,
    MessageError,
    PauseMessage,
    PlayMessage,
    ResetMessage,
    Setup,
    SetupMessage,
    StepMessage,
    choices,
    parse,
)
from .session import Session
from .uploads import MAX_BYTES, CsvStore, UploadError

__all__ = ["MAX_PER_CLIENT", "MAX_SESSIONS", "STATIC", "Hosts", "SameOrigin", "create_app"]

STATIC = Path(__file__).parent / "static"
MAX_SESSIONS = 16
# Tabs one client address may hold: a user's ten tabs fit (bench/playground.py opens ten at
# once), and another machine (when the server listens beyond loopback) cannot take every slot.
MAX_PER_CLIENT = 10
# Messages a tab may have waiting while an earlier one is handled (a pause waits for the current
# epoch); a page sends one per click, so only a flood fills this and is then read no further.
_PENDING_MESSAGES = 64
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
_REASON_BYTES = 123  # the most a WebSocket close frame's reason may hold
_MAX_ROWS = 10_000  # metric rows one merged frame carries, for a page that stopped reading


class Outbox:
    """Messages from any thread to one WebSocket, in order; unsent frames merge."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._items: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()
        self._ready = asyncio.Event()
        self.closed = False

    def put(self, message: dict[str, Any]) -> None:
        with self._lock:
            last = self._items[-1] if self._items else None
            if message["type"] == "frame" and last is not None and last["type"] == "frame":
                message = {**message, "rows": (last["rows"] + message["rows"])[-_MAX_ROWS:]}
                self._items[-1] = message
            else:
                self._items.append(message)
        if not self.closed:
            try:
                self._loop.call_soon_threadsafe(self._ready.set)
            except RuntimeError:  # the loop has shut down: nobody is listening any more
                self.closed = True

    async def pump(self, ws: WebSocket) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while True:
                with self._lock:
                    if not self._items:
                        break
                    message = self._items.popleft()
                await ws.send_text(json.dumps(message, allow_nan=False))


class Hosts:
    """The addresses the server answers to, as the Host and Origin headers name them.

    `names` are host names or IP addresses (IPv6 without brackets) and `port` the one port.
    `any_address` (the server listens on every interface) also admits any IP address: a DNS
    rebinding attack needs a domain name of its own, so an address typed as digits is safe."""

    def __init__(self, names: Iterable[str], port: int, any_address: bool = False) -> None:
        self.names = frozenset(n.lower().strip("[]") for n in names)
        self.port = port
        self.any_address = any_address

    @classmethod
    def bound(cls, host: str, port: int, address: str | None = None) -> Hosts:
        """What a server bound to `host` (as the user gave it; `address`: the IP it bound) on
        `port` answers to: loopback names, that host and address, and for 0.0.0.0 or :: this
        machine's names and any IP address."""
        names = {*_LOOPBACK_NAMES, host}
        if address is not None:
            names.add(address)
        wildcard = host in ANY_ADDRESSES
        if wildcard:
            names |= {sockets.gethostname(), sockets.getfqdn()}
        return cls(names - set(ANY_ADDRESSES), port, any_address=wildcard)

    def allows(self, netloc: str) -> bool:
        """True if `netloc` ("host:port", as a Host header or an origin carries it) is ours."""
        try:
            split = urlsplit("//" + netloc)
            name, port = split.hostname, split.port or 80
        except ValueError:  # a port that is not a number, a broken IPv6 literal
            return False
        if name is None or port != self.port or split.username is not None or split.path:
            return False
        if name in self.names:
            return True
        if not self.any_address:
            return False
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True

    def refusal(self, headers: dict[str, str], websocket: bool) -> str | None:
        """Why a request with these headers is refused, or None if it may go on."""
        host = headers.get("host")
        if host is None or not self.allows(host):
            shown = (host or "")[:60]
            return (
                f"refused: the Host {shown!r} is not this server's address (the playground "
                "answers only to the address it listens on)"
            )
        origin = headers.get("origin")
        if origin is None:  # not sent by a browser, or a plain navigation: same-origin by nature
            return None
        split = urlsplit(origin)
        if split.scheme != "http" or split.path or not self.allows(split.netloc):
            kind = "WebSocket" if websocket else "request"
            return f"refused: a {kind} from the page at {origin[:60]!r}, not the playground's own"
        return None


class SameOrigin:
    """ASGI middleware: every HTTP request and WebSocket passes `Hosts.refusal` first.

    An HTTP request that fails gets 403 and a JSON `error`; a WebSocket is accepted and closed
    at once with code 1008 (policy violation) and the reason, so a script can read why."""

    def __init__(self, app: ASGIApp, hosts: Hosts) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        reason = self.hosts.refusal(headers, scope["type"] == "websocket")
        if reason is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await JSONResponse({"error": reason}, status_code=403)(scope, receive, send)
        else:
            ws = WebSocket(scope, receive, send)
            await ws.accept()
            await ws.close(code=1008, reason=_short(reason))


def _short(reason: str) -> str:
    """A close reason within the WebSocket limit (123 bytes of UTF-8)."""
    data = reason.encode("utf-8")
    return (
        reason
        if len(data) <= _REASON_BYTES
        else data[: _REASON_BYTES - 3].decode("utf-8", "ignore") + "..."
    )


def _client_of(ws: WebSocket) -> str:
    """The client's address, an IPv4 client on a dual-stack socket written as IPv4."""
    host = ws.client.host if ws.client is not None else "unknown"
    return host.removeprefix("::ffff:")


def options() -> dict[str, Any]:
    """What the page needs to build its controls."""
    fields = ("dataset", "activation", "loss", "optimizer", "schedule", "regularization", "mode")
    return {
        "limits": LIMITS,
        "defaults": Setup().model_dump(),
        "choices": {name: list(choices(name)) for name in fields},
        "task_losses": {task: list(losses) for task, losses in TASK_LOSSES.items()},
        "default_loss": DEFAULT_LOSS,
        "max_upload_bytes": MAX_BYTES,
        "feature_choices": list(FEATURES),
    }


def _dispatch(session: Session, message: Incoming) -> dict[str, Any] | None:
    """Carry out one message (in a worker thread: it may train an epoch or draw a graph)."""
    if isinstance(message, SetupMessage):
        session.configure(message.setup)
    elif isinstance(message, PlayMessage):
        session.play()
    elif isinstance(message, PauseMessage):
        session.pause()
    elif isinstance(message, StepMessage):
        session.step()
    elif isinstance(message, ResetMessage):
        session.reset()
    elif isinstance(message, GraphMessage):
        return session.graph(message.split, message.index)
    return None


def create_app(
    max_sessions: int = MAX_SESSIONS,
    hosts: Hosts | None = None,
    max_per_client: int = MAX_PER_CLIENT,
) -> Starlette:
    """A fresh app with its own sessions and uploads; at most `max_sessions` tabs at once and
    `max_per_client` from one client address. It answers only to `hosts` (`Hosts.bound` of the
    listening address); without them only to Starlette's test client (Host "testserver"), so
    an app built without its address is never reachable from a browser."""
    allowed = hosts if hosts is not None else Hosts(["testserver"], 80)
    store = CsvStore()
    sessions: dict[str, Session] = {}
    per_client: Counter[str] = Counter()

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def get_options(request: Request) -> Response:
        return JSONResponse(options())

    async def upload(request: Request) -> Response:
        name = request.query_params.get("name", "upload.csv")[:100]
        too_large = JSONResponse(
            {
                "error": f"{name}: the file is larger than {MAX_BYTES:,} bytes, the "
                "largest CSV file the playground takes"
            },
            status_code=413,
        )
        declared = request.headers.get("content-length")
        if declared is not None:  # refused before a byte of the body is read
            if not declared.isdigit():
                return JSONResponse({"error": "a bad Content-Length header"}, status_code=400)
            if int(declared) > MAX_BYTES:
                return too_large
        body = bytearray()
        async for chunk in request.stream():  # counted as it comes: chunked uploads too
            body += chunk
            if len(body) > MAX_BYTES:
                return too_large
        try:
            key, ds = await anyio.to_thread.run_sync(store.add, bytes(body), name)
        except UploadError as e:
            return JSONResponse({"error": str(e)}, status_code=400)
        return JSONResponse(
            {
                "id": key,
                "name": ds.name,
                "rows": len(ds),
                "features": ds.n_features,
                "task": ds.task,
                "n_classes": ds.n_classes,
            }
        )

    async def model_file(request: Request) -> Response:
        session = sessions.get(request.path_params["session"])
        if session is None:
            return JSONResponse(
                {
                    "error": "no such session: the tab that trained the model is "
                    "closed, or the server restarted"
                },
                status_code=404,
            )
        try:
            data = await anyio.to_thread.run_sync(session.model_file)
        except MessageError as e:
            return JSONResponse({"error": str(e)}, status_code=409)
        return Response(
            data,
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="model.json"'},
        )

    async def refuse(ws: WebSocket, message: str) -> None:
        await ws.send_json({"type": "error", "fatal": True, "message": message})
        await ws.close(code=1013, reason=_short(message))  # 1013: try again later

    async def socket(ws: WebSocket) -> None:
        await ws.accept()
        client = _client_of(ws)
        if per_client[client] >= max_per_client:
            await refuse(
                ws,
                f"this client ({client}) already has {max_per_client} playground tabs open, "
                "the most one client may have: close one, then reload this one",
            )
            return
        if len(sessions) >= max_sessions:
            await refuse(
                ws,
                f"the playground already has {max_sessions} tabs open, its limit: close "
                "another tab, then reload this one",
            )
            return
        outbox = Outbox(asyncio.get_running_loop())
        session = Session(outbox.put, store.get)
        sessions[session.id] = session
        per_client[client] += 1
        outbox.put({"type": "hello", "session": session.id, "options": options()})
        sender = asyncio.create_task(outbox.pump(ws))
        # The socket is read while a message is handled, so a tab that closes frees its slot
        # at once, not after its last message (a pause waits for the current epoch).
        inbox: asyncio.Queue[str | None] = asyncio.Queue(_PENDING_MESSAGES)
        handler = asyncio.create_task(handle(session, outbox, inbox))
        try:
            # A closed socket is a disconnect event here (only receive_text() raises for it).
            while (event := await ws.receive())["type"] != "websocket.disconnect":
                await inbox.put(event.get("text"))
        finally:
            outbox.closed = True
            session.close()
            sessions.pop(session.id, None)
            per_client[client] -= 1
            if per_client[client] <= 0:
                del per_client[client]
            handler.cancel()
            sender.cancel()

    async def handle(session: Session, outbox: Outbox, inbox: asyncio.Queue[str | None]) -> None:
        """Handle one tab's messages in the order they came, each answered in its outbox."""
        while True:
            text = await inbox.get()
            if text is None:
                outbox.put({"type": "error", "message": "messages must be JSON text"})
                continue
            request = None
            try:
                message = parse(text)
                request = message.type
                reply = await anyio.to_thread.run_sync(_dispatch, session, message)
            except MessageError as e:
                outbox.put({"type": "error", "request": request or e.request, "message": str(e)})
                continue
            except Exception as e:  # a bug: the page gets a message, the server goes on
                outbox.put(
                    {
                        "type": "error",
                        "request": request,
                        "message": f"internal error: {type(e).__name__}: {e}",
                    }
                )
                continue
            if reply is not None:
                outbox.put(reply)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        for session in list(sessions.values()):
            session.close()

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/api/options", get_options),
            Route("/backprop", backprop_page),
            Route("/api/backprop", backprop_steps, methods=["POST"]),
            Route("/api/csv", upload, methods=["POST"]),
            Route("/api/sessions/{session}/model.json", model_file),
            WebSocketRoute("/ws", socket),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        # Outermost of the app's own layers: nothing is routed or read before the check.
        middleware=[Middleware(SameOrigin, hosts=allowed)],
        lifespan=lifespan,
    )
    app.state.sessions = sessions
    app.state.uploads = store
    return app
