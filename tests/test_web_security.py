"""The playground against another page open in the same browser: Playwright drives Debian's
Chromium to a page served from another local origin (a second HTTP server on 127.0.0.1, another
port) whose script tries to open the playground's WebSocket and to upload a CSV file to it.
Both are refused by the server (not only hidden from the script by the browser), while the
user's own tab still connects and trains, even when another client holds its most sessions,
and an oversize message from the tab is answered with a clear error, the tab going on.

In CI (CI set) a missing browser fails these tests; locally it skips them. Screenshots go to
pytest's tmp dir (printed with -s): look at them when the page changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import test_web_browser as wb

page = wb.page  # the user's tab: a test fails on any script error in it

CSV = "x1,x2,label\n" + "".join(f"{i / 10},{i % 3},{i % 2}\n" for i in range(20))

# The other page: it knows the playground's address (a user may have both open) and tries
# what a hostile page would: a WebSocket, an upload the browser does not let it read (no-cors,
# so the request is still sent), and an ordinary cross-origin upload.
FOREIGN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>another page</title></head>
<body style="font: 15px sans-serif; margin: 24px">
<h1>another page on %(origin)s</h1>
<p>Its script tries to use the playground at %(target)s:</p>
<pre id="log" style="background: #f4f4f4; padding: 12px; white-space: pre-wrap"></pre>
<script>
const target = %(target_js)s, csv = %(csv_js)s;
const result = { ws: null, noCors: null, cors: null, messages: [] };
window.result = result;
const log = (text) => { document.getElementById("log").textContent += text + "\\n"; };
const ws = new WebSocket(target.replace("http://", "ws://") + "ws");
ws.onopen = () => log("WebSocket: open");
ws.onmessage = (e) => {
  result.messages.push(e.data);
  log("WebSocket message: " + e.data.slice(0, 60));
};
ws.onclose = (e) => {
  result.ws = { code: e.code, reason: e.reason };
  log(`WebSocket closed: code ${e.code}, reason: ${e.reason}`);
};
fetch(target + "api/csv?name=stolen.csv", { method: "POST", body: csv, mode: "no-cors" })
  .then((r) => { result.noCors = r.type; log(`upload (no-cors): an ${r.type} answer`); })
  .catch((e) => { result.noCors = String(e); log("upload (no-cors): " + e); });
fetch(target + "api/csv?name=stolen2.csv", { method: "POST", body: csv })
  .then((r) => { result.cors = r.status; log("upload (cors): status " + r.status); })
  .catch((e) => { result.cors = String(e); log("upload (cors): " + e); });
</script></body></html>
"""


@contextlib.contextmanager
def foreign_server(target: str) -> Iterator[str]:
    """Another local origin: http.server on 127.0.0.1 (a free port) serving FOREIGN_PAGE."""
    page: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page["html"]
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # quiet: pytest shows failures
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    page["html"] = (
        FOREIGN_PAGE
        % {
            "origin": origin,
            "target": target,
            "target_js": json.dumps(target),
            "csv_js": json.dumps(CSV),
        }
    ).encode()
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="foreign-page")
    thread.start()
    try:
        yield origin + "/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _other_client(url: str) -> Any:
    """A tab of another client (source address 127.0.0.2) on the playground's own origin."""
    from websockets.sync.client import connect

    return connect(
        url.replace("http://", "ws://") + "ws",
        origin=url.rstrip("/"),  # type: ignore[arg-type]
        proxy=None,
        source_address=("127.0.0.2", 0),
    )


def test_another_origin_is_refused_and_the_user_s_tab_still_trains(
    browser: Any, page: Any, tmp_path: Path
) -> None:
    from micrograd.web.server import Background

    background = Background(max_per_client=2)
    with background as url, contextlib.ExitStack() as others, foreign_server(url) as foreign:
        state = background.app.state
        # Another client takes the most sessions it may: the user's tab must not care.
        for _ in range(2):
            tab = others.enter_context(_other_client(url))
            assert json.loads(tab.recv(timeout=10))["type"] == "hello"
        assert len(state.sessions) == 2

        hostile = browser.new_page(viewport={"width": 900, "height": 500})
        hostile.goto(foreign)
        hostile.wait_for_function(
            "window.result.ws !== null && window.result.noCors !== null "
            "&& window.result.cors !== null",
            timeout=15_000,
        )
        result = hostile.evaluate("window.result")
        hostile.screenshot(path=tmp_path / "foreign-page.png")
        print(f"screenshot: {tmp_path / 'foreign-page.png'}")
        hostile.close()
        # The WebSocket: closed with "policy violation" and a reason, never a session.
        assert result["ws"]["code"] == 1008, result
        assert result["ws"]["reason"].startswith(
            f"refused: a WebSocket from the page at '{foreign.rstrip('/')}'"
        )
        assert result["messages"] == []
        assert len(state.sessions) == 2  # the other client's two, none of the page's
        # The uploads: the server refused them (403), so nothing was stored; the browser only
        # hides the answers from the script, which alone would not have stopped the upload.
        assert result["noCors"] == "opaque"
        assert "TypeError" in result["cors"]
        assert state.uploads.get(hashlib.sha256(CSV.encode()).hexdigest()[:16]) is None

        # The user's own tab, from 127.0.0.1, connects and trains.
        page.goto(url + "?dataset=moons&speed=60&layers=8,8&activation=tanh")
        page.wait_for_function("window.playground.frame !== null", timeout=15_000)
        assert len(state.sessions) == 3
        page.click("#play")
        page.wait_for_function("window.playground.rows.length >= 30", timeout=20_000)
        rows = page.evaluate("window.playground.rows")
        assert rows[-1]["loss"] < rows[0]["loss"]

        # An oversize message from the tab: a clear error, refused unparsed; training goes on.
        page.evaluate("window.playground.ws.send('{' + ' '.repeat(100000) + '}')")
        page.wait_for_function(
            "document.getElementById('message-text').textContent.includes('65,536 bytes')",
            timeout=10_000,
        )
        text = page.inner_text("#message-text")
        assert "the message has 100,002 bytes" in text, text
        trained = len(page.evaluate("window.playground.rows"))
        page.wait_for_function(f"window.playground.rows.length > {trained + 5}", timeout=20_000)
        page.screenshot(path=tmp_path / "own-tab.png")
        print(f"screenshot: {tmp_path / 'own-tab.png'}")
