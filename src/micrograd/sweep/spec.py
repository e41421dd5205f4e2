"""Sweep plans: which settings to train, and over which seeds.

A `Sweep` holds a grid (every combination of the listed values; a key with one value is simply
fixed), optional random-search ranges (`draws` settings, learning rates log-uniform), and the
seeds every setting is trained with. `Sweep.jobs()` expands it into `Job`s, one per
(setting, seed), in a fixed order: the same sweep always gives the same jobs.

Text becomes values through `Parameter`s, one per `TrainConfig` field, supplied by the caller:
the command line hands in its own option parsers, so a sweep accepts exactly what
`micrograd train` accepts. `parse_grid` reads `--grid` items such as `lr=0.01,0.1,1` or
`layers=8,8,1/16,16,1`; `load_sweep_file` reads a TOML sweep file. Both raise `SweepError`,
one line that names the key, the value and what was expected.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..loop import ConfigError
from ..run import TrainConfig, dataset_defaults

__all__ = [
    "LOG_SCALE_FIELDS",
    "MAX_RUNS",
    "Job",
    "Parameter",
    "Range",
    "Sweep",
    "SweepError",
    "check_size",
    "config_from_dict",
    "load_sweep_file",
    "parse_grid",
    "parse_range",
    "setting_key",
]

# Learning rates span decades: a random search draws them log-uniformly unless told otherwise.
LOG_SCALE_FIELDS = frozenset({"lr"})
_FIELDS = {f.name: f for f in fields(TrainConfig)}
_OPTIONAL = frozenset(name for name, f in _FIELDS.items() if "None" in str(f.type))


class SweepError(ValueError):
    """A sweep description is wrong: the message names the key, the value and what was
    expected, on one line."""


# The most runs (settings x seeds) one sweep plans. Its plan holds a config per run (about
# 2 KB each in memory, 200 MB at the limit) and this scalar engine trains tens of runs a second
# per core at best, so a sweep of 100,000 runs is already a day's work; beyond it, the plan
# alone would exhaust the memory (--seeds 100000000 did). Checked by counting, before anything
# is built.
MAX_RUNS = 100_000


def check_size(settings: int, seeds: int) -> None:
    """Raise `SweepError` when `settings` x `seeds` runs are over `MAX_RUNS`."""
    runs = settings * seeds
    if runs > MAX_RUNS:
        raise SweepError(
            f"{settings:,} setting{'s' if settings != 1 else ''} x {seeds:,} "
            f"seed{'s' if seeds != 1 else ''} = {runs:,} runs, over the limit of {MAX_RUNS:,} "
            "runs per sweep: sweep fewer settings or seeds, or split the sweep into several "
            "databases"
        )


@dataclass(frozen=True)
class Parameter:
    """How text becomes the value of one `TrainConfig` field.

    `parse` raises `ValueError` with a message saying what was expected; `name` is how the
    field is typed in a sweep (e.g. "lr", "batch-size"); `choices` lists the allowed values of a
    field that takes names."""

    field: str
    name: str
    parse: Callable[[str], Any]
    choices: tuple[str, ...] | None = None

    def convert(self, text: str) -> Any:
        text = text.strip()
        if text.lower() == "none" and self.field in _OPTIONAL:
            return None
        if self.choices is not None and text not in self.choices:
            raise ValueError(f"{text!r} is not one of {', '.join(self.choices)}")
        return self.parse(text)


@dataclass(frozen=True)
class Range:
    """A random-search range: a draw is uniform in [low, high], or log-uniform (`log`), and
    rounded to a whole number for integer options."""

    low: float
    high: float
    log: bool = False
    integer: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low > self.high:
            raise SweepError(f"a range needs finite low <= high, got {self.low:g}..{self.high:g}")
        if self.log and self.low <= 0:
            raise SweepError(
                f"a log-uniform range needs low > 0, got {self.low:g}..{self.high:g} "
                "(add :linear for a uniform range)"
            )

    def draw(self, rng: random.Random) -> float | int:
        if self.log:
            x = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            x = rng.uniform(self.low, self.high)
        x = min(max(x, self.low), self.high)  # exp(log(x)) may step just outside
        return round(x) if self.integer else x

    def text(self) -> str:
        return f"{self.low:g}..{self.high:g}{' (log)' if self.log else ''}"


@dataclass(frozen=True)
class Job:
    """One run of a sweep: a setting (its `key` and config) and a seed."""

    key: str
    config: TrainConfig
    seed: int


_DEFAULTS = TrainConfig().as_dict()


def setting_key(config: TrainConfig) -> str:
    """A short, stable name of a setting: a hash of its config without the seed. Only values
    that differ from the defaults count, so a database stays resumable when a later micrograd
    adds a training option (with a default that keeps the old behaviour)."""
    values = {k: v for k, v in config.as_dict().items() if k != "seed" and v != _DEFAULTS[k]}
    text = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def config_from_dict(values: Mapping[str, Any]) -> TrainConfig:
    """A `TrainConfig` from plain values (JSON lists as layer tuples); `SweepError` if invalid."""
    unknown = sorted(set(values) - set(_FIELDS))
    if unknown:
        raise SweepError(f"unknown training option {unknown[0]!r}")
    clean = dict(values)
    if clean.get("layers") is not None:
        clean["layers"] = tuple(clean["layers"])
    try:
        return TrainConfig(**clean)
    except (ConfigError, TypeError) as e:
        raise SweepError(str(e)) from None


@dataclass(frozen=True)
class Sweep:
    """Settings to train and the seeds to train each with.

    `grid` maps fields to values: every combination is a setting. With `draws`, a random search
    instead: each draw picks one value of every grid field and draws every field of `ranges`;
    without ranges, `draws` distinct combinations of the grid are picked. `random_seed` makes
    the draws repeatable."""

    grid: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    ranges: Mapping[str, Range] = field(default_factory=dict)
    draws: int | None = None
    seeds: Sequence[int] = tuple(range(10))
    random_seed: int = 0

    def __post_init__(self) -> None:
        for name in (*self.grid, *self.ranges):
            if name not in _FIELDS:
                raise SweepError(f"unknown training option {name!r}")
            if name == "seed":
                raise SweepError("seed cannot be swept: give the seeds instead (--seeds N)")
        both = sorted(set(self.grid) & set(self.ranges))
        if both:
            raise SweepError(f"{both[0]} is given both as values and as a range: give one")
        for name, values in self.grid.items():
            if not values:
                raise SweepError(f"{name} has no values")
        if self.draws is not None and self.draws < 1:
            raise SweepError(f"a random search needs at least one draw, got {self.draws}")
        check_size(self.draws or self._grid_size, len(self.seeds))
        if not self.seeds:
            raise SweepError("a sweep needs at least one seed")
        if len(set(self.seeds)) != len(self.seeds):
            raise SweepError("the seeds repeat: give distinct seeds")
        if self.ranges and self.draws is None:
            name = next(iter(self.ranges))
            raise SweepError(
                f"{name}={self.ranges[name].text()} is a range: ranges need a random search "
                "(--random N, or draws = N in a sweep file)"
            )

    @property
    def _grid_size(self) -> int:
        return math.prod(len(v) for v in self.grid.values())

    @property
    def varied(self) -> list[str]:
        """The fields that differ between settings, in the order given."""
        return [k for k, v in self.grid.items() if len(v) > 1] + list(self.ranges)

    def _combinations(self) -> list[dict[str, Any]]:
        names = list(self.grid)
        if self.draws is None:
            return [
                dict(zip(names, values, strict=True))
                for values in itertools.product(*(self.grid[n] for n in names))
            ]
        rng = random.Random(self.random_seed)
        if not self.ranges:
            size = self._grid_size
            if self.draws > size:
                raise SweepError(
                    f"--random {self.draws} asks for more settings than the grid has "
                    f"({size}): draw at most {size}, or add a range"
                )
            # The same draws as sampling the listed product (`sample` picks positions from
            # the length alone), without listing a product that may be astronomically long.
            return [self._combination(i) for i in rng.sample(range(size), self.draws)]
        out = []
        for _ in range(self.draws):
            values = {n: rng.choice(list(self.grid[n])) for n in names}
            values.update({n: r.draw(rng) for n, r in self.ranges.items()})
            out.append(values)
        return out

    def _combination(self, index: int) -> dict[str, Any]:
        """The grid's combination at `index` in `itertools.product` order (last key fastest)."""
        values: dict[str, Any] = {}
        for name in reversed(list(self.grid)):
            index, i = divmod(index, len(self.grid[name]))
            values[name] = self.grid[name][i]
        return {name: values[name] for name in self.grid}

    def settings(self) -> list[TrainConfig]:
        """Every setting once, in order; `SweepError` names the first invalid one."""
        out: list[TrainConfig] = []
        seen: set[str] = set()
        for values in self._combinations():
            try:
                # Each dataset's own defaults fill what the sweep leaves out, as in `train`;
                # they are stored with the setting, so a resumed sweep trains what it planned.
                config = config_from_dict({**dataset_defaults(values), **values})
            except SweepError as e:
                shown = " ".join(f"{k}={_show(v)}" for k, v in values.items() if k in self.varied)
                raise SweepError(f"the setting {shown or '(fixed)'} is invalid: {e}") from None
            key = setting_key(config)
            if key not in seen:
                seen.add(key)
                out.append(config)
        return out

    def jobs(self) -> list[Job]:
        """One job per (setting, seed): seed by seed, so every setting gets results early."""
        settings = [(setting_key(c), c) for c in self.settings()]
        return [
            Job(key, replace(config, seed=seed), seed)
            for seed in self.seeds
            for key, config in settings
        ]


