"""Benchmark: how the playground serves its pages, measured from WebSocket clients.

    python bench/playground.py                      # every figure, memory over 3 minutes
    python bench/playground.py --minutes 10         # the issue's 10-minute memory run
    python bench/playground.py --screenshot docs/img/playground.png   # also the README picture

The server is the real command, `micrograd playground --port 0`, in its own process, so its
memory (resident set size, from /proc) is the server's alone. The clients are asyncio
`websockets` connections speaking the page's protocol. Figures:

- frames per second reaching a client while training moons with BatchedMLP(2, [8, 8, 1])
  and a 50x50 boundary grid, at full speed (frames are capped at 30 a second) and at the
  page's default pace of 30 epochs a second (target: at least 20);
- time from sending `play` to the first frame of a trained epoch (target: under 1 s);
- the server's memory while one tab trains without pause (target: flat within 10%, measured
  from the first sample after a 20-second warm-up to the largest later one);
- 10 tabs training at once: every one gets frames, none gets an error;
- frames the page draws a second in a real browser (Debian's Chromium, via Playwright) while
  it trains at full speed (target: at least 20).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import websockets

MOONS = {"dataset": "moons", "layers": [8, 8], "mode": "batched", "grid": 50, "samples": 200}
DATASETS = ["moons", "circles", "xor", "spirals", "blobs", "yinyang", "regression_1d"]


class Server:
    """`micrograd playground --port 0` in a subprocess."""

    def __init__(self) -> None:
        exe = shutil.which("micrograd")
        cmd = [exe] if exe else [sys.executable, "-m", "micrograd"]
        self.proc = subprocess.Popen(
            [*cmd, "playground", "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if " at " not in line:
            raise RuntimeError(f"the server did not start: {line!r}")
        self.url = line.split(" at ")[1].split()[0]
        self.ws = self.url.replace("http://", "ws://") + "ws"

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=30)


async def _next(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        msg: dict[str, Any] = json.loads(await ws.recv())
        if msg["type"] == kind:
            return msg
        if msg["type"] == "error":
            raise RuntimeError(msg["message"])


async def _tab(server: Server, **setup: Any) -> Any:
    ws = await websockets.connect(server.ws, max_size=None)
    await _next(ws, "hello")
    await ws.send(json.dumps({"type": "setup", "setup": setup}))
    await _next(ws, "ready")
    await _next(ws, "frame")
    return ws


async def frames_per_second(server: Server, speed: int, seconds: float) -> dict[str, float]:
    ws = await _tab(server, **MOONS, speed=speed, epochs=100_000)
    await ws.send(json.dumps({"type": "play"}))
    await _next(ws, "frame")
    frames, first_epoch, start = 0, None, time.perf_counter()
    last_epoch = 0
    while time.perf_counter() - start < seconds:
        msg = await _next(ws, "frame")
        frames += 1
        first_epoch = first_epoch if first_epoch is not None else msg["epoch"]
        last_epoch = msg["epoch"]
    elapsed = time.perf_counter() - start
    await ws.close()
    return {"fps": frames / elapsed, "epochs_per_s": (last_epoch - (first_epoch or 0)) / elapsed}


async def first_frame(server: Server, repeats: int) -> list[float]:
    ws = await _tab(server, **MOONS, speed=30)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        await ws.send(json.dumps({"type": "play"}))
        while (await _next(ws, "frame"))["epoch"] < 1:
            pass
        times.append(time.perf_counter() - start)
        await ws.send(json.dumps({"type": "pause"}))
        while (await _next(ws, "state"))["playing"]:
            pass
        await ws.send(json.dumps({"type": "reset"}))
        await _next(ws, "ready")
        while (await _next(ws, "frame"))["epoch"] != 0:
            pass
    await ws.close()
    return times


async def memory(server: Server, minutes: float) -> dict[str, Any]:
    ws = await _tab(server, **MOONS, speed=0, epochs=100_000)
    await ws.send(json.dumps({"type": "play"}))
    samples: list[tuple[float, float]] = []
    start = time.perf_counter()
    end = start + 60 * minutes
    next_sample = start
    restarts = 0
    while time.perf_counter() < end:
        msg = json.loads(await ws.recv())
        if msg["type"] == "state" and msg.get("status", "finished") == "finished":  # again
            restarts += 1
            await ws.send(json.dumps({"type": "reset"}))
            await ws.send(json.dumps({"type": "play"}))
        if msg["type"] == "error":
            raise RuntimeError(msg["message"])
        if time.perf_counter() >= next_sample:
            samples.append((time.perf_counter() - start, server.rss_mib()))
            next_sample += 5.0
    await ws.close()
    settled = [rss for t, rss in samples if t >= 20.0] or [samples[-1][1]]
    return {
        "minutes": minutes,
        "rss_first_mib": samples[0][1],
        "rss_after_warmup_mib": settled[0],
        "rss_max_mib": max(settled),
        "rss_last_mib": settled[-1],
        "growth_pct": 100.0 * (max(settled) - settled[0]) / settled[0],
        "restarts": restarts,
        "samples": samples,
    }


async def concurrent(server: Server, tabs: int, seconds: float) -> list[dict[str, Any]]:
    async def one(i: int) -> dict[str, Any]:
        name = DATASETS[i % len(DATASETS)]
        ws = await _tab(server, dataset=name, layers=[8, 8], speed=0, epochs=100_000, seed=i)
        await ws.send(json.dumps({"type": "play"}))
        frames, errors, epoch = 0, [], 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            msg = json.loads(await ws.recv())
            if msg["type"] == "frame":
                frames, epoch = frames + 1, msg["epoch"]
            elif msg["type"] == "error":
                errors.append(msg["message"])
        await ws.send(json.dumps({"type": "pause"}))
        await ws.close()
        return {"dataset": name, "frames": frames, "epochs": epoch, "errors": errors}

    return list(await asyncio.gather(*(one(i) for i in range(tabs))))


def _browser(p: Any) -> Any:
    return p.chromium.launch(
        executable_path=shutil.which("chromium"), args=["--no-sandbox", "--disable-gpu"]
    )


def page_frames_per_second(server: Server, seconds: float) -> float:
    """Frames the page itself draws (canvas and charts) a second, in Debian's Chromium, while
    the default setup trains at full speed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(server.url + "?speed=0")
        page.wait_for_function("window.playground.frame !== null")
        page.click("#play")
        page.wait_for_function("window.playground.frame.epoch > 50", timeout=60_000)
        before = page.evaluate("window.playground.framesDrawn")
        start = time.perf_counter()
        page.wait_for_timeout(1000 * seconds)
        drawn = page.evaluate("window.playground.framesDrawn") - before
        rate = drawn / (time.perf_counter() - start)
        page.click("#play")
        browser.close()
    return float(rate)


