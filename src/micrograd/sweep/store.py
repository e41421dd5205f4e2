"""A sweep's database: one SQLite file (stdlib `sqlite3`, WAL mode) with the plan and the runs.

Table `sweep` holds the plan (every setting's config and the seeds) as JSON, so a sweep can be
resumed from its file alone. Table `runs` holds one row per finished run: the setting's key,
the seed, the config (JSON), the status (`finished`, `diverged`, `error`), the final metrics,
epochs, seconds and the epoch-by-epoch history (JSON). `(key, seed)` is unique: a run is stored
once. Only the driver writes, one transaction per run, so a sweep killed at any moment loses at
most the runs that were in flight.

A new database is built whole in a temporary file beside its name and linked into place: a full
disk or a kill while it is created leaves no file behind (nor one that is neither a sweep to
resume nor free to be replaced). A write that fails later (a full disk) raises `StoreError`; the
runs stored before it stay, to be resumed.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..files import link_new, temporary_beside
from .runner import RunRecord
from .spec import Job, Sweep, SweepError, config_from_dict, setting_key

__all__ = ["SCHEMA_VERSION", "Plan", "Store", "StoreError"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sweep (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    seed INTEGER NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('finished', 'diverged', 'error')),
    metrics TEXT NOT NULL,
    epochs INTEGER NOT NULL,
    seconds REAL NOT NULL,
    history TEXT NOT NULL,
    error TEXT,
    converged INTEGER NOT NULL,
    stop_reason TEXT,
    epochs_to_tolerance INTEGER,
    worker TEXT NOT NULL,
    recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (key, seed)
);
"""


class StoreError(ValueError):
    """The file is not a sweep database, or does not hold what was asked."""