def _show(value: Any) -> str:
    if isinstance(value, tuple | list):
        return ",".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# -- text: --grid items and sweep files ---------------------------------------------------------


def _lookup(parameters: Iterable[Parameter], name: str, where: str) -> Parameter:
    by_name: dict[str, Parameter] = {}
    for p in parameters:
        for alias in {p.name, p.field, p.field.replace("_", "-"), p.name.replace("-", "_")}:
            by_name[alias] = p
    if name in by_name:
        return by_name[name]
    if name == "seed":
        raise SweepError(f"{where}: seed cannot be swept: give the number of seeds (--seeds N)")
    import difflib

    names = sorted({p.name for p in by_name.values()})
    close = difflib.get_close_matches(name, list(by_name), n=1)
    hint = f" (did you mean {by_name[close[0]].name}?)" if close else ""
    raise SweepError(f"{where}: unknown option {name!r}{hint}: expected one of {', '.join(names)}")


def _convert(p: Parameter, text: str, where: str) -> Any:
    if not text.strip():
        raise SweepError(f"{where}: an empty value for {p.name}")
    try:
        return p.convert(text)
    except ValueError as e:
        raise SweepError(f"{where}: {e}") from None


def parse_range(p: Parameter, text: str, where: str) -> Range:
    """'0.001..1' (log-uniform for learning rates, else uniform), '0..0.01:linear', '1..8:log'."""
    body, _, scale = text.partition(":")
    if scale not in ("", "log", "linear"):
        raise SweepError(f"{where}: unknown scale {scale!r}: expected log or linear")
    low_text, _, high_text = body.partition("..")
    low, high = _convert(p, low_text, where), _convert(p, high_text, where)
    if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in (low, high)):
        raise SweepError(f"{where}: {p.name} takes names, not numbers: list its values instead")
    log = scale == "log" or (scale == "" and p.field in LOG_SCALE_FIELDS)
    try:
        return Range(
            float(low), float(high), log=log, integer=isinstance(low, int) and isinstance(high, int)
        )
    except SweepError as e:
        raise SweepError(f"{where}: {e}") from None


