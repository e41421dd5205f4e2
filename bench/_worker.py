"""One benchmark contender in its own process, driven by `bench/suite.py` over stdin/stdout.

Protocol, one line each way: a JSON object sets up a workload for this process's contender
(answer: {"rss_kib"}, the resident memory once data and model exist); `steps K N` runs training
steps K to K+N-1 back to back and answers {"steps": [{"ms", "loss"}, ...]}; `memory K` runs one
more step and answers what it cost in
memory (tracemalloc's peak, which sees Python objects only, and the process's resident peak
during the step, which sees everything: numpy's and PyTorch's buffers too) with the peak
resident memory of the whole process so far; `quit` ends.

This file also runs under the original micrograd's own virtual environment, so nothing from
this repository is imported at the top: each contender module is imported when it is chosen.
A step is timed exactly as its user would write it: no garbage-collector pause is added here.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

Step = Callable[[int], float]

# contender -> (module in bench/, builder function, its keyword arguments)
CONTENDERS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "original": ("_original", "build", {}),
    "micrograd per-sample": ("_micrograd", "build", {"batched": False}),
    "micrograd batched": ("_micrograd", "build", {"batched": True}),
    # the original demo notebook's hand-written loop (bench/_original.py), run on this micrograd
    "micrograd notebook loop": ("_original", "build", {}),
    # the same code run against an earlier checkout (suite.py --before DIR puts it on the path)
    "micrograd per-sample (before)": ("_micrograd", "build", {"batched": False}),
    "micrograd batched (before)": ("_micrograd", "build", {"batched": True}),
    "torch f64 optim": ("_torch", "build", {"dtype": "float64", "lean": False}),
    "torch f64 lean": ("_torch", "build", {"dtype": "float64", "lean": True}),
    "torch f32 optim": ("_torch", "build", {"dtype": "float32", "lean": False}),
    "torch f32 lean": ("_torch", "build", {"dtype": "float32", "lean": True}),
    "numpy": ("_numpy", "build", {}),
}

STATUS = "/proc/self/status"


def _status_kib(field: str) -> int | None:
    """A memory line of /proc/self/status in KiB (Linux), or None where there is none."""
    try:
        with open(STATUS) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_kib() -> int | None:
    return _status_kib("VmRSS")


def peak_rss_kib() -> int:
    """The process's peak resident memory: VmHWM, else getrusage (KiB on Linux, bytes on macOS)."""
    hwm = _status_kib("VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def reset_peak_rss() -> bool:
    """Let VmHWM start again from the current resident size (Linux >= 4.0); False if it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def build(contender: str, spec: dict[str, Any]) -> Step:
    module, function, kwargs = CONTENDERS[contender]
    builder = getattr(importlib.import_module(module), function)
    step: Step = builder(spec, **kwargs)
    return step


def memory(step: Step, k: int) -> dict[str, Any]:
    gc.collect()
    before = rss_kib()
    resettable = reset_peak_rss()
    step(k)
    step_peak = peak_rss_kib() if resettable else None
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    step(k + 1)
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    step_rss = None if step_peak is None or before is None else max(step_peak - before, 0)
    return {
        "tracemalloc_step_kib": traced / 1024,
        "step_rss_kib": step_rss,
        "process_peak_rss_kib": peak_rss_kib(),
    }


def main() -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    contender = sys.argv[1]
    step: Step | None = None
    out = sys.stdout
    for line in sys.stdin:
        if line.startswith("{"):
            step = None
            gc.collect()
            step = build(contender, json.loads(line))
            out.write(json.dumps({"rss_kib": rss_kib()}) + "\n")
        elif line.startswith("steps ") and step is not None:
            # back to back, as a training loop runs them; the times are sent after the last
            first, count = map(int, line.split()[1:])
            timed = []
            for k in range(first, first + count):
                t = time.perf_counter()
                loss = step(k)
                timed.append({"ms": (time.perf_counter() - t) * 1e3, "loss": loss})
            out.write(json.dumps({"steps": timed}) + "\n")
        elif line.startswith("memory ") and step is not None:
            out.write(json.dumps(memory(step, int(line.split()[1]))) + "\n")
        elif line.strip() == "quit":
            break
        else:
            raise SystemExit(f"_worker.py: unexpected line {line.strip()!r}")
        out.flush()


if __name__ == "__main__":
    main()