def screenshot(server: Server, path: Path) -> None:
    """The README's picture: spirals, tanh, trained a while, one point's graph open."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(
            server.url + "?dataset=spirals&activation=tanh&layers=8,8&optimizer=adam"
            "&lr=0.03&speed=0&epochs=400&noise=0.05&loss=bce"
        )
        page.wait_for_function("window.playground.frame !== null")
        page.click("#play")
        page.wait_for_function("window.playground.frame.epoch === 400", timeout=120_000)
        page.evaluate("send({type: 'graph', split: 'train', index: 7})")
        page.evaluate("window.playground.selected = {split: 'train', index: 7}; drawPlane()")
        page.wait_for_selector("#graph svg")
        page.wait_for_timeout(300)
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path))
        browser.close()


async def run(args: argparse.Namespace, server: Server) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["fps_full_speed"] = await frames_per_second(server, 0, args.seconds)
    print(
        f"full speed:  {out['fps_full_speed']['fps']:.1f} frames/s, "
        f"{out['fps_full_speed']['epochs_per_s']:.0f} epochs/s",
        flush=True,
    )
    out["fps_default_pace"] = await frames_per_second(server, 30, args.seconds)
    print(f"30 epochs/s: {out['fps_default_pace']['fps']:.1f} frames/s", flush=True)
    times = await first_frame(server, 10)
    out["first_frame_s"] = {"median": statistics.median(times), "max": max(times)}
    print(
        f"first frame after play: median {1000 * statistics.median(times):.0f} ms, "
        f"max {1000 * max(times):.0f} ms",
        flush=True,
    )
    tabs = await concurrent(server, 10, args.seconds)
    out["concurrent"] = tabs
    errors = sum(len(t["errors"]) for t in tabs)
    print(
        f"10 tabs at once: {errors} errors; frames/s per tab "
        f"{min(t['frames'] for t in tabs) / args.seconds:.1f}-"
        f"{max(t['frames'] for t in tabs) / args.seconds:.1f}; epochs per tab "
        f"{min(t['epochs'] for t in tabs)}-{max(t['epochs'] for t in tabs)}",
        flush=True,
    )
    mem = await memory(server, args.minutes)
    out["memory"] = mem
    print(
        f"memory over {args.minutes:g} min of training: {mem['rss_after_warmup_mib']:.1f} MiB "
        f"after warm-up, max {mem['rss_max_mib']:.1f} MiB ({mem['growth_pct']:+.1f}%), "
        f"{mem['restarts']} restarts at the last epoch",
        flush=True,
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per throughput figure")
    parser.add_argument("--minutes", type=float, default=3.0, help="of training for memory")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--screenshot", type=Path, help="write the README picture here")
    args = parser.parse_args()
    server = Server()
    try:
        result = asyncio.run(run(args, server))
        result["page_fps"] = page_frames_per_second(server, args.seconds)
        print(f"the page in Chromium: {result['page_fps']:.1f} frames/s drawn", flush=True)
        if args.screenshot:
            screenshot(server, args.screenshot)
            print(f"screenshot: {args.screenshot}")
    finally:
        code = server.stop()
    print(f"server stopped with exit status {code}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
