"""The backprop view in a real browser (Playwright driving Debian's Chromium, as the playground's
browser tests do): type the lecture's expressions, step forward and backward to the end, and
compare every node with the engine's own `backward()`; the rules written out, the finite
differences, and the naive recursive order's wrong gradient.

Screenshots of each stage go to pytest's tmp dir, and to `$BACKPROP_SHOTS` when it is set
(docs/img/ holds the ones docs/playground.md shows).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import pytest
import test_web_browser as wb

from micrograd.expression import parse_expression

TIMES = "\u00d7"  # the page writes a product with the multiplication sign
LECTURE = "a = 2.0, b = -3.0, c = 10.0; L = (a*b + c).tanh()"
NEURON = (
    "x1 = 2.0, x2 = 0.0, w1 = -3.0, w2 = 1.0, b = 6.8813735870195432; "
    "o = (x1*w1 + x2*w2 + b).tanh()"
)

server = wb.server  # the playground's Background server, as test_web_page shares it
page = wb.page  # a fresh tab that fails the test on any script error


@pytest.fixture
def bp_page(page: Any) -> Any:
    page.set_viewport_size({"width": 1280, "height": 900})
    return page


def shot(page: Any, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    folder = os.environ.get("BACKPROP_SHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def build(page: Any, server: str, program: str) -> None:
    page.goto(server + "backprop")
    page.wait_for_selector("#graph g.node")
    page.fill("#program", program)
    page.click("#program-form button[type=submit]")
    page.wait_for_function(
        "p => new URL(location.href).searchParams.get('program') === p", arg=program
    )


def nodes(page: Any) -> list[dict[str, str]]:
    result: list[dict[str, str]] = page.eval_on_selector_all(
        "#graph g.node",
        "gs => gs.map(g => ({id: g.dataset.id, label: g.dataset.label, data: g.dataset.data,"
        " grad: g.dataset.grad}))",
    )
    return sorted(result, key=lambda n: int(n["id"]))


def engine(program: str) -> list[tuple[float, float]]:
    """(data, grad) of every node from Value.backward(), in topological order."""
    inputs, _, statement = program.rpartition(";")
    variables = {k.strip(): float(v) for k, v in (item.split("=") for item in inputs.split(","))}
    root = parse_expression(statement.partition("=")[2], variables)
    root.backward()
    return [(float(v.data), float(v.grad)) for v in root.topo_sort()]


def step_to_the_end(page: Any) -> list[str]:
    """Press forward until every node has its data, then backward to the last step; the rule
    text shown at each backward step."""
    while page.is_enabled("#forward"):
        page.keyboard.press("f")
    rules = []
    while page.is_enabled("#backward"):
        page.keyboard.press("b")
        rules.append(page.inner_text("#explain"))
    return rules


@pytest.mark.parametrize("program", [LECTURE, NEURON], ids=["lecture", "neuron"])
def test_stepping_to_the_end_gives_every_node_the_engine_s_data_and_grad(
    bp_page: Any, server: str, program: str, tmp_path: Path
) -> None:
    build(bp_page, server, program)
    assert all(n["data"] == "" for n in nodes(bp_page))  # nothing computed yet
    bp_page.keyboard.press("f")
    assert sum(n["data"] != "" for n in nodes(bp_page)) == 1
    shot(bp_page, tmp_path, f"backprop-{'lecture' if program == LECTURE else 'neuron'}-forward")
    rules = step_to_the_end(bp_page)
    shot(bp_page, tmp_path, f"backprop-{'lecture' if program == LECTURE else 'neuron'}-done")
    got = [(float(n["data"]), float(n["grad"])) for n in nodes(bp_page)]
    assert got == engine(program)  # exactly: the page shows the engine's numbers
    assert rules[0].startswith("backward: ")  # the seed, d L / d L = 1
    assert any("1 - " in r and "**2" in r for r in rules)  # tanh's rule
    # the finite-difference column beside each input's grad
    rows = bp_page.eval_on_selector_all(
        "#leaves tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.textContent))"
    )
    assert len(rows) >= 3
    for _, _, grad, estimate in rows:
        assert math.isclose(float(grad), float(estimate), rel_tol=1e-4, abs_tol=1e-6)


def test_the_rules_are_written_out_with_their_numbers(
    bp_page: Any, server: str, tmp_path: Path
) -> None:
    build(bp_page, server, "x = 0.5, y = 1.5; z = (x ** 3 + y.exp()).log() * x + x")
    text = "\n".join(step_to_the_end(bp_page))
    shot(bp_page, tmp_path, "backprop-rules")
    assert "d(x**3)/dx = 3*x**(3-1) = 0.75" in text  # **
    assert "d(exp y)/dy = exp y = " in text  # exp
    assert "d(log " in text  # log
    assert "= x = 0.5" in text  # * : d(a*b)/da = b
    assert "d(n" in text and " + x)/dn" in text  # +
    assert "x.grad += " in text and f" {TIMES} " in text and " → " in text


def test_a_value_used_twice_shows_its_second_contribution(
    bp_page: Any, server: str, tmp_path: Path
) -> None:
    build(bp_page, server, "a = 1.0; b = a + a; c = b + b")
    step_to_the_end(bp_page)
    bp_page.keyboard.press("ArrowLeft")  # back to the last step, b's rule
    bp_page.keyboard.press("b")
    updates = bp_page.eval_on_selector_all("#updates li", "ls => ls.map(l => l.textContent)")
    assert updates[0].startswith(f"a.grad += 2 {TIMES} 1  →  2")
    assert updates[1].startswith(f"a.grad += 2 {TIMES} 1  →  4")
    assert "used again: 2.0 + 2.0" in updates[1]
    shot(bp_page, tmp_path, "backprop-reused")


def test_the_naive_order_gets_the_reused_value_wrong(
    bp_page: Any, server: str, tmp_path: Path
) -> None:
    build(bp_page, server, "a = 1.0; b = a + a; c = b + b")
    bp_page.click("#naive")
    rows = bp_page.eval_on_selector_all(
        "#naive-table tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.textContent))"
    )
    assert rows == [["a", "8.0", "4.0"]]  # naive 8 (wrong) beside topological 4
    assert bp_page.locator("#naive-table td.wrong").count() == 1
    assert "c → b → a → a → b → a → a" in bp_page.inner_text("#naive-visits")
    shot(bp_page, tmp_path, "backprop-naive")


def test_step_back_reset_and_a_bad_program(bp_page: Any, server: str, tmp_path: Path) -> None:
    build(bp_page, server, LECTURE)
    step_to_the_end(bp_page)
    final = nodes(bp_page)
    bp_page.keyboard.press("ArrowLeft")
    assert nodes(bp_page) != final
    bp_page.keyboard.press("r")  # reset grads: every grad 0, data kept
    assert all(float(n["grad"]) == 0.0 and n["data"] != "" for n in nodes(bp_page))
    bp_page.fill("#program", "a = 2.0; L = a +* 3")
    bp_page.click("#program-form button[type=submit]")
    bp_page.wait_for_selector("#error:not([hidden])")
    assert "L = a +* 3" in bp_page.inner_text("#error")
    shot(bp_page, tmp_path, "backprop-error")


def test_readable_at_400_px(browser: Any, server: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 400, "height": 800})
    build(page, server, LECTURE)
    step_to_the_end(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400  # the graph scrolls inside its own box
    shot(page, tmp_path, "backprop-400px")
    page.close()


def test_the_api_refuses_what_is_not_a_program(server: str) -> None:
    def post(body: bytes) -> tuple[int, dict[str, Any]]:
        request = Request(server + "api/backprop", data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        try:
            with urlopen(request) as response:
                return response.status, json.loads(response.read())
        except Exception as e:  # HTTPError carries the 400 body
            return e.code, json.loads(e.read())  # type: ignore[attr-defined]

    assert post(b"not json")[0] == 400
    status, answer = post(json.dumps({"program": "a = 1; L = a.sqrt() * 0"}).encode())
    assert status == 200
    status, answer = post(json.dumps({"program": "a = 0.0; L = a.sqrt()"}).encode())
    assert status == 200 and answer["grads"][0] == "inf"  # as PyTorch: d sqrt(a)/da at 0
    status, answer = post(json.dumps({"program": "x" * 5000}).encode())
    assert status == 400 and "too long" in answer["error"]


def test_the_point_graph_opens_the_view_on_its_output_neuron() -> None:
    """The playground's graph message carries the output neuron as a program; stepped in the
    view it gives the network's own output for that point."""
    import random

    from micrograd import MLP
    from micrograd.stepper import trace_program
    from micrograd.viz import trace_model
    from micrograd.web.graphs import neuron_program

    for sizes, activation in (([3, 1], "tanh"), ([1], "linear"), ([4, 2, 1], "relu")):
        model = MLP(2, sizes, activation, output_activation="tanh", rng=random.Random(4))
        out = trace_model(model, [0.3, -0.7], start=1)
        program = neuron_program(model, out.topo_sort(), [0.3, -0.7])
        t = trace_program(program)
        assert math.isclose(t["nodes"][t["output"]]["data"], out.data, rel_tol=1e-12)
        assert program.endswith(".tanh()")


def test_the_graph_panel_links_the_point_s_output_neuron_to_the_view(
    bp_page: Any, server: str, tmp_path: Path
) -> None:
    wb.open_page(bp_page, server, "?dataset=moons&activation=tanh&layers=4&speed=0&epochs=30")
    wb.click_point(bp_page, "train", 2)
    bp_page.wait_for_selector("#graph-caption a.step-neuron", timeout=15_000)
    href = bp_page.get_attribute("#graph-caption a.step-neuron", "href")
    assert href is not None and href.startswith("/backprop?program=")
    bp_page.goto(server + href.lstrip("/"))
    bp_page.wait_for_selector("#graph g.node")
    step_to_the_end(bp_page)
    labels = {n["label"] for n in nodes(bp_page)}
    assert {"h1", "h4", "w1", "w4", "b", "o"} <= labels
    shot(bp_page, tmp_path, "backprop-from-the-playground")
