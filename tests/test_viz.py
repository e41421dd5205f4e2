"""Tests for graph pictures: DOT text, the builtin SVG layout, saving, and tracing a model."""

from __future__ import annotations

import math
import random
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from itertools import combinations
from pathlib import Path

import pytest

from micrograd.batched import BatchedMLP
from micrograd.engine import Value, neuron
from micrograd.nn import MLP, Layer, Neuron
from micrograd.viz import (
    MAX_NODES,
    Graph,
    GraphTooLargeError,
    GraphvizError,
    draw_dot,
    trace_model,
)

SVG = "{http://www.w3.org/2000/svg}"
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's 'dot' program is not on PATH")


def small() -> Value:
    """micrograd's notebook example: L = (a*b + c) * f, with every node labelled."""
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    c = Value(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    f = Value(-2.0, label="f")
    out = d * f
    out.label = "L"
    out.backward()
    return out


def svg_root(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


# -- DOT ------------------------------------------------------------------------------------


def test_dot_has_every_value_with_label_data_and_grad() -> None:
    root = small()
    source = draw_dot(root).source
    assert source.startswith("digraph") and "rankdir=LR" in source
    for v in root.topo_sort():
        record = f"{v.label} | data {v.data:.4f} | grad {v.grad:.4f}"
        assert record in source, record


def test_dot_counts_nodes_and_edges() -> None:
    # 7 Values, 3 of them made by an op: edges child -> op (6) and op -> value (3).
    source = draw_dot(small()).source
    assert len(re.findall(r"shape=record", source)) == 7
    assert len(re.findall(r"^  n\d+_op \[", source, flags=re.M)) == 3
    assert source.count("->") == 9


def test_unlabelled_values_show_data_and_grad_only() -> None:
    x = Value(3.0)
    y = x * x
    y.backward()
    source = draw_dot(y).source
    assert '"{ data 3.0000 | grad 6.0000 }"' in source
    assert '"{ data 9.0000 | grad 1.0000 }"' in source
    assert source.count("->") == 2  # x feeds * once, as in micrograd's set of children


def test_children_without_an_op_connect_directly() -> None:
    a, b = Value(1.0), Value(2.0)
    hand_made = Value(3.0, (a, b))  # as in the notebook, before ops get names
    source = draw_dot(hand_made).source
    assert "_op" not in source
    assert source.count("->") == 2


def test_labels_are_escaped_for_dot() -> None:
    v = Value(1.0, label='we{ird}|<la"bel>\\')
    source = draw_dot(v).source
    assert r"we\{ird\}\|\<la\"bel\>\\" in source


def test_numbers_are_formatted_readably() -> None:
    source = draw_dot(Value(1.5e-7) + Value(-2e9) + Value(float("nan"))).source
    assert "data 1.5000e-07" in source
    assert "data -2.0000e+09" in source
    assert "data nan" in source


def test_batched_values_show_shape_and_mean() -> None:
    np = pytest.importorskip("numpy", reason="batched Values need numpy")
    x = Value(np.array([[1.0, 2.0], [3.0, 4.0]]), label="X")
    loss = (x * 2.0).mean()
    loss.backward()
    source = draw_dot(loss).source
    assert "X | data shape (2, 2) mean 2.5000 | grad shape (2, 2) mean 0.5000" in source
    assert "data shape (2, 2) mean 5.0000" in source
    ET.fromstring(draw_dot(loss).to_svg())


def test_graph_is_a_snapshot() -> None:
    root = small()
    graph = draw_dot(root)
    before = graph.source
    root.data = 123.0
    assert graph.source == before


def test_output_is_deterministic() -> None:
    graph = draw_dot(small())
    assert graph.source == draw_dot(small()).source
    assert graph.to_svg() == draw_dot(small()).to_svg()


def test_graph_repr_and_len() -> None:
    graph = draw_dot(small())
    assert len(graph) == 7
    assert repr(graph) == "Graph(7 values, 3 ops, rankdir='LR')"
    assert str(graph) == graph.source


def test_bad_arguments() -> None:
    with pytest.raises(
        TypeError,
        match="draw_dot needs a Value or an object shaped like one, "
        "got float without data, grad, _op, _prev",
    ):
        draw_dot(1.0)
    with pytest.raises(ValueError, match="rankdir must be one of LR, TB"):
        draw_dot(small(), rankdir="XY")


class LearnerValue:
    """A workshop learner's Value: plain attributes, children in a set, no engine behind it."""

    def __init__(
        self,
        data: float,
        children: tuple[LearnerValue, ...] = (),
        op: str = "",
        label: str = "",
        *,
        public: bool = False,
    ) -> None:
        self.data = data
        self.grad = 0.0
        if public:
            self.prev = set(children)
        else:
            self._prev = set(children)
        self._op = op
        self.label = label

    def __eq__(self, other: object) -> bool:  # a learner may define ==; nodes stay distinct
        return isinstance(other, LearnerValue) and self.data == other.data

    __hash__ = object.__hash__


@pytest.mark.parametrize("public", [False, True], ids=["_prev", "prev"])
def test_a_look_alike_value_is_drawn_like_ours(public: bool) -> None:
    a = LearnerValue(2.0, label="a", public=public)
    b = LearnerValue(2.0, label="b", public=public)  # equal to a: still its own node
    out = LearnerValue(4.0, (a, b), "*", "out", public=public)
    out.grad, a.grad, b.grad = 1.0, 2.0, 2.0
    ours = draw_dot(small())
    graph = draw_dot(out)
    assert len(graph) == 3 and repr(graph) == "Graph(3 values, 1 ops, rankdir='LR')"
    source = graph.source
    assert "{ a | data 2.0000 | grad 2.0000 }" in source and 'label="*"' in source
    assert source.count(" -> n2_op;") == 2
    root = svg_root(graph.to_svg())
    assert {"out", "a", "b", "*"} <= set(texts(root))
    assert ours.source != source


def test_a_value_used_early_and_late_is_drawn_before_its_first_use() -> None:
    """a feeds a*b and, later, the sum: every edge still runs left to right."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    out = a * b + a
    out.backward()
    graph = draw_dot(out)
    lines = graph.source.splitlines()
    a_line = next(i for i, line in enumerate(lines) if "{ a |" in line)
    mul_line = next(i for i, line in enumerate(lines) if 'label="*"' in line)
    assert a_line < mul_line
    for path in svg_root(graph.to_svg()).iter(f"{SVG}path"):
        d = path.get("d", "")
        if " C" in d or "C" in d[1:]:  # an edge (the arrowhead marker is a plain polygon)
            xs = [float(x) for x in re.findall(r"(-?[\d.]+),-?[\d.]+", d)]
            assert xs[0] < xs[-1], d


def test_a_look_alike_with_an_integer_grad_and_no_label_is_drawn() -> None:
    leaf = LearnerValue(3.0)
    del leaf.label
    leaf.grad = 1  # type: ignore[assignment]
    assert "{ data 3.0000 | grad 1.0000 }" in draw_dot(leaf).source


def test_a_look_alike_must_have_numbers_and_children() -> None:
    odd = LearnerValue(1.0)
    odd.data = "one"  # type: ignore[assignment]
    with pytest.raises(TypeError, match="a node's data must be a number, got str 'one'"):
        draw_dot(odd)
    bare = LearnerValue(1.0)
    del bare._prev
    with pytest.raises(TypeError, match=r"without _prev \(or prev\)"):
        draw_dot(bare)
    bad = LearnerValue(1.0)
    bad._prev = 5  # type: ignore[assignment]
    with pytest.raises(TypeError, match="children \\(_prev\\) must be a set or sequence"):
        draw_dot(bad)


def test_too_big_a_graph_is_refused() -> None:
    x = Value(0.5)
    for _ in range(MAX_NODES):
        x = x.tanh()
    with pytest.raises(GraphTooLargeError, match=f"more than {MAX_NODES} values.*smaller"):
        draw_dot(x)
    with pytest.raises(GraphTooLargeError, match="more than 10 values"):
        draw_dot(small() * small(), max_nodes=10)
    assert len(draw_dot(x, max_nodes=MAX_NODES + 1)) == MAX_NODES + 1


# -- builtin SVG ----------------------------------------------------------------------------


def boxes_of(svg: ET.Element) -> list[tuple[float, float, float, float]]:
    """Bounding boxes (left, top, right, bottom) of every record and op node."""
    found = []
    for rect in svg.iter(f"{SVG}rect"):
        if rect.get("x") is None:
            continue  # the background
        x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
        w, h = float(rect.get("width", 0)), float(rect.get("height", 0))
        found.append((x, y, x + w, y + h))
    for e in svg.iter(f"{SVG}ellipse"):
        cx, cy = float(e.get("cx", 0)), float(e.get("cy", 0))
        rx, ry = float(e.get("rx", 0)), float(e.get("ry", 0))
        found.append((cx - rx, cy - ry, cx + rx, cy + ry))
    return found


@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_builtin_svg_is_valid_and_shows_every_node(rankdir: str) -> None:
    root = small()
    svg = draw_dot(root, rankdir=rankdir).to_svg()
    tree = svg_root(svg)
    assert tree.tag == f"{SVG}svg"
    shown = texts(tree)
    for v in root.topo_sort():
        assert v.label in shown
        assert f"data {v.data:.4f}" in shown
        assert f"grad {v.grad:.4f}" in shown
    assert sorted(t for t in shown if t in {"*", "+"}) == ["*", "*", "+"]
    assert len(list(tree.iter(f"{SVG}path"))) == 1 + 9  # the arrowhead and one per edge
    width, height = float(tree.get("width", 0)), float(tree.get("height", 0))
    placed = boxes_of(tree)
    assert len(placed) == 7 + 3
    for left, top, right, bottom in placed:
        assert 0 <= left < right <= width and 0 <= top < bottom <= height
    for a, b in combinations(placed, 2):
        overlap = a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
        assert not overlap, (a, b)


def test_builtin_svg_places_inputs_before_outputs() -> None:
    tree = svg_root(draw_dot(small()).to_svg())
    x_of: dict[str | None, float] = {}
    for text in tree.iter(f"{SVG}text"):
        x_of.setdefault(text.text, float(text.get("x", 0)))
    assert x_of["a"] < x_of["e"] < x_of["d"] < x_of["L"]


def test_builtin_svg_has_no_external_references() -> None:
    svg = draw_dot(small()).to_svg()
    without_namespace = svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http" not in without_namespace
    assert "href" not in svg
    assert "<image" not in svg and "@import" not in svg and "<script" not in svg
    assert all(ref.startswith("#") for ref in re.findall(r"url\(([^)]*)\)", svg))


def test_builtin_svg_escapes_text() -> None:
    v = Value(1.0, label='<b>&"x"\x01')
    tree = svg_root(draw_dot(v).to_svg())  # would not parse if unescaped
    assert '<b>&"x"\\x01' in texts(tree)


def test_repr_svg_is_the_builtin_svg() -> None:
    graph = draw_dot(small())
    assert graph._repr_svg_() == graph.to_svg() == graph.to_svg("builtin")


def test_builtin_layout_handles_a_model_and_long_edges() -> None:
    random.seed(0)
    model = MLP(3, [4, 4, 1])
    root = trace_model(model, [1.0, -2.0, 0.5])
    x = Value(0.3, label="x")
    reused = x * (x.tanh() + x).exp() * x  # x feeds ops several layers apart
    reused.backward()
    for r in (root, reused):
        tree = svg_root(draw_dot(r).to_svg())
        placed = boxes_of(tree)
        for a, b in combinations(placed, 2):
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])


def test_html_wraps_the_svg(tmp_path: Path) -> None:
    graph = draw_dot(small())
    html = graph.to_html(title="a <test>")
    assert html.startswith("<!DOCTYPE html>")
    assert "<title>a &lt;test&gt;</title>" in html
    assert graph.to_svg() in html
    saved = graph.save(tmp_path / "g.html", engine="builtin", title="L")
    text = saved.read_text(encoding="utf-8")
    assert "<h1>L</h1>" in text and "<svg" in text
    svg = text[text.index("<svg") : text.index("</svg>") + len("</svg>")]
    ET.fromstring(svg)


# -- saving ---------------------------------------------------------------------------------


def test_save_dot(tmp_path: Path) -> None:
    graph = draw_dot(small())
    path = graph.save(tmp_path / "g.dot")
    assert path == tmp_path / "g.dot"
    assert path.read_text(encoding="utf-8") == graph.source
    assert graph.save(str(tmp_path / "g.gv")).read_text(encoding="utf-8") == graph.source


def test_save_svg_builtin(tmp_path: Path) -> None:
    graph = draw_dot(small())
    path = graph.save(tmp_path / "g.svg", engine="builtin")
    assert path.read_text(encoding="utf-8") == graph.to_svg()


def test_save_refuses_unknown_formats_and_engines(tmp_path: Path) -> None:
    graph = draw_dot(small())
    with pytest.raises(ValueError, match=r"cannot save a graph as '\.jpg': use \.dot, \.svg"):
        graph.save(tmp_path / "g.jpg")
    with pytest.raises(ValueError, match="without an extension"):
        graph.save(tmp_path / "g")
    with pytest.raises(ValueError, match="engine must be one of auto, graphviz, builtin"):
        graph.save(tmp_path / "g.svg", engine="neato")
    with pytest.raises(ValueError, match=r"builtin layout writes only \.svg and \.html"):
        graph.save(tmp_path / "g.png", engine="builtin")
    assert list(tmp_path.iterdir()) == []


def test_without_graphviz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no `dot` to be found
    graph = draw_dot(small())
    svg = graph.save(tmp_path / "g.svg").read_text(encoding="utf-8")
    assert svg == graph.to_svg()  # auto falls back to the builtin layout
    assert "<svg" in graph.save(tmp_path / "g.html").read_text(encoding="utf-8")
    for path, engine in [("g.png", "auto"), ("g.pdf", "auto"), ("g.svg", "graphviz")]:
        with pytest.raises(GraphvizError, match=r"install Graphviz \(apt-get install graphviz\)"):
            graph.save(tmp_path / path, engine=engine)
    assert not (tmp_path / "g.png").exists()


@needs_dot
def test_graphviz_svg_png_and_html(tmp_path: Path) -> None:
    graph = draw_dot(small())
    svg = graph.save(tmp_path / "g.svg", engine="graphviz").read_text(encoding="utf-8")
    tree = svg_root(svg)
    shown = " ".join(texts(tree))
    assert "data -8.0000" in shown and "grad -2.0000" in shown
    assert graph.save(tmp_path / "auto.svg").read_text(encoding="utf-8") == svg
    png = graph.save(tmp_path / "g.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    html = graph.save(tmp_path / "g.html", engine="graphviz").read_text(encoding="utf-8")
    assert html.count("<svg") == 1 and "<?xml" not in html and "DOCTYPE svg" not in html


ODD_LABEL = 'we{ird}|<la"bel>\\ \x01'
ODD_LABEL_SHOWN = 'we{ird}|<la"bel>\\ \\x01'  # the control character spelled out


def test_builtin_layout_shows_odd_labels_as_typed() -> None:
    graph = draw_dot(Value(1.0, label=ODD_LABEL) * 2)
    assert ODD_LABEL_SHOWN in texts(svg_root(graph.to_svg("builtin")))


@needs_dot
def test_graphviz_shows_odd_labels_as_typed(tmp_path: Path) -> None:
    graph = draw_dot(Value(1.0, label=ODD_LABEL) * 2)
    svg = graph.save(tmp_path / "odd.svg", engine="graphviz").read_text(encoding="utf-8")
    assert ODD_LABEL_SHOWN in " ".join(texts(svg_root(svg)))


# -- trace_model ----------------------------------------------------------------------------


def test_trace_model_labels_everything() -> None:
    random.seed(1)
    model = MLP(3, [4, 4, 1])
    root = trace_model(model, [2.0, 3.0, -1.0])
    labels = {v.label for v in root.topo_sort()}
    assert {"x0", "x1", "x2"} <= labels
    assert {"L0.N0.w0", "L0.N3.w2", "L0.N3.b", "L1.N3.w3", "L2.N0.w3", "L2.N0.b"} <= labels
    assert {"L0.N0", "L1.N3", "out"} <= labels
    assert root.label == "out"
    params = [v for v in root.topo_sort() if v.label.startswith("L") and "." in v.label[3:]]
    assert len(params) == len(model.parameters()) == 41
    assert root.grad == 1.0


def test_trace_model_matches_the_model_and_leaves_it_untouched() -> None:
    random.seed(2)
    model = MLP(2, [3, 2], activation="tanh")
    for i, p in enumerate(model.parameters()):
        p.grad = float(i)  # stale gradients must not leak into the picture
    before = [(p.data, p.grad, p.label) for p in model.parameters()]
    root = trace_model(model, [0.5, -1.5])
    assert [(p.data, p.grad, p.label) for p in model.parameters()] == before

    model.zero_grad()
    outs = model([0.5, -1.5])
    assert isinstance(outs, list)
    total = outs[0] + outs[1]
    total.backward()
    assert root.label == "sum"
    assert root.data == total.data  # the same sums in the same order: the same number
    traced = {v.label: v for v in root.topo_sort()}
    assert traced["out0"].data == outs[0].data and traced["out1"].data == outs[1].data
    for name, p in zip(weight_names(model), model.parameters(), strict=True):
        assert math.isclose(traced[name].grad, p.grad, rel_tol=1e-12, abs_tol=1e-12), name


def weight_names(model: MLP) -> list[str]:
    """trace_model's labels of model.parameters(), in that order."""
    return [
        f"L{li}.N{ni}.{w}"
        for li, layer in enumerate(model.layers)
        for ni, neuron in enumerate(layer.neurons)
        for w in [*(f"w{k}" for k in range(neuron.nin)), "b"]
    ]


@pytest.mark.parametrize(
    ("sizes", "activation", "output_activation", "seed"),
    [
        ([4, 4, 1], "relu", None, 0),
        ([4, 4, 1], "tanh", None, 1),
        ([5, 3], "sigmoid", "tanh", 2),
        ([6, 1], "relu", "sigmoid", 3),
        ([1], "relu", None, 4),
    ],
)
def test_trace_model_computes_what_the_model_computes(
    sizes: list[int], activation: str, output_activation: str | None, seed: int
) -> None:
    """The lecture's chain of nodes gives the fused forward's output exactly and each
    weight the gradient model(x).backward() gives (to rounding: a hidden output's gradient
    gathers its uses in the order of another graph)."""
    rng = random.Random(seed)
    model = MLP(3, sizes, activation, output_activation=output_activation, rng=rng)
    for _ in range(5):
        x = [rng.uniform(-2, 2) for _ in range(3)]
        root = trace_model(model, x)
        model.zero_grad()
        out = model(x)
        outs = out if isinstance(out, list) else [out]
        total = outs[0]
        for o in outs[1:]:
            total = total + o
        total.backward()
        assert root.data == total.data
        traced = {v.label: v for v in root.topo_sort()}
        for name, p in zip(weight_names(model), model.parameters(), strict=True):
            assert math.isclose(traced[name].grad, p.grad, rel_tol=1e-12, abs_tol=1e-12), name


def test_trace_model_draws_a_neuron_as_the_lecture_does() -> None:
    """relu(w0*x0 + w1*x1 + w2*x2 + b): three products, summed left to right, the bias last."""
    neuron = Neuron(3, rng=random.Random(5))
    root = trace_model(neuron, [1.0, -2.0, 0.5])
    assert root.label == "out" and root._op == "ReLU"
    (act,) = root.children
    assert act._op == "+"
    partial, b = act.children
    assert b.label == "L0.N0.b"
    for k in (2, 1):
        assert partial._op == "+"
        partial, product = partial.children
        assert product._op == "*"
        assert [c.label for c in product.children] == [f"L0.N0.w{k}", f"x{k}"]
    assert partial._op == "*"
    assert [c.label for c in partial.children] == ["L0.N0.w0", "x0"]
    ops = [v._op for v in root.topo_sort() if v.children]
    assert sorted(ops) == ["*", "*", "*", "+", "+", "+", "ReLU"]
    assert "w·x+b" not in draw_dot(root).source


def test_trace_model_counts_the_lecture_s_nodes() -> None:
    model = MLP(2, [3, 2], activation="tanh", rng=random.Random(2))
    ops = [v._op for v in trace_model(model, [0.5, -1.5]).topo_sort() if v.children]
    # 12 weights, one product each; per neuron nin additions (the last adds b), 5 neurons;
    # 3 tanh on the hidden layer, a linear output layer, and one + joining the two outputs.
    assert ops.count("*") == 12
    assert ops.count("+") == 12 + 1
    assert ops.count("tanh") == 3
    assert len(ops) == 12 + 13 + 3


def test_trace_model_draws_a_batched_model_as_its_mlp() -> None:
    mlp = MLP(2, [3, 1], rng=random.Random(6))
    x = [0.25, -0.75]
    ours = draw_dot(trace_model(mlp, x)).source
    assert draw_dot(trace_model(BatchedMLP.from_mlp(mlp), x)).source == ours


def test_trace_model_takes_a_layer_or_a_neuron() -> None:
    rng = random.Random(0)
    root = trace_model(Layer(2, 1, rng=rng), [1.0, 2.0])
    assert {"L0.N0.w1", "L0.N0.b", "out"} <= {v.label for v in root.topo_sort()}
    root = trace_model(Neuron(2, rng=rng), (1, 2))
    assert root.label == "out"


def test_trace_model_refuses_bad_input() -> None:
    model = MLP(3, [2, 1], rng=random.Random(0))
    with pytest.raises(ValueError, match="expects an input of length 3, got length 2"):
        trace_model(model, [1.0, 2.0])
    with pytest.raises(TypeError, match="one sample"):
        trace_model(model, "abc")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="holds list"):
        trace_model(model, [[1.0, 2.0, 3.0]])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="needs an MLP, Layer or Neuron"):
        trace_model(object(), [1.0])  # type: ignore[arg-type]


