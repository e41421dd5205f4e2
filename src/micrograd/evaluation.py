"""Repeated runs: `evaluate(config, seeds)` trains once per seed and summarises the distribution,
like the code tour's evaluation loops.

The runs go through `micrograd.sweep.runner`, the one way to run many runs (in parallel
processes, with the same results as a serial run), so this module sits above the sweep package.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor

from .loop import DEFAULT_LOSS, check_task_loss
from .run import RunsSummary, TrainConfig, build_model, load_data
from .sweep import runner
from .sweep.backends import Backend, cores, local_workers

__all__ = ["EvaluationInterrupted", "evaluate"]


class EvaluationInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped `evaluate`: `summary` holds the runs that had finished by then."""

    def __init__(self, summary: RunsSummary) -> None:
        super().__init__(f"interrupted after {len(summary.runs)} finished runs")
        self.summary = summary


def evaluate(
    config: TrainConfig,
    seeds: Sequence[int] = range(10),
    workers: int | None = None,
    executor: Executor | None = None,
) -> RunsSummary:
    """Train once per seed and summarise. Runs go to `executor` (any `concurrent.futures`
    Executor, so a cluster's can be passed in) or to a process pool of `workers` processes
    (default: one per core; 1 runs serially). Every run depends only on its seed, so the
    results are the same however they are spread. The runs go through
    `micrograd.sweep.runner`, the one way to run many runs (sweeps and `micrograd compare` use it
    too). A setting that cannot train on its data raises `ConfigError` before any run starts; a
    run that fails otherwise raises `RuntimeError`. Ctrl-C raises `EvaluationInterrupted`, holding
    the runs finished by then: queued runs are dropped and, in the process pool, running ones
    ended (an `executor`'s running runs cannot be ended)."""
    seeds = list(seeds)
    if not seeds:
        raise ValueError("evaluate needs at least one seed")
    data = load_data(config)
    metric = "rmse" if data.task == "regression" else "accuracy"
    check_task_loss(data.task, config.loss or DEFAULT_LOSS[data.task])
    build_model(config, data)
    jobs = runner.jobs_for(config, seeds)
    backend = Backend.local(local_workers(workers or cores(), len(jobs)))
    records: dict[int, runner.RunRecord] = {}
    try:
        runner.run_jobs(jobs, backend, records.__setitem__, executor=executor)
    except KeyboardInterrupt:
        finished = [runner.outcome(records[i], metric) for i in sorted(records)]
        raise EvaluationInterrupted(RunsSummary(config, metric, finished)) from None
    ordered = [records[i] for i in sorted(records)]
    for record in ordered:
        if record.status == "error":
            raise RuntimeError(f"the run with seed {record.seed} failed: {record.error}")
    return RunsSummary(config, metric, [runner.outcome(r, metric) for r in ordered])
