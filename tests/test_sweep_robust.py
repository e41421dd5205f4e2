"""Sweep databases at their edges (issue 25): a file that is refused is left exactly as it
was, and damage inside a database is one line with exit status 2, never a traceback; a large
sweep's table reads no per-epoch histories but the best setting's."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from cli_helpers import Capsys, assert_error
from cli_helpers import run as run_main

from micrograd.sweep import Backend, Plan, Store, StoreError, Sweep, run_sweep


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("content", [b"", b"not a database at all\n" * 50, b"SQLite format 3\x00"])
def test_a_refused_file_is_left_exactly_as_it_was(
    tmp_path: Path, capsys: Capsys, content: bytes
) -> None:
    db = tmp_path / "odd.db"
    db.write_bytes(content)
    before = digest(db)
    assert_error(["sweep", "show", str(db)], capsys, str(db))
    assert_error(["sweep", "--resume", str(db)], capsys, str(db))
    assert digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd.db"]  # no -wal, no -shm


def small(tmp_path: Path) -> Path:
    plan = Plan.from_sweep(
        Sweep(grid={"lr": [0.1, 1.0], "samples": [30], "epochs": [3]}, seeds=[0, 1])
    )
    db = tmp_path / "s.db"
    with Store.create(db, plan) as store:
        run_sweep(store, Backend.parse("serial"))
    return db


def test_damage_inside_the_database_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: Capsys
) -> None:
    db = small(tmp_path)
    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE runs SET metrics = '{not json' WHERE id = 2")
    assert_error(["sweep", "show", str(db), "--no-plots"], capsys, "is damaged")
    assert_error(["sweep", "--resume", str(db), "--no-plots"], capsys, "is damaged")
    with Store.open(db) as store, pytest.raises(StoreError, match="is damaged"):
        list(store.records())


def test_pages_overwritten_inside_the_file_are_one_line_too(tmp_path: Path, capsys: Capsys) -> None:
    db = small(tmp_path)
    with sqlite3.connect(db) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    page = 4096
    for k in range(2 * page, min(len(data), 5 * page)):  # the tables' pages, not the header
        data[k] = 0xA5
    db.write_bytes(bytes(data))
    status = run_main(["sweep", "show", str(db), "--no-plots"])
    _, err = capsys.readouterr()
    assert status == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_the_table_reads_histories_only_for_the_best_setting(tmp_path: Path) -> None:
    db = small(tmp_path)
    with Store.open(db) as store:
        light = list(store.records(histories=False))
        assert light and all(r.history == [] and r.epochs == 3 for r in light)
        key = light[0].key
        full = list(store.records(key=key))
        assert full and all(r.key == key and len(r.history) == 3 for r in full)


def test_the_table_never_cuts_a_value(tmp_path: Path, capsys: Capsys) -> None:
    layers = "16,16,16,16,16,16,1/8,8,8,8,8,8,1"
    argv = ["sweep", "--grid", f"layers={layers}", "lr=0.0123456,0.98765", "l2=0.000123456,0"]
    argv += ["activation=tanh,relu", "--samples", "30", "--epochs", "2", "--seeds", "1"]
    argv += ["--workers", "1", "--db", str(tmp_path / "w.db"), "--no-plots"]
    assert run_main(argv) == 0
    out = capsys.readouterr().out
    for value in ("16,16,16,16,16,16,1", "8,8,8,8,8,8,1", "0.0123456", "0.98765", "0.000123456"):
        assert value in out, value
    assert "…" not in out


def test_a_scheduler_with_no_workers_is_reported_not_waited_on_forever(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A real `dask scheduler` process on loopback with no worker: the backend says so."""
    import time

    from dask_helpers import dask_scheduler, free_port

    import micrograd.sweep.backends as backends
    from micrograd.sweep import BackendError

    port = free_port()
    scheduler = dask_scheduler(port)
    try:
        monkeypatch.setattr(backends, "WORKERS_WAIT", 2.0)
        address = f"tcp://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with backends.open_backend(Backend.parse(address)):
                    pass
            except BackendError as e:
                if "cannot reach" in str(e) and time.monotonic() < deadline:
                    time.sleep(0.5)  # the scheduler is still starting
                    continue
                assert "has had no workers for 2 s" in str(e)
                assert f"dask worker {address}" in str(e)
                break
            raise AssertionError("a scheduler without workers was taken as ready")
    finally:
        scheduler.kill()
        scheduler.wait()
