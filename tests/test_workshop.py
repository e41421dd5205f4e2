"""The workshop's starting point and the checker's robustness to whatever a learner writes.

`start` writes the skeletons and WORKSHOP.md and never overwrites; the checker turns a hang, a
crash, endless recursion, a syntax error, top-level code and a missing file into clear results
or usage errors, and draws the learner's own graph once step 2 passes.
"""

from __future__ import annotations

import re
import shutil
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd.engine import Value
from micrograd.workshop import TEMPLATES, CheckResult, WorkshopError, check_steps, start
from micrograd.workshop.base import METHOD_STEP, STEPS, Failed
from micrograd.workshop.catalog import checks_for
from micrograd.workshop.probe import Probe
from micrograd.workshop.starter import template

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = Path(__file__).parent / "workshop_gallery" / "solution"
PACKAGE = ROOT / "src" / "micrograd" / "workshop"
SLOW = 20.0  # a limit only a real hang reaches


def learner(tmp_path: Path, old: str = "", new: str = "", file: str = "value.py") -> Path:
    """The correct solution, with `old` replaced by `new` in `file`."""
    folder = tmp_path / "learner"
    shutil.copytree(SOLUTION, folder)
    if old:
        text = (folder / file).read_text()
        assert text.count(old) == 1
        (folder / file).write_text(text.replace(old, new))
    return folder


# -- start ------------------------------------------------------------------------------------


def test_start_writes_the_two_skeletons_and_the_guide(tmp_path: Path) -> None:
    written = start(tmp_path / "new" / "folder")
    assert [p.name for p in written] == ["value.py", "mlp.py", "WORKSHOP.md"]
    for path in written:
        assert path.read_text() == template(path.name)
    compile((tmp_path / "new" / "folder" / "value.py").read_text(), "value.py", "exec")
    compile((tmp_path / "new" / "folder" / "mlp.py").read_text(), "mlp.py", "exec")


def test_start_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "mlp.py").write_text("my work\n")
    with pytest.raises(WorkshopError, match=r"already has mlp\.py: nothing written"):
        start(tmp_path)
    assert (tmp_path / "mlp.py").read_text() == "my work\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp.py"]
    (tmp_path / "file").write_text("")
    with pytest.raises(WorkshopError, match="is a file, not a folder"):
        start(tmp_path / "file")


def test_the_skeleton_names_every_method_and_the_step_it_belongs_to() -> None:
    value = template("value.py")
    for method, step in METHOD_STEP.items():
        if method.startswith("__") or method in ("topo_sort", "backward", "tanh", "relu"):
            assert f"def {method}(self" in value
            assert f'NotImplementedError("step {step}: write Value.{method}")' in value
    assert 'def __init__(self, data, _children=(), _op="", label="")' in value
    mlp = template("mlp.py")
    for name in ("class Neuron", "class Layer", "class MLP", "def parameters", "def zero_grad"):
        assert name in mlp
    assert "def train(model, xs, ys, epochs=40, lr=0.05, tol=0.0)" in mlp
    assert "self.layer_sizes = [nin] + nouts" in mlp


def test_workshop_md_has_the_five_steps_and_their_check_commands() -> None:
    guide = template("WORKSHOP.md")
    for step, title in STEPS.items():
        assert f"micrograd workshop check {step}" in guide
        assert re.search(rf"^## Step {step}: ", guide, re.M), title
    assert "micrograd workshop check all" in guide


