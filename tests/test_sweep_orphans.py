"""A sweep's (or a comparison's) local worker processes end when their driver is killed
outright (SIGKILL, which the driver cannot catch to end them): they watch their parent."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from cli_helpers import command, command_env


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _assert_workers_end_with_their_driver(argv: list[str], cwd: Path) -> None:
    """Start `argv`, wait for its two pool workers, SIGKILL it: the workers end within 10 s."""
    driver = subprocess.Popen(argv, env=command_env(), cwd=cwd)
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.2)
            workers = {p for p in children(driver.pid) if alive(p)}
        assert len(workers) >= 2, "the pool's workers never started"
        time.sleep(1.0)  # the runs are under way
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(p) for p in workers):
            time.sleep(0.2)
        assert not any(alive(p) for p in workers), "orphaned workers are still running"
    finally:
        if driver.poll() is None:
            driver.kill()


def test_workers_end_when_the_driver_is_killed(tmp_path: Path) -> None:
    argv = [command(), "sweep", "--grid", "lr=0.1,1", "--epochs", "100000", "--samples", "200"]
    argv += ["--seeds", "2", "--workers", "2", "--db", str(tmp_path / "s.db"), "--quiet"]
    _assert_workers_end_with_their_driver(argv, tmp_path)


def test_compare_workers_end_when_compare_is_killed(tmp_path: Path) -> None:
    argv = [command(), "compare", "--lr", "0.1", "1", "--epochs", "100000", "--samples", "200"]
    argv += ["--runs", "2", "--workers", "2", "--out", str(tmp_path / "c"), "--quiet"]
    _assert_workers_end_with_their_driver(argv, tmp_path)
