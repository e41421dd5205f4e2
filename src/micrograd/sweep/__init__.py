"""Sweeps: many training settings over many seeds, here or on a Dask cluster, resumable.

    from micrograd.sweep import Sweep, Plan, Store, Backend, run_sweep, summarise

    sweep = Sweep(grid={"activation": ["tanh", "relu"], "lr": [0.01, 0.1, 1.0]},
                  seeds=range(10))
    with Store.create("sweep.db", Plan.from_sweep(sweep)) as store:
        run_sweep(store, Backend.parse("local:2"))        # a Dask LocalCluster of 2 workers
        best = summarise(store.plan(), store.records())[0]

`spec` describes sweeps (grids, random search, TOML files), `runner` runs many runs on one of
its backends (serial, local processes, Dask), `store` keeps them in SQLite, `driver` runs what a
database still lacks, `results` summarises and exports. Dask is imported only when a Dask
backend is used.
"""

from .driver import Estimate, estimate, run_sweep
from .results import SettingResult, by_value, runs_csv, summarise, summary_json
from .runner import (
    Backend,
    BackendError,
    RunRecord,
    execute,
    jobs_for,
    open_backend,
    outcome,
    run,
    run_jobs,
)
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