def test_traced_model_draws() -> None:
    model = MLP(3, [4, 4, 1], rng=random.Random(3))
    graph = draw_dot(trace_model(model, [2.0, 3.0, -1.0]))
    assert isinstance(graph, Graph)
    assert "L1.N2.w3 | data" in graph.source
    assert "L1.N2.w3" in texts(svg_root(graph.to_svg()))


def records(graph: Graph) -> Counter[tuple[str, tuple[str, ...]]]:
    """Each drawn node as (op, data and grad fields), labels aside, with multiplicity."""
    return Counter((n.op, n.fields[-2:]) for n in graph._nodes)


def test_a_fused_neuron_is_drawn_as_the_lecture_s_chain(tmp_path: Path) -> None:
    """model(x) runs each neuron as one node; draw_dot shows the products, sums and activations
    the lecture draws, with the numbers trace_model's real chain of nodes holds."""
    model = MLP(3, [4, 4, 1], activation="tanh", rng=random.Random(7))
    x = [2.0, 3.0, -1.0]
    out = model(x)
    assert isinstance(out, Value)
    assert any(v._op == "tanh(w·x+b)" for v in out.topo_sort())
    out.backward()
    graph = draw_dot(out)
    lecture = draw_dot(trace_model(model, x))
    assert "w·x+b" not in graph.source
    assert len(graph) == len(lecture) > len(out.topo_sort())
    assert records(graph) == records(lecture)
    assert graph.source.count("->") == lecture.source.count("->")
    tree = svg_root(graph.to_svg())
    placed = boxes_of(tree)
    for a, b in combinations(placed, 2):
        assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])
    graph.save(tmp_path / "fused-expanded.svg", engine="builtin")


