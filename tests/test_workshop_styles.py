"""Correct learner solutions written in unusual styles pass every step of the workshop checker.

Each folder of workshop_gallery/styles/ holds a value.py and an mlp.py that a learner could
have written: right answers, reached another way than the reference solution (no train() as in
the seed workshop, a recursive or a Kahn topological sort, children kept in a tuple, math.tanh,
functools.partial instead of closures, __slots__, the bias first, a train() that stops early,
an explicit stack of (node, expanded) pairs). The checker judges ideas, not spelling: every
step must pass for every one of them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from micrograd.workshop import StepReport, check_steps

STYLES_DIR = Path(__file__).parent / "workshop_gallery" / "styles"
STYLES = [
    "seed_no_train",
    "recursive_topo",
    "kahn_topo",
    "tuple_prev",
    "math_tanh",
    "partial_rules",
    "slots",
    "bias_first",
    "early_stop",
    "iterative_dfs_two_lists",
]
STEPS = [1, 2, 3, 4, 5]
# Generous: only a real hang should reach it, even on a busy machine.
TIMEOUT = 20.0


def message(report: StepReport) -> str:
    """Everything the failing checks of a step say, as one text."""
    return "\n".join(
        f"step {report.step}: "
        + " | ".join((r.name, r.status, r.tried, r.got, r.expected, r.why, r.hint, r.where, r.note))
        for r in report.results
        if not r.passed
    )


def learner(tmp_path: Path, style: str) -> Path:
    """A copy of the style's folder, as the learner's: nothing is written into the repository."""
    folder = tmp_path / style
    shutil.copytree(STYLES_DIR / style, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def test_every_style_folder_is_listed_and_holds_both_files() -> None:
    found = sorted(p.name for p in STYLES_DIR.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert found == sorted(STYLES)
    for style in STYLES:
        assert (STYLES_DIR / style / "value.py").is_file(), style
        assert (STYLES_DIR / style / "mlp.py").is_file(), style


@pytest.mark.parametrize("style", STYLES)
def test_a_correct_solution_in_this_style_passes_every_step(style: str, tmp_path: Path) -> None:
    reports = check_steps(STEPS, learner(tmp_path, style), timeout=TIMEOUT)
    failing = "\n".join(message(r) for r in reports if not r.passed)
    assert [r.step for r in reports] == STEPS, failing
    assert all(r.passed for r in reports), failing


def test_a_recursive_topo_sort_passes_with_a_note_about_the_recursion_limit(
    tmp_path: Path,
) -> None:
    """The lecture's recursive build_topo is correct code: the checker passes it, and says
    that Python stops recursing at about 1000 levels, which a deeper graph would reach."""
    (report,) = check_steps([2], learner(tmp_path, "recursive_topo"), timeout=TIMEOUT)
    assert report.passed, message(report)
    notes = [r.note for r in report.results]
    assert any("recursion" in n.lower() for n in notes), notes