def _values(p: Parameter, text: str, where: str) -> list[Any]:
    # Layer lists hold commas themselves: networks are separated by '/'.
    parts = text.split("/") if p.field == "layers" else text.split(",")
    values = [_convert(p, part, where) for part in parts]
    shown = [_show(v) for v in values]
    for s in shown:
        if shown.count(s) > 1:
            raise SweepError(f"{where}: {s} is listed twice: give distinct values")
    return values


def parse_grid(
    items: Sequence[str], parameters: Iterable[Parameter]
) -> tuple[dict[str, list[Any]], dict[str, Range]]:
    """`--grid` items -> (grid values by field, ranges by field).

    `KEY=V1,V2,...` lists values (`layers=8,8,1/16,16,1`: networks separated by '/');
    `KEY=LOW..HIGH` is a random-search range, `:log` or `:linear` after it picks the scale."""
    parameters = list(parameters)
    grid: dict[str, list[Any]] = {}
    ranges: dict[str, Range] = {}
    expected = "expected KEY=VALUE,VALUE,... e.g. lr=0.01,0.1,1"
    for item in items:
        where = f"--grid {item}"
        name, eq, text = item.partition("=")
        if not eq or not name.strip():
            raise SweepError(f"{where}: {expected}")
        p = _lookup(parameters, name.strip(), where)
        if p.field in grid or p.field in ranges:
            raise SweepError(f"{where}: {p.name} is given twice: list all its values in one item")
        if ".." in text and p.field != "data_path":
            ranges[p.field] = parse_range(p, text, where)
        else:
            grid[p.field] = _values(p, text, where)
    return grid, ranges


_FILE_KEYS = ("seeds", "draws", "random_seed", "fixed", "grid", "ranges")


