"""A sweep's results: per-setting summaries over seeds, ranked, and CSV/JSON exports.

`summarise(plan, records)` groups the runs by setting into `SettingResult`s, each holding a
`train.RunsSummary` (the same summary `evaluate` and `compare` give: loss and score mean ± std,
convergence and divergence counts) plus the runs that raised. Settings rank by their mean score
(accuracy: higher is better; RMSE: lower), then by mean loss; settings with no finished run come
last. `by_value` groups runs by one parameter's value, for box plots and marginal views.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..run import RunsSummary
from .runner import RunRecord, outcome
from .spec import SweepError, config_from_dict, setting_key
from .store import Plan

__all__ = [
    "METRICS",
    "SettingResult",
    "by_value",
    "higher_is_better",
    "metric_of",
    "ranking_metric",
    "runs_csv",
    "show_value",
    "summarise",
    "summary_json",
]


def show_value(value: Any) -> str:
    """A config value as typed on the command line: layers 16,16,1; floats short."""
    if value is None:
        return "none"
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


METRICS = tuple(
    f"{split}{name}" for split in ("val_", "test_", "") for name in ("accuracy", "rmse", "loss")
)


def metric_of(records: Iterable[RunRecord]) -> str:
    """The score that ranks the runs: on held-out data when they have it (validation first,
    then test), else on the training data; rmse for regression, else accuracy."""
    keys: set[str] = set()
    for r in records:
        keys.update(r.metrics)
    for name in METRICS:
        if name in keys and not name.endswith("loss"):
            return name
    return "accuracy"


def ranking_metric(records: Sequence[RunRecord], metric: str | None = None) -> str:
    """`metric`, checked to be one the runs report (`SweepError` if not), or by default
    `metric_of(records)`: what `summarise` ranks by, and `prune` screens by."""
    if metric is None:
        return metric_of(records)
    if metric not in METRICS:
        raise SweepError(f"unknown metric {metric!r}: expected one of {', '.join(METRICS)}")
    if records and not any(metric in r.metrics for r in records):
        have = sorted({k for r in records for k in r.metrics} & set(METRICS))
        raise SweepError(
            f"the runs have no {metric!r}: they report {', '.join(have) or 'nothing yet'}"
            + (" (give --val or --test to keep held-out data)" if "_" in metric else "")
        )
    return metric


def higher_is_better(metric: str) -> bool:
    return metric.endswith("accuracy")


@dataclass
class SettingResult:
    """One setting's runs: its config, the values of the swept fields, the summary over seeds
    and the errors of runs that raised. `planned` counts the runs the plan asks for."""

    key: str
    config: dict[str, Any]
    values: dict[str, Any]
    summary: RunsSummary
    records: list[RunRecord] = field(default_factory=list)
    planned: int = 0

    @property
    def errors(self) -> list[str]:
        return [r.error or "" for r in self.records if r.status == "error"]

    @property
    def metric(self) -> str:
        return self.summary.metric

    @property
    def score(self) -> float:
        return self.summary.score["mean"]

    def label(self) -> str:
        return " ".join(f"{k}={show_value(v)}" for k, v in self.values.items()) or "(one setting)"


def _rank(result: SettingResult) -> tuple[float, ...]:
    score = result.score
    if math.isnan(score):
        return (1, math.inf, math.inf)
    sign = -1.0 if higher_is_better(result.metric) else 1.0
    loss = result.summary.loss["mean"]
    return (0, sign * score, loss if math.isfinite(loss) else math.inf)


def summarise(
    plan: Plan, records: Iterable[RunRecord], metric: str | None = None
) -> list[SettingResult]:
    """Every planned setting with its runs so far, best first by `metric` (default: the
    held-out score when the runs have one, see `metric_of`)."""
    records = list(records)
    metric = ranking_metric(records, metric)
    by_key: dict[str, list[RunRecord]] = {}
    for r in records:
        by_key.setdefault(r.key, []).append(r)
    out = []
    for settings in plan.settings:
        config = config_from_dict(settings)
        key = setting_key(config)
        runs = sorted(by_key.get(key, []), key=lambda r: r.seed)
        counted = [r for r in runs if r.status != "error"]
        summary = RunsSummary(config, metric, [outcome(r, metric) for r in counted])
        values = {k: settings[k] for k in plan.varied}
        out.append(SettingResult(key, settings, values, summary, runs, len(plan.seeds)))
    return sorted(out, key=_rank)


def by_value(results: Sequence[SettingResult], name: str) -> dict[str, RunsSummary]:
    """Every run grouped by the value of one swept field: {value as text: summary}."""
    groups: dict[str, list[SettingResult]] = {}
    for result in results:
        groups.setdefault(show_value(result.values[name]), []).append(result)

    def order(text: str) -> tuple[int, float, str]:
        try:
            return (0, float(text), text)
        except ValueError:
            return (1, 0.0, text)

    out = {}
    for text in sorted(groups, key=order):
        members = groups[text]
        runs = [o for m in members for o in m.summary.runs]
        out[text] = RunsSummary(members[0].summary.config, members[0].metric, runs)
    return out


def _stats(stats: Mapping[str, float]) -> dict[str, float | None]:
    return {k: (v if math.isfinite(v) else None) for k, v in stats.items()}


def summary_json(plan: Plan, results: Sequence[SettingResult]) -> dict[str, Any]:
    """The ranked settings and every run, as plain JSON (NaN as null)."""
    return {
        "varied": plan.varied,
        "seeds": plan.seeds,
        "settings": [
            {
                "rank": i + 1,
                "key": r.key,
                "values": r.values,
                "config": r.config,
                "metric": r.metric,
                "runs": len(r.records),
                "planned": r.planned,
                "loss": _stats(r.summary.loss),
                r.metric: _stats(r.summary.score),
                "converged": r.summary.converged,
                "diverged": r.summary.diverged,
                "errors": r.errors,
            }
            for i, r in enumerate(results)
        ],
        "runs": [
            {
                "key": rec.key,
                "seed": rec.seed,
                "status": rec.status,
                "metrics": _stats(rec.metrics),
                "epochs": rec.epochs,
                "seconds": rec.seconds,
                "converged": rec.converged,
                "error": rec.error,
            }
            for r in results
            for rec in r.records
        ],
    }


def runs_csv(plan: Plan, results: Sequence[SettingResult]) -> str:
    """One row per run: the swept values, the seed, the status and the final metrics."""
    metrics = sorted({k for r in results for rec in r.records for k in rec.metrics})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "rank",
            "key",
            *plan.varied,
            "seed",
            "status",
            *metrics,
            "epochs",
            "converged",
            "seconds",
            "error",
        ]
    )
    for rank, r in enumerate(results, 1):
        for rec in r.records:
            writer.writerow(
                [
                    rank,
                    r.key,
                    *(show_value(r.values[k]) for k in plan.varied),
                    rec.seed,
                    rec.status,
                    *(_cell(rec.metrics.get(k)) for k in metrics),
                    rec.epochs,
                    int(rec.converged),
                    f"{rec.seconds:.4f}",
                    rec.error or "",
                ]
            )
    return out.getvalue()


def _cell(x: float | None) -> str:
    return "" if x is None or not math.isfinite(x) else repr(x)


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, allow_nan=False) + "\n"
