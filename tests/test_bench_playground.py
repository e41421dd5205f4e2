"""A short run of the playground benchmark (the real figures come from a full run, not tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "playground.py"


def test_the_playground_benchmark_runs_and_reports_every_figure(tmp_path: Path) -> None:
    pytest.importorskip("websockets", reason="the benchmark's clients use websockets")
    out = tmp_path / "playground.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--seconds", "1", "--minutes", "0.05", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["fps_full_speed"]["fps"] > 0 and result["fps_default_pace"]["fps"] > 0
    assert result["first_frame_s"]["max"] > 0
    assert len(result["concurrent"]) == 10
    assert all(tab["frames"] > 0 and tab["errors"] == [] for tab in result["concurrent"])
    assert result["memory"]["rss_max_mib"] > 0
    assert result["page_fps"] > 0
    assert "server stopped with exit status 0" in done.stdout
