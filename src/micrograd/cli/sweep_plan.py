"""What `micrograd sweep` runs: its plan, and the database the plan goes to.

A new sweep's plan comes from `--grid KEY=VALUES...` (with fixed options) or `--file
SWEEP.toml`, and goes to a new database (`--db`, never overwritten). A stored sweep's plan comes
from its database (`--resume SWEEP.db`) and may grow there: `--seeds N` adds seeds to every
setting, `--grid KEY=VALUES` adds values to a swept field (every new combination with the other
fields' values). A sweep grows, it never shrinks: its stored runs stay results. Every setting is
checked against its data before any run starts.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..sweep import (
    Parameter,
    Plan,
    Store,
    StoreError,
    Sweep,
    SweepError,
    load_sweep_file,
    parse_grid,
)
from ..sweep.results import show_value
from ..sweep.spec import check_size, config_from_dict
from .arguments import PROG, UsageError, file_problem
from .options import OPTIONS, prepare

__all__ = ["DEFAULT_DB", "check_settings", "open_sweep", "parameters"]

# Where a new sweep goes without --db: beside the runs of `micrograd train`, out of the way.
DEFAULT_DB = Path("runs") / "sweep.db"


def _wrap(option_parse: Any) -> Any:
    def parse(text: str) -> Any:
        try:
            return option_parse(text)
        except argparse.ArgumentTypeError as e:
            raise ValueError(str(e)) from None

    return parse


def parameters() -> list[Parameter]:
    """The sweepable training options: every option of `micrograd train` but the seed."""
    return [
        Parameter(o.field, o.flag.lstrip("-"), _wrap(o.convert or str), o.choices)
        for o in OPTIONS
        if o.field != "seed"
    ]


def _sweep(args: argparse.Namespace) -> Sweep:
    if args.grid is not None and args.file is not None:
        raise UsageError("give --grid or --file, not both: put every value in the sweep file")
    fixed = [
        f"{o.field}={getattr(args, f'fixed_{o.field}')}"
        for o in OPTIONS
        if getattr(args, f"fixed_{o.field}", None) is not None
    ]
    if fixed and args.file is not None:
        raise UsageError(
            f"{fixed[0].split('=')[0]} is set on the command line and --file is given: put it "
            "in the sweep file, so the file says the whole sweep"
        )
    if args.file is not None:
        sweep = load_sweep_file(args.file, parameters())
        changes: dict[str, Any] = {}
        if args.seeds is not None:
            changes["seeds"] = range(args.seeds)
        if args.random is not None:
            changes["draws"] = args.random
        if args.random_seed is not None:
            changes["random_seed"] = args.random_seed
        return replace(sweep, **changes)
    if fixed and args.grid is None:
        raise UsageError(
            "fixed options need something to sweep: add --grid KEY=VALUES... (e.g. --grid "
            "lr=0.01,0.1,1)"
        )
    if args.grid is None:
        raise UsageError(
            "sweep needs settings: --grid KEY=VALUES... (e.g. --grid activation=tanh,relu "
            "lr=0.01,0.1,1), --file SWEEP.toml, or --resume SWEEP.db"
        )
    grid, ranges = parse_grid([*args.grid, *fixed], parameters())
    return Sweep(
        grid=grid,
        ranges=ranges,
        draws=args.random,
        seeds=range(args.seeds if args.seeds is not None else 10),
        random_seed=args.random_seed or 0,
    )


def open_sweep(args: argparse.Namespace) -> tuple[Store | None, Plan, Path]:
    """The sweep the command line asks for: `(store, plan, db)`. With `--resume` the store is
    the stored sweep's, open and grown as asked (the caller closes it); for a new sweep it is
    None, and `db` is a path that holds nothing yet."""
    if args.resume is not None:
        if args.file is not None or args.db is not None:
            raise UsageError(
                f"--resume {args.resume} takes the sweep from the database: "
                "leave out --file and --db (--grid KEY=VALUES adds values to a grid)"
            )
        if args.random is not None or args.random_seed is not None:
            raise UsageError(
                f"--resume {args.resume} finishes the stored plan: leave out "
                "--random and --random-seed (--seeds N grows it to N seeds)"
            )
        if args.prune:
            raise UsageError(f"--prune screens a new sweep; {args.resume} is planned already")
        store = Store.open(args.resume)
        try:
            if args.seeds is not None:
                _grow(store, args.seeds)
            if args.grid is not None:
                _widen(store, args.grid)
            if args.retry_errors:
                store.forget_errors()
        except (StoreError, SweepError, UsageError):
            store.close()
            raise
        return store, store.plan(), Path(args.resume)
    if args.retry_errors:
        raise UsageError(
            "--retry-errors goes with --resume SWEEP.db: it reruns a stored sweep's errors"
        )
    db = Path(args.db) if args.db is not None else DEFAULT_DB
    plan = Plan.from_sweep(_sweep(args))
    problem = file_problem(db) if db.exists() else None
    if problem is not None:  # a folder, a device or a pipe: never a sweep to resume
        example = db / "sweep.db" if db.is_dir() else db.with_name("sweep.db")
        raise UsageError(
            f"--db {db} {problem}: --db takes the path of a new database file, e.g. --db {example}"
        )
    if db.exists():
        try:
            with Store.open(db) as old:
                held = f"a sweep ({old.count()} of {old.plan().runs} runs stored)"
        except StoreError:
            held = "a file that is not a sweep database"
        raise UsageError(
            f"{db} already holds {held}: finish it with '{PROG} sweep --resume {db}', show it "
            f"with '{PROG} sweep show {db}', or write a new sweep with --db OTHER.db"
        )
    return None, plan, db


def _grow(store: Store, seeds: int) -> None:
    """`--resume DB --seeds N`: the stored plan with seeds 0..N-1, every setting the same (a
    sweep grows, it never shrinks: its stored runs stay results)."""
    plan = store.plan()
    have = plan.seeds
    if seeds < len(have):
        raise UsageError(
            f"--seeds {seeds}: {store.path} already plans {len(have)} seeds per setting; a sweep "
            "can grow, not shrink (show fewer with --top, or start a new --db)"
        )
    check_size(len(plan.settings), seeds)
    more = [s for s in range(seeds) if s not in have][: seeds - len(have)]
    if more:
        store.set_plan(replace(plan, seeds=[*have, *more]))


def _widen(store: Store, items: list[str]) -> None:
    """`--resume DB --grid KEY=VALUES`: more values of a swept field; the plan gains every new
    combination with the other fields' values (a grid stays a grid; its runs stay)."""
    plan = store.plan()
    values: dict[str, list[Any]] = {k: [] for k in plan.varied}
    for s in plan.settings:
        for k in plan.varied:
            if s[k] not in values[k]:
                values[k].append(s[k])
    if plan.is_random():
        raise UsageError(
            f"{store.path} is a random search: it grows with --seeds N, not with new grid values"
        )
    grid, ranges = parse_grid(items, parameters())
    unknown = sorted(set(grid) - set(plan.varied)) + sorted(ranges)
    if unknown:
        raise UsageError(
            f"--grid {unknown[0]}: {store.path} sweeps {', '.join(plan.varied) or 'nothing'}; "
            "add values to those (a new field or a range makes a new sweep: --db OTHER.db)"
        )
    for k, new in grid.items():
        stored = json.loads(json.dumps(list(new)))  # tuples as the plan keeps them, lists
        values[k] += [v for v in stored if v not in values[k]]
    check_size(math.prod(len(v) for v in values.values()), len(plan.seeds))
    template = plan.settings[0]
    settings = list(plan.settings)
    for combo in itertools.product(*values.values()):
        setting = {**template, **dict(zip(values, combo, strict=True))}
        if setting not in settings:
            settings.append(setting)
    if len(settings) > len(plan.settings):
        store.set_plan(replace(plan, settings=settings))


def check_settings(plan: Plan) -> None:
    """Every setting is checked against its data before any run starts."""
    for settings in plan.settings:
        try:
            prepare(config_from_dict(settings))
        except UsageError as e:
            shown = " ".join(f"{k}={show_value(settings[k])}" for k in plan.varied)
            raise UsageError(f"the setting {shown or '(fixed)'} does not fit: {e}") from None