@dataclass(frozen=True)
class Plan:
    """What a sweep runs: its settings (configs without meaning in their seed), the seeds, the
    fields that vary between settings, and how it was described (for the record)."""

    settings: list[dict[str, Any]]
    seeds: list[int]
    varied: list[str]
    description: str = ""

    @classmethod
    def from_sweep(cls, sweep: Sweep, description: str = "") -> Plan:
        """The plan of `sweep`: its settings (checked), its seeds, and which fields vary."""
        settings = [c.as_dict() for c in sweep.settings()]
        settings = [json.loads(json.dumps(s)) for s in settings]  # tuples as JSON lists
        varied = [k for k in sweep.varied if len({json.dumps(s[k]) for s in settings}) > 1]
        return cls(settings, list(sweep.seeds), varied, description)

    def is_random(self) -> bool:
        """A random search: its settings are fewer than every combination of the values they
        use (a grid has each combination exactly once)."""
        combinations = math.prod(
            len({json.dumps(s[k]) for s in self.settings}) for k in self.varied
        )
        return len(self.settings) < combinations

    @property
    def runs(self) -> int:
        """How many runs the plan holds (`len(self.jobs())`, without building them)."""
        return len(self.settings) * len(self.seeds)

    def jobs(self) -> list[Job]:
        configs = [config_from_dict(s) for s in self.settings]
        keyed = [(setting_key(c), c) for c in configs]
        return [Job(key, replace(c, seed=seed), seed) for seed in self.seeds for key, c in keyed]

    def to_json(self) -> str:
        return json.dumps(
            {
                "settings": self.settings,
                "seeds": self.seeds,
                "varied": self.varied,
                "description": self.description,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data = json.loads(text)
        return cls(data["settings"], data["seeds"], data["varied"], data.get("description", ""))


def _json(value: Any) -> str:
    """JSON without NaN or infinity (stored as null): SQLite's JSON functions can read it."""

    def clean(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        if isinstance(x, float) and not math.isfinite(x):
            return None
        return x

    return json.dumps(clean(value), allow_nan=False, separators=(",", ":"))


class Store:
    """A sweep database. `Store.create(path, plan)` starts one (refusing to overwrite a file),
    `Store.open(path)` opens an existing one; use as a context manager to close it."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self.db = connection

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL loses nothing when a process is killed (only on power loss).
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    @classmethod
    def _opened(cls, path: Path) -> Store:
        try:
            return cls(path, cls._connect(path))
        except sqlite3.Error as e:
            raise StoreError(f"cannot open {path}: {e}") from None

    @classmethod
    def create(cls, path: str | Path, plan: Plan) -> Store:
        """A new database at `path` holding `plan`; refuses a `path` that exists. Nothing is
        left at `path` (nor beside it) when it cannot be written whole."""
        path = Path(path)
        if path.exists() or path.is_symlink():
            raise StoreError(f"{path} already exists: resume it, or choose another file")
        if not path.parent.is_dir():
            raise StoreError(f"cannot create {path}: the folder {path.parent} does not exist")
        tmp = temporary_beside(path)
        try:
            # closed before linking: the last connection folds the WAL into the file
            with contextlib.closing(cls._connect(tmp)) as db:
                db.executescript(_SCHEMA)
                db.execute("BEGIN")
                db.executemany(
                    "INSERT INTO sweep (name, value) VALUES (?, ?)",
                    [("schema_version", str(SCHEMA_VERSION)), ("plan", plan.to_json())],
                )
                db.execute("COMMIT")
            link_new(tmp, path)
        except sqlite3.Error as e:
            raise StoreError(
                f"cannot create {path}: {e}{_full(path)}; nothing was written"
            ) from None
        except FileExistsError:
            raise StoreError(f"{path} already exists: resume it, or choose another file") from None
        except OSError as e:
            raise OSError(e.errno, e.strerror, str(path)) from None
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(OSError):
                    os.unlink(f"{tmp}{suffix}")
        return cls._opened(path)

    @classmethod
    def open(cls, path: str | Path) -> Store:
        path = Path(path)
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "does not exist"
            raise StoreError(f"{path} {what}: expected a sweep database (a .db file)")
        # Looked at read-only first: a file that is refused is left exactly as it was (opening
        # it for writing would switch it to WAL, or give an empty file a header).
        try:
            probe = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                row = probe.execute(
                    "SELECT value FROM sweep WHERE name = 'schema_version'"
                ).fetchone()
            finally:
                probe.close()
        except sqlite3.DatabaseError:
            raise StoreError(
                f"{path} is not a sweep database (not SQLite, or no sweep table)"
            ) from None
        if row is None or row[0] != str(SCHEMA_VERSION):
            raise StoreError(f"{path} has sweep schema {row and row[0]}, expected {SCHEMA_VERSION}")
        return cls._opened(path)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def plan(self) -> Plan:
        row = self.db.execute("SELECT value FROM sweep WHERE name = 'plan'").fetchone()
        if row is None:
            raise StoreError(f"{self.path} holds no sweep plan")
        try:
            return Plan.from_json(row[0])
        except (ValueError, KeyError, TypeError) as e:
            raise StoreError(f"{self.path}: the sweep plan is damaged: {e}") from None

    def _failed(self, doing: str, error: sqlite3.Error) -> StoreError:
        return StoreError(
            f"{self.path}: cannot {doing}: {error}{_full(self.path)}; what it held before is "
            "kept (resume it once the problem is solved)"
        )

    def set_plan(self, plan: Plan) -> None:
        """Replace the stored plan (a sweep grown with more seeds); the runs stay."""
        try:
            with self.db:
                self.db.execute("UPDATE sweep SET value = ? WHERE name = 'plan'", (plan.to_json(),))
        except sqlite3.Error as e:
            raise self._failed("store the grown plan", e) from None

    def done(self) -> set[tuple[str, int]]:
        """(key, seed) of every run stored."""
        try:
            return {(k, s) for k, s in self.db.execute("SELECT key, seed FROM runs")}
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path} is damaged ({e}): its runs cannot be read") from None

    def remaining(self) -> list[Job]:
        """The plan's jobs not stored yet, in plan order."""
        done = self.done()
        try:
            jobs = self.plan().jobs()
        except SweepError as e:
            raise StoreError(f"{self.path}: the sweep plan is invalid: {e}") from None
        return [j for j in jobs if (j.key, j.seed) not in done]

    def forget_errors(self) -> int:
        """Delete the runs that raised (status `error`), so that the plan runs them again;
        returns how many."""
        try:
            with self.db:
                cursor = self.db.execute("DELETE FROM runs WHERE status = 'error'")
        except sqlite3.Error as e:
            raise self._failed("forget the runs that raised", e) from None
        return cursor.rowcount

    def add(self, record: RunRecord) -> bool:
        """Store one run (its own transaction); False if that (key, seed) was already there."""
        try:
            return self._add(record)
        except sqlite3.Error as e:
            raise self._failed("store a run", e) from None

    def _add(self, record: RunRecord) -> bool:
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO runs (key, seed, config, status, metrics, epochs, seconds, "
            "history, error, converged, stop_reason, epochs_to_tolerance, worker) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.key,
                record.seed,
                _json(record.config),
                record.status,
                _json(record.metrics),
                record.epochs,
                record.seconds,
                _json(record.history),
                record.error,
                int(record.converged),
                record.stop_reason,
                record.epochs_to_tolerance,
                record.worker,
            ),
        )
        return cursor.rowcount == 1

    def records(self, histories: bool = True, key: str | None = None) -> Iterator[RunRecord]:
        """Every stored run (or one setting's), in the order they were recorded. Without
        `histories` each run's per-epoch rows are left out (a large sweep's table needs none).
        A database damaged inside raises `StoreError`."""
        try:
            yield from self._records(histories, key)
        except (sqlite3.DatabaseError, ValueError, TypeError, KeyError) as e:
            raise StoreError(
                f"{self.path} is damaged ({type(e).__name__}: {e}): its runs cannot be read"
            ) from None

    def _records(self, histories: bool, key: str | None) -> Iterator[RunRecord]:
        history_column = "history" if histories else "'[]'"
        where = "" if key is None else " WHERE key = ?"
        rows = self.db.execute(
            "SELECT key, seed, config, status, metrics, epochs, seconds, "
            f"{history_column}, error, converged, stop_reason, epochs_to_tolerance, worker "
            f"FROM runs{where} ORDER BY id",
            () if key is None else (key,),
        )
        for (
            key,
            seed,
            config,
            status,
            metrics,
            epochs,
            seconds,
            history,
            error,
            converged,
            stop_reason,
            to_tol,
            worker,
        ) in rows:
            yield RunRecord(
                key,
                seed,
                json.loads(config),
                status,
                _floats(json.loads(metrics)),
                epochs,
                seconds,
                [_floats(r) for r in json.loads(history)],
                error,
                bool(converged),
                stop_reason,
                to_tol,
                worker,
            )

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    def counts_by_status(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM runs GROUP BY status"))


def _full(path: Path) -> str:
    """ ", the disk is full" when that is why SQLite failed (it says "disk I/O error")."""
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return ""
    return f" (the disk is full: {free // 1024} kB free)" if free < 1 << 20 else ""


def _floats(values: dict[str, Any]) -> dict[str, float]:
    """Stored nulls back to NaN."""
    return {k: math.nan if v is None else v for k, v in values.items()}