def test_the_chain_s_nodes_hold_the_partial_sums_and_the_fused_grad() -> None:
    w = [Value(0.5, label="w0"), Value(-2.0, label="w1")]
    x = [Value(3.0, label="x0"), Value(0.25, label="x1")]
    b = Value(1.0, label="b")
    act = neuron(x, w, b)
    out = act * 3.0
    out.backward()
    source = draw_dot(out).source
    assert '"{ data 1.5000 | grad 3.0000 }"' in source  # w0*x0
    assert '"{ data -0.5000 | grad 3.0000 }"' in source  # w1*x1
    assert '"{ data 1.0000 | grad 3.0000 }"' in source  # w0*x0 + w1*x1
    assert '"{ data 2.0000 | grad 3.0000 }"' in source  # ... + b: the fused node itself
    assert source.count('[label="*"]') == 3 and source.count('[label="+"]') == 2
    # six leaves (the constant 3.0 too), the chain's three parts, act and out
    assert repr(draw_dot(out)) == "Graph(11 values, 5 ops, rankdir='LR')"


def test_a_fused_neuron_can_be_drawn_as_the_one_node_the_engine_runs(tmp_path: Path) -> None:
    model = MLP(3, [2, 1], rng=random.Random(8))
    out = model([1.0, -1.0, 0.5])
    assert isinstance(out, Value)
    out.backward()
    graph = draw_dot(out, expand=False)
    assert len(graph) == len(out.topo_sort())
    source = graph.source
    # two hidden ReLU neurons and the linear output neuron, one node each
    assert source.count('[label="ReLU(w·x+b)"]') == 2 and source.count('[label="w·x+b"]') == 1
    # every weight, input and bias of a neuron feeds its one node
    fused = [i for i, n in enumerate(graph._nodes) if "w·x+b" in n.op]
    assert sorted(source.count(f" -> n{i}_op;") for i in fused) == [2 * 2 + 1, 2 * 3 + 1, 2 * 3 + 1]
    tree = svg_root(graph.to_svg())
    assert sum("w·x+b" in t for t in texts(tree)) == 3
    placed = boxes_of(tree)
    for a, b in combinations(placed, 2):
        assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])
    graph.save(tmp_path / "fused-one-node.svg", engine="builtin")


def test_a_fused_node_reached_twice_is_drawn_once() -> None:
    w, x, b = [Value(2.0)], [Value(3.0)], Value(1.0)
    act = neuron(x, w, b)
    out = act * act + act
    out.backward()
    graph = draw_dot(out)
    assert len(graph) == 3 + 1 + 1 + 2  # w, x, b; the product; act; act*act; out
    assert graph.source.count('[label="*"]') == 2


def test_the_builtin_layout_and_its_svg_stand_below_viz() -> None:
    code = "import sys, micrograd.graph_svg; print('micrograd.viz' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