def _toml_text(value: Any, p: Parameter, where: str) -> str:
    """A TOML value as the text the option parser reads (layers as a list of widths)."""
    if isinstance(value, bool | dict):
        raise SweepError(f"{where}: expected a value for {p.name}, got {value!r}")
    if isinstance(value, list):
        if p.field == "layers" and all(
            isinstance(w, int) and not isinstance(w, bool) for w in value
        ):
            return ",".join(map(str, value))
        raise SweepError(f"{where}: expected one value for {p.name}, got the list {value!r}")
    return repr(value) if isinstance(value, float) else str(value)


def _file_values(value: Any, p: Parameter, where: str) -> list[Any]:
    """A [grid] entry: one value, or a list of values (for layers: a list of lists)."""
    items = value if isinstance(value, list) else [value]
    if p.field == "layers" and isinstance(value, list) and value and not isinstance(value[0], list):
        items = [value]  # layers = [8, 8, 1] is one network
    if not items:
        raise SweepError(f"{where}: an empty list: give at least one value")
    values = [_convert(p, _toml_text(v, p, where), where) for v in items]
    shown = [_show(v) for v in values]
    for s in shown:
        if shown.count(s) > 1:
            raise SweepError(f"{where}: {s} is listed twice: give distinct values")
    return values


def _file_range(value: Any, p: Parameter, where: str) -> Range:
    if isinstance(value, str):
        return parse_range(p, value, where)
    if (
        not isinstance(value, dict)
        or set(value) - {"low", "high", "scale"}
        or not ({"low", "high"} <= set(value))
    ):
        raise SweepError(
            f'{where}: expected {{ low = ..., high = ... }} with an optional scale = "log" or '
            f'"linear", or a string like "0.001..1", got {value!r}'
        )
    scale = value.get("scale", "")
    text = f"{_toml_text(value['low'], p, where)}..{_toml_text(value['high'], p, where)}" + (
        f":{scale}" if scale else ""
    )
    return parse_range(p, text, where)


def _whole(value: Any, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SweepError(f"{where}: expected a whole number >= {minimum}, got {value!r}")
    return value


def load_sweep_file(path: str | Path, parameters: Iterable[Parameter]) -> Sweep:
    """A TOML sweep file -> `Sweep`. Top-level keys: `seeds` (a count or a list), `draws`
    (random search), `random_seed`; tables `[fixed]` (one value each), `[grid]` (a value or a
    list of values each) and `[ranges]` (`{ low = ..., high = ..., scale = "log" }` or
    `"LOW..HIGH"`)."""
    path = Path(path)
    parameters = list(parameters)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise SweepError(f"{path}: no such sweep file") from None
    except IsADirectoryError:
        raise SweepError(f"{path} is a folder: expected a TOML sweep file") from None
    except tomllib.TOMLDecodeError as e:
        raise SweepError(f"{path}: not valid TOML: {e}") from None
    except UnicodeDecodeError:
        raise SweepError(f"{path}: not a text file: expected a TOML sweep file") from None
    unknown = [k for k in data if k not in _FILE_KEYS]
    if unknown:
        raise SweepError(
            f"{path}: unknown key {unknown[0]!r}: expected {', '.join(_FILE_KEYS)} "
            "(training options go in [fixed], [grid] or [ranges])"
        )
    grid: dict[str, list[Any]] = {}
    ranges: dict[str, Range] = {}
    for table in ("fixed", "grid", "ranges"):
        entries = data.get(table, {})
        if not isinstance(entries, dict):
            raise SweepError(f"{path}: {table} must be a table [{table}], got {entries!r}")
        for name, value in entries.items():
            where = f"{path}: [{table}] {name}"
            p = _lookup(parameters, name, where)
            if p.field in grid or p.field in ranges:
                raise SweepError(f"{where}: {p.name} is given twice")
            if table == "ranges":
                ranges[p.field] = _file_range(value, p, where)
            elif table == "fixed" and isinstance(value, list) and p.field != "layers":
                raise SweepError(f"{where}: [fixed] takes one value: put lists in [grid]")
            else:
                grid[p.field] = _file_values(value, p, where)
    seeds_value = data.get("seeds", 10)
    seeds: Sequence[int]
    if isinstance(seeds_value, list):
        seeds = [_whole(s, f"{path}: seeds", 0) for s in seeds_value]
    else:
        seeds = range(_whole(seeds_value, f"{path}: seeds", 1))
    draws = data.get("draws")
    try:
        sweep = Sweep(
            grid=grid,
            ranges=ranges,
            draws=None if draws is None else _whole(draws, f"{path}: draws", 1),
            seeds=seeds,  # a count stays a range until the sweep's size is checked
            random_seed=_whole(data.get("random_seed", 0), f"{path}: random_seed", 0),
        )
        return replace(sweep, seeds=list(sweep.seeds))
    except SweepError as e:
        raise SweepError(f"{path}: {e}") from None
