"""Pruning a grid before it runs: successive halving over epochs (`micrograd sweep --prune`).

Every setting trains a short while (a ninth of its epochs, then a third, with the plan's first
seed); after each rung only the best third (by the held-out score when the runs keep one, as the
table ranks) goes on. The survivors make the sweep's plan and run in full, with every seed. A
bad setting so costs a ninth of a run instead of `seeds` full runs; the screening runs are not
results and are not stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .backends import Backend
from .results import higher_is_better, ranking_metric
from .runner import RunRecord, run_jobs
from .spec import Job, config_from_dict, setting_key
from .store import Plan

__all__ = ["ETA", "Pruning", "successive_halving"]

ETA = 3  # keep the best third at each rung


@dataclass(frozen=True)
class Pruning:
    """What the screening did: the plan that survives, and per rung its epochs and how many
    settings it kept of how many."""

    plan: Plan
    rungs: list[tuple[float, int, int]]  # (fraction of the epochs, kept, of)

    def describe(self) -> str:
        steps = ", ".join(f"{k} of {n} after {f:.3g} of the epochs" for f, k, n in self.rungs)
        return f"pruned by successive halving: {steps}" if steps else "nothing to prune"


def _score(record: RunRecord | None, name: str) -> float:
    """Lower is better; a run that failed or diverged goes last."""
    value = record.metrics.get(name, math.nan) if record is not None else math.nan
    if not math.isfinite(value):
        return math.inf
    return -value if higher_is_better(name) else value


def successive_halving(plan: Plan, backend: Backend, metric: str | None = None) -> Pruning:
    """Screen `plan`'s settings on `backend` and keep the best at each rung (see the module),
    ranked by `metric` (`SweepError` when the screening runs do not report it)."""
    settings = list(plan.settings)
    rungs: list[tuple[float, int, int]] = []
    seed = plan.seeds[0]
    for fraction in (1 / ETA**2, 1 / ETA):
        if len(settings) <= ETA:
            break
        jobs = []
        for s in settings:
            config = config_from_dict(s)
            short = replace(config, epochs=max(1, math.ceil(config.epochs * fraction)), seed=seed)
            jobs.append(Job(setting_key(config), short, seed))
        records: dict[int, RunRecord] = {}
        run_jobs(jobs, backend, records.__setitem__)
        name = ranking_metric(list(records.values()), metric)  # one the runs report
        scores = [_score(records.get(i), name) for i in range(len(settings))]
        keep = math.ceil(len(settings) / ETA)
        order = sorted(range(len(settings)), key=lambda i: (scores[i], i))
        rungs.append((fraction, keep, len(settings)))
        settings = [settings[i] for i in sorted(order[:keep])]
    # the swept fields stay columns of the table even where the survivors agree: which values
    # survived is the point
    return Pruning(replace(plan, settings=settings), rungs)
