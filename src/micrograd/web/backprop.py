"""The playground's backprop view: step through backward() node by node, as the lecture does.

Routes (added to the app by `create_app`):
- `GET /backprop`: the page (`static/backprop.html`), which works offline;
- `POST /api/backprop`: a program (`{"program": "a = 2.0, b = -3.0; L = (a*b).tanh()"}`) run by
  `micrograd.stepper`; answers its forward and backward steps, or 400 and a message naming
  what is wrong (with the position, from the expression parser).

The numbers are the engine's own: the page only shows them one step at a time.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from ..stepper import StepperError, trace_program

__all__ = ["MAX_PROGRAM", "backprop_page", "backprop_steps"]

MAX_PROGRAM = 2000  # characters: an expression a learner types
_MAX_BODY = 4 * MAX_PROGRAM + 100  # bytes: the program as JSON, every character escaped
_SEND_JSON = 'send JSON: {"program": "a = 2.0, b = -3.0; L = a*b"}'
_PAGE = Path(__file__).parent / "static" / "backprop.html"


async def backprop_page(request: Request) -> Response:
    return FileResponse(_PAGE, media_type="text/html")


async def backprop_steps(request: Request) -> Response:
    too_long = _refuse(f"the program is too long: at most {MAX_PROGRAM} characters")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > _MAX_BODY:
        return too_long  # before reading a byte of it
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > _MAX_BODY:
            return too_long
        chunks.append(chunk)
    body = b"".join(chunks)
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError):
        return _refuse(_SEND_JSON)
    program = raw.get("program") if isinstance(raw, dict) else None
    if not isinstance(program, str):
        return _refuse(_SEND_JSON)
    if len(program) > MAX_PROGRAM:
        return too_long
    try:
        steps = await anyio.to_thread.run_sync(trace_program, program)
    except StepperError as e:
        return _refuse(str(e))
    except (ArithmeticError, ValueError, RecursionError) as e:  # the math of a step
        return _refuse(f"{type(e).__name__}: {e}")
    return JSONResponse(_finite({"program": program, **steps}))


def _finite(x: Any) -> Any:
    """The steps with every non-finite number as text ("inf", "-inf", "nan"): JSON has none,
    and a learner should see an infinite derivative (sqrt at 0) as it is."""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return x


def _refuse(message: str) -> Response:
    return JSONResponse({"error": message}, status_code=400)