def test_the_templates_ship_as_package_data() -> None:
    """`pip install .` copies what pyproject's package-data names: every template must match."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["micrograd"]
    shipped = {p for g in globs for p in (ROOT / "src" / "micrograd").glob(g)}
    files = {PACKAGE / "templates" / name for name in TEMPLATES.values()}
    assert files <= shipped
    assert files == set((PACKAGE / "templates").iterdir())


# -- the skeleton, checked ----------------------------------------------------------------------


def test_the_fresh_skeleton_fails_with_what_to_write_next(tmp_path: Path) -> None:
    start(tmp_path)
    (report,) = check_steps([1], tmp_path, timeout=SLOW)
    first = report.results[0]
    assert first.status == "error"
    assert first.tried == "a = Value(2.0); b = Value(-3.0); out = a + b"
    assert first.why == (
        "Value.__add__ still raises the skeleton's NotImplementedError: step 1 asks you to write it"
    )
    assert first.where.startswith("value.py, line ")
    assert "in Value.__add__" in first.where
    (report,) = check_steps([2], tmp_path, timeout=SLOW)
    assert "it is part of step 1; finish that step first" in report.results[0].why
    (report,) = check_steps([4], tmp_path, timeout=SLOW)
    assert report.results[0].hint == "write Neuron.__init__ (WORKSHOP.md, step 4)"


def test_checking_all_steps_stops_at_the_first_failing_one(tmp_path: Path) -> None:
    start(tmp_path)
    reports = check_steps([1, 2, 3, 4, 5], tmp_path, timeout=SLOW)
    assert [r.step for r in reports] == [1]
    reports = check_steps([1, 4], tmp_path, timeout=SLOW, stop_at_failure=False)
    assert [r.step for r in reports] == [1, 4]
    assert len(reports[1].results) == len(checks_for(4))


# -- learner code that misbehaves ---------------------------------------------------------------

ENDLESS_TOPO = (
    "                stack.pop()\n                topo.append(node)",
    "                pass",
)


def test_an_endless_loop_in_backward_is_stopped_by_the_time_limit(tmp_path: Path) -> None:
    folder = learner(tmp_path, *ENDLESS_TOPO)
    (report,) = check_steps([2], folder, timeout=1.0)
    results = report.results
    assert results[0].status == "timeout"
    assert results[0].got == "still running after 1 s, so it was stopped"
    assert results[0].tried == "a = Value(3.0); out = a * 2; out.backward()"
    assert "endless loop" in results[0].why
    assert [r.status for r in results[1:]] == ["skipped"] * (len(results) - 1)
    assert results[1].why == "not run: the check above did not finish"


def test_endless_recursion_is_reported_with_the_line_that_recurses(tmp_path: Path) -> None:
    folder = learner(tmp_path, "        return self * -1\n", "        return -self\n")
    (report,) = check_steps([1], folder, timeout=SLOW)
    neg = next(r for r in report.results if r.name == "-a")
    assert neg.status == "error"
    assert neg.got.startswith("raised RecursionError: maximum recursion depth exceeded")
    assert re.fullmatch(r"value\.py, line \d+, in Value\.__neg__: return -self", neg.where)
    assert "kept calling itself" in neg.why


RECURSIVE_TOPO = """        topo = []
        visited = set()

        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)

        build(self)
        return topo
