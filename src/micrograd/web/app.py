"""The playground's ASGI app (Starlette): the page, its files, uploads, downloads, a WebSocket.

Routes:
- `GET /`: the page; `GET /static/...`: its script and style, shipped inside the package;
- `GET /api/options`: the choices, defaults and limits the page builds its controls from;
- `POST /api/csv?name=FILE`: a CSV file's bytes; answers its id and shape, or 400 and a message;
- `GET /api/sessions/{id}/model.json`: the tab's model as `micrograd predict` loads it;
- `WS /ws`: one `Session` per connection; JSON messages both ways (see `messages`, `session`).

Frames are produced by a session's training thread and handed to the event loop through an
`Outbox`: messages keep their order, and a frame the socket has not sent yet is merged into
the next one (its metric rows kept), so a slow page gets fewer frames, never a growing queue.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..loop import DEFAULT_LOSS, TASK_LOSSES
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

__all__ = ["STATIC", "create_app"]

STATIC = Path(__file__).parent / "static"
MAX_SESSIONS = 16
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


def create_app(max_sessions: int = MAX_SESSIONS) -> Starlette:
    """A fresh app with its own sessions and uploads; at most `max_sessions` tabs at once."""
    store = CsvStore()
    sessions: dict[str, Session] = {}

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def get_options(request: Request) -> Response:
        return JSONResponse(options())

    async def upload(request: Request) -> Response:
        name = request.query_params.get("name", "upload.csv")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BYTES:
                return JSONResponse(
                    {
                        "error": f"{name}: the file is larger than {MAX_BYTES:,} bytes, the "
                        "largest CSV file the playground takes"
                    },
                    status_code=413,
                )
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

    async def socket(ws: WebSocket) -> None:
        await ws.accept()
        if len(sessions) >= max_sessions:
            await ws.send_json(
                {
                    "type": "error",
                    "fatal": True,
                    "message": (
                        f"the playground already has {max_sessions} tabs open, its limit: close "
                        "another tab, then reload this one"
                    ),
                }
            )
            await ws.close(code=1013)
            return
        outbox = Outbox(asyncio.get_running_loop())
        session = Session(outbox.put, store.get)
        sessions[session.id] = session
        outbox.put({"type": "hello", "session": session.id, "options": options()})
        sender = asyncio.create_task(outbox.pump(ws))
        try:
            while True:
                event = await ws.receive()
                if event["type"] == "websocket.disconnect":
                    break
                text = event.get("text")
                if text is None:
                    outbox.put({"type": "error", "message": "messages must be JSON text"})
                    continue
                request = None
                try:
                    message = parse(text)
                    request = message.type
                    reply = await anyio.to_thread.run_sync(_dispatch, session, message)
                except MessageError as e:
                    outbox.put(
                        {"type": "error", "request": request or e.request, "message": str(e)}
                    )
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
        except WebSocketDisconnect:
            pass
        finally:
            outbox.closed = True
            session.close()
            sessions.pop(session.id, None)
            sender.cancel()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        for session in list(sessions.values()):
            session.close()

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/api/options", get_options),
            Route("/api/csv", upload, methods=["POST"]),
            Route("/api/sessions/{session}/model.json", model_file),
            WebSocketRoute("/ws", socket),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.sessions = sessions
    app.state.uploads = store
    return app
