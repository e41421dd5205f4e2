"""Sweeps: many training settings over many seeds, here or on a Dask cluster, resumable.

    from micrograd.sweep import Sweep, Plan, Store, Backend, run_sweep, summarise

    sweep = Sweep(grid={"activation": ["tanh", "relu"], "lr": [0.01, 0.1, 1.0]},
                  seeds=range(10))
    with Store.create("sweep.db", Plan.from_sweep(sweep)) as store:
        run_sweep(store, Backend.parse("local:2"))        # a Dask LocalCluster of 2 workers
        best = summarise(store.plan(), store.records())[0]

`spec` describes sweeps (grids, random search, TOML files), `backends` says where runs go
(serial, local processes, Dask), `runner` runs many runs on a backend, `store` keeps them in
SQLite, `driver` runs what a database still lacks, `results` summarises and exports. Dask is
imported only when a Dask backend is used.
"""

from .backends import Backend, BackendError, open_backend
from .driver import Estimate, estimate, run_sweep
from .results import SettingResult, by_value, runs_csv, summarise, summary_json
from .runner import RunRecord, execute, jobs_for, outcome, run, run_jobs
from .spec import Job, Parameter, Range, Sweep, SweepError, load_sweep_file, parse_grid
from .store import Plan, Store, StoreError

__all__ = [
    "Backend",
    "BackendError",
    "Estimate",
    "Job",
    "Parameter",
    "Plan",
    "Range",
    "RunRecord",
    "SettingResult",
    "Store",
    "StoreError",
    "Sweep",
    "SweepError",
    "by_value",
    "estimate",
    "execute",
    "jobs_for",
    "load_sweep_file",
    "open_backend",
    "outcome",
    "parse_grid",
    "run",
    "run_jobs",
    "run_sweep",
    "runs_csv",
    "summarise",
    "summary_json",
]