"""


def test_a_recursive_topological_sort_passes_with_a_note_on_the_recursion_limit(
    tmp_path: Path,
) -> None:
    """The lecture's build_topo is right: it passes, and a note names Python's limit."""
    from workshop_gallery.bugs import TOPO_BODY

    folder = learner(tmp_path)
    text = (folder / "value.py").read_text()
    (folder / "value.py").write_text(TOPO_BODY.replace(text, RECURSIVE_TOPO))
    (report,) = check_steps([2], folder, timeout=SLOW)
    assert report.passed, [(r.name, r.got, r.why) for r in report.results if not r.passed]
    (deep,) = [r for r in report.results if r.note]
    assert deep.name == "a deep chain of 5000 operations"
    assert "recursive" in deep.note and "1,000 levels" in deep.note


def test_a_syntax_error_is_one_clear_result(tmp_path: Path) -> None:
    folder = learner(tmp_path, "    def __neg__(self):", "    def __neg__(self:")
    (report,) = check_steps([1], folder, timeout=SLOW)
    first, *rest = report.results
    assert first.name == "value.py loads" and first.status == "error"
    assert first.got.startswith("SyntaxError: ")
    assert re.fullmatch(r"value\.py, line \d+: def __neg__\(self:", first.where)
    assert "unclosed bracket" in first.hint
    assert {r.status for r in rest} == {"skipped"}
    assert rest[0].why == "not run: value.py loads failed"


def test_missing_files_and_folders_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(WorkshopError, match=r"no folder .*nowhere"):
        check_steps([1], tmp_path / "nowhere")
    with pytest.raises(WorkshopError, match=r"no value\.py in .*'micrograd workshop start"):
        check_steps([1], tmp_path)
    (tmp_path / "value.py").write_text("class Value: pass\n")
    with pytest.raises(WorkshopError, match=r"no mlp\.py in .*: step 4 checks it"):
        check_steps([4], tmp_path)
    with pytest.raises(WorkshopError, match="steps 1-5, not 6"):
        check_steps([6], tmp_path)
    with pytest.raises(WorkshopError, match="time limit must be positive"):
        check_steps([1], tmp_path, timeout=0)


def test_a_file_without_a_value_class_fails_to_load(tmp_path: Path) -> None:
    (tmp_path / "value.py").write_text("VALUE = 1\n")
    (report,) = check_steps([1], tmp_path, timeout=SLOW)
    assert report.results[0].got == "value.py defines no class Value"


def test_a_process_that_exits_is_reported_as_a_crash(tmp_path: Path) -> None:
    folder = learner(
        tmp_path, "        return self * -1\n", "        import os\n        os._exit(3)\n"
    )
    first, second = check_steps([1, 2], folder, timeout=SLOW, stop_at_failure=False)
    crash = next(r for r in first.results if r.status == "crash")
    assert crash.name == "-a"
    assert crash.got == "the Python running your code stopped (exit status 3)"
    assert crash.tried == "a = Value(3.0); out = -a"
    assert first.results[-1].status == "skipped"
    # The next step gets a fresh process: its checks without negation pass.
    assert [r.status for r in second.results[:3]] == ["pass"] * 3


def test_prints_and_input_in_learner_code_do_not_disturb_the_checker(tmp_path: Path) -> None:
    folder = learner(
        tmp_path,
        "        return other + (-self)\n",
        "        print('debugging rsub', self, other)\n        return self - other\n",
    )
    text = (folder / "value.py").read_text()
    (folder / "value.py").write_text("print('loading')\n" + text)
    (report,) = check_steps([1], folder, timeout=SLOW)
    rsub = next(r for r in report.results if not r.passed)
    assert rsub.status == "fail" and "other - self" in rsub.why
    assert rsub.output == "debugging rsub Value(data=2.0, grad=0.0) 5\n"
    (folder / "value.py").write_text("name = input()\n" + text)
    (report,) = check_steps([1], folder, timeout=SLOW)
    assert report.results[0].got == "raised EOFError: EOF when reading a line"
    assert report.results[0].where == "value.py, line 1, in <module>: name = input()"


def test_endless_top_level_code_is_stopped_while_loading(tmp_path: Path) -> None:
    (tmp_path / "value.py").write_text("while True:\n    pass\n")
    (report,) = check_steps([1], tmp_path, timeout=1.0)
    assert report.results[0].status == "timeout"
    assert "top level" in report.results[0].why


def test_an_exception_names_the_line_of_the_learners_code(tmp_path: Path) -> None:
    folder = learner(
        tmp_path, "            self.grad += (1 - t**2) * out.grad", "            self.grad += 1 / 0"
    )
    (report,) = check_steps([3], folder, timeout=SLOW)
    failed = next(r for r in report.results if not r.passed)
    assert failed.got == "raised ZeroDivisionError: division by zero"
    assert re.fullmatch(
        r"value\.py, line \d+, in Value\.tanh\.<locals>\._backward: .*", failed.where
    )


# -- the learner's own graph -----------------------------------------------------------------


def test_passing_step_2_draws_the_learners_own_graph(tmp_path: Path) -> None:
    folder = learner(tmp_path)
    picture = tmp_path / "pics" / "mine.svg"
    picture.parent.mkdir()
    reports = check_steps([1, 2], folder, graph=picture, timeout=SLOW)
    assert reports[0].graph is None
    assert reports[1].graph == picture
    assert reports[1].graph_note == "L = (a*b + c) * f with your Value: 7 values"
    svg = ET.fromstring(picture.read_text())
    texts = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    # L = (2 * -3 + 10) * -2 = -8; dL/da = f * b = 6
    assert {"L", "a", "data -8.0000", "grad 6.0000", "*", "+"} <= texts


def test_no_graph_when_step_2_fails(tmp_path: Path) -> None:
    folder = learner(tmp_path, "        self.grad = 1.0\n", "")
    picture = tmp_path / "mine.svg"
    (report,) = check_steps([2], folder, graph=picture, timeout=SLOW)
    assert not report.passed and report.graph is None and not picture.exists()


def test_results_survive_the_trip_between_processes() -> None:
    result = CheckResult(2, "a node used twice", "fail", "a + a", "1.0", "2.0", "why", "hint")
    assert CheckResult.from_dict(result.to_dict()) == result
    assert not result.passed and CheckResult(1, "x", "pass").passed


def test_the_workshop_guide_shows_a_picture_for_every_step() -> None:
    guide = (ROOT / "docs" / "workshop.md").read_text()
    for step in STEPS:
        name = f"workshop-step{step}"
        assert f"](img/{name}.svg)" in guide
        assert f"--out {name}" in guide  # the micrograd graph command that drew it
        svg = ET.fromstring((ROOT / "docs" / "img" / f"{name}.svg").read_text())
        assert svg.tag == "{http://www.w3.org/2000/svg}svg"


# -- topological order: any valid order passes, any invalid one fails ----------------------------


@st.composite
def graphs_and_orders(draw: st.DrawFn) -> tuple[Value, list[Value]]:
    """A random expression graph and a random valid topological order of it."""
    nodes = [Value(draw(st.floats(-3, 3))) for _ in range(draw(st.integers(1, 4)))]
    for _ in range(draw(st.integers(1, 12))):
        a = nodes[draw(st.integers(0, len(nodes) - 1))]
        b = nodes[draw(st.integers(0, len(nodes) - 1))]
        nodes.append(a * b if draw(st.booleans()) else a + b)
    root = nodes[-1]
    reachable = {id(n): n for n in root.topo_sort()}
    order: list[Value] = []
    placed: set[int] = set()
    while len(order) < len(reachable):
        ready = [
            n
            for i, n in reachable.items()
            if i not in placed
            and all(id(c) in placed for c in n._prev)
            and (n is not root or len(order) == len(reachable) - 1)
        ]
        pick = ready[draw(st.integers(0, len(ready) - 1))]
        order.append(pick)
        placed.add(id(pick))
    return root, order


@given(graphs_and_orders())
def test_every_valid_topological_order_passes(case: tuple[Value, list[Value]]) -> None:
    root, order = case
    Probe(Value).check_topo(root, order)


@given(graphs_and_orders(), st.data())
def test_a_duplicated_missing_or_misplaced_node_fails(
    case: tuple[Value, list[Value]], data: st.DataObject
) -> None:
    root, order = case
    probe = Probe(Value)
    k = data.draw(st.integers(0, len(order) - 1))
    with pytest.raises(Failed, match="exactly once"):
        probe.check_topo(root, [*order[: k + 1], order[k], *order[k + 1 :]])
    if len(order) > 1:
        with pytest.raises(Failed, match=r"all .* nodes that out depends on"):
            probe.check_topo(root, order[1:])
        parent = next(n for n in order if n._prev)
        child = next(iter(parent._prev))
        swapped = [n for n in order if n is not child]
        swapped.insert(swapped.index(parent) + 1, child)
        with pytest.raises(Failed, match=r"after all of its children|self last"):
            probe.check_topo(root, swapped)


def test_a_missing_method_says_which_step_introduces_it(tmp_path: Path) -> None:
    folder = learner(tmp_path)
    text = (folder / "value.py").read_text()
    start_at = text.index("    def tanh(self):")
    (folder / "value.py").write_text(text[:start_at] + text[text.index("    def relu(self):") :])
    (report,) = check_steps([3], folder, timeout=SLOW)
    first = report.results[0]
    assert first.got == "raised AttributeError: 'Value' object has no attribute 'tanh'"
    assert first.why == "your Value has no tanh: step 3 introduces it"
    mlp = (folder / "mlp.py").read_text()
    (folder / "mlp.py").write_text(mlp[: mlp.index("def train(")])
    (report,) = check_steps([5], folder, timeout=SLOW)
    assert report.passed  # the seed workshop has no train(): its loop trains the MLP
    train = next(r for r in report.results if r.name.startswith("train()"))
    assert "mlp.py has no train(), as in the seed workshop" in train.note
