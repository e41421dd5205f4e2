"""The workshop checker catches every classic mistake of the gallery at the right step.

Each gallery entry is the correct learner solution with one mistake put back. Checking all five
steps must pass the steps before the mistake's step, fail that step, and name the idea in the
failing check's message. The solution itself, and our own engine and network under the
workshop's module names, pass every step.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from workshop_gallery.bugs import BUGS, Bug

from micrograd.workshop import StepReport, check_steps

SOLUTION = Path(__file__).parent / "workshop_gallery" / "solution"
# Generous: only a real hang should reach it, even on a busy machine.
TIMEOUT = 20.0


def message(report: StepReport) -> str:
    """Everything the failing checks of a step say, as one text."""
    return "\n".join(
        " | ".join((r.name, r.tried, r.got, r.expected, r.why, r.hint, r.where))
        for r in report.results
        if not r.passed
    )


def learner(tmp_path: Path, bug: Bug | None = None) -> Path:
    folder = tmp_path / "learner"
    shutil.copytree(SOLUTION, folder)
    if bug is not None:
        target = folder / bug.file
        target.write_text(bug.apply(target.read_text()))
    return folder


def test_the_gallery_has_at_least_twenty_mistakes_over_every_step() -> None:
    assert len(BUGS) >= 20
    assert {b.step for b in BUGS} == {1, 2, 3, 4, 5}
    assert len({b.name for b in BUGS}) == len(BUGS)


def test_the_correct_solution_passes_every_step(tmp_path: Path) -> None:
    reports = check_steps([1, 2, 3, 4, 5], learner(tmp_path), timeout=TIMEOUT)
    assert [r.step for r in reports] == [1, 2, 3, 4, 5]
    for report in reports:
        assert report.passed, message(report)
        assert len(report.results) >= 6


OURS_MLP = """\
from micrograd.mlp import MLP, Layer, Neuron


def train(model, xs, ys, epochs=40, lr=0.05):
    model.step = lr
    losses = []
    for _ in range(epochs):
        loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys)) / len(ys)
        model.zero_grad()
        loss.backward()
        model.update_parameters()
        losses.append(loss.data)
    return losses
"""


def test_our_own_engine_and_network_pass_every_step(tmp_path: Path) -> None:
    """micrograd.value and micrograd.mlp, with the training loop written on their API."""
    (tmp_path / "value.py").write_text("from micrograd.value import Value\n")
    (tmp_path / "mlp.py").write_text(OURS_MLP)
    reports = check_steps([1, 2, 3, 4, 5], tmp_path, timeout=TIMEOUT)
    assert [r.step for r in reports] == [1, 2, 3, 4, 5]
    for report in reports:
        assert report.passed, message(report)


@pytest.mark.parametrize("bug", BUGS, ids=[b.name for b in BUGS])
def test_each_mistake_fails_its_step_with_a_message_naming_the_idea(
    bug: Bug, tmp_path: Path
) -> None:
    reports = check_steps([1, 2, 3, 4, 5], learner(tmp_path, bug), timeout=TIMEOUT)
    for report in reports[:-1]:
        assert report.passed, f"step {report.step} failed before step {bug.step}: " + message(
            report
        )
    failing = reports[-1]
    assert failing.step == bug.step, message(failing)
    assert not failing.passed
    assert bug.phrase in message(failing), message(failing)
