"""A real `dask scheduler` killed mid-sweep (issue 25): the runs it had are lost, not results:
nothing of theirs is stored and the command says how many and exits 1, in one line (that
`--resume` then runs exactly the lost runs is tested in test_sweep_held_out.py). The scheduler
and its worker are real processes on loopback."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path

from cli_helpers import command, command_env
from dask_helpers import dask_scheduler, dask_workers, free_port


def counts(db: Path) -> dict[str, int]:
    if not db.exists():
        return {}
    with sqlite3.connect(db) as c:
        try:
            return dict(c.execute("SELECT status, COUNT(*) FROM runs GROUP BY status"))
        except sqlite3.OperationalError:
            return {}


def test_a_killed_scheduler_loses_its_runs_and_none_is_stored_as_a_result(tmp_path: Path) -> None:
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = dask_scheduler(port)
    worker = None
    try:
        time.sleep(2)
        worker = dask_workers(address, 4)  # one per run: a short run never waits behind a long one
        db = tmp_path / "k.db"
        # two short runs that finish at once, two long ones still running when it dies
        argv = [command(), "sweep", "--grid", "epochs=2,400000", "lr=0.1,0.3", "--samples", "40"]
        argv += ["--seeds", "1", "--scheduler", address, "--db", str(db), "--no-plots", "--quiet"]
        driver = subprocess.Popen(
            argv,
            env=command_env(),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 90
        while counts(db).get("finished", 0) < 2 and time.monotonic() < deadline:
            assert driver.poll() is None, driver.communicate()
            time.sleep(0.3)
        assert counts(db) == {"finished": 2}, counts(db)
        time.sleep(1.0)
        scheduler.kill()
        scheduler.wait()
        _, err = driver.communicate(timeout=60)
        assert driver.returncode == 1, err
        assert "the backend lost 2 runs" in err and f"--resume {db}" in err
        assert "Traceback" not in err
        assert counts(db) == {"finished": 2}  # never an `error` row for a lost run
    finally:
        scheduler.kill()
        if worker is not None:
            worker.kill()
            worker.wait()
