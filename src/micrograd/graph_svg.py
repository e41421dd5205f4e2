"""A computation graph drawn as self-contained SVG text, from the builtin layout.

`render_svg` draws each Value's record (label, data, grad, with the exact numbers as a tooltip),
each op's ellipse, and the edges as curves between layers and straight runs through the layers
long edges cross. `xml_escape` makes any text safe inside SVG and HTML, `printable` inside
DOT as well.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from .graph_layout import FONT, FONT_SIZE, Box, Node, layered_layout, main_size

__all__ = ["printable", "render_svg", "xml_escape"]


def printable(text: str) -> str:
    """Replace control characters, which neither DOT labels nor XML can hold, by escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def xml_escape(text: str) -> str:
    """`text` safe inside SVG and HTML text and attribute values."""
    text = printable(text)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _f(x: float) -> str:
    return f"{x:.1f}"


def render_svg(nodes: Sequence[Node], edges: Sequence[tuple[int, int]], rankdir: str) -> str:
    """The graph as an SVG document, laid out by `layered_layout`."""
    lr = rankdir == "LR"
    layout = layered_layout(nodes, edges, rankdir)
    boxes = layout.boxes
    main, cross = layout.size
    width, height = (main, cross) if lr else (cross, main)

    def xy(b: Box) -> tuple[float, float]:
        return (b.main, b.cross) if lr else (b.cross, b.main)

    def point(main_at: float, cross_at: float) -> tuple[float, float]:
        return (main_at, cross_at) if lr else (cross_at, main_at)

    # Layer bands, so a dummy's edge runs straight through its layer's band.
    band: dict[int, tuple[float, float]] = {}
    for b in boxes:
        half = main_size(b, lr) / 2
        lo, hi = band.get(b.layer, (b.main - half, b.main + half))
        band[b.layer] = (min(lo, b.main - half), max(hi, b.main + half))

    digest = hashlib.sha1(repr((nodes, edges, rankdir)).encode()).hexdigest()[:10]
    arrow = f"mg-arrow-{digest}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" font-family="{FONT}" '
        f'font-size="{FONT_SIZE}">',
        f"<title>micrograd graph: {len(nodes)} values</title>",
        f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker>'
        "</defs>",
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<g fill="none" stroke="#555" stroke-width="1.1" marker-end="url(#{arrow})">',
    ]
    for route in layout.routes:
        out.append(f'<path d="{_path(route, boxes, band, lr, point)}"/>')
    out.append("</g>")

    for b in boxes:
        if b.kind == "dummy":
            continue
        node = nodes[b.value]
        x, y = xy(b)
        if b.kind == "op":
            out.append(
                f"<g><title>{xml_escape(node.op)}</title>"
                f'<ellipse cx="{_f(x)}" cy="{_f(y)}" rx="{_f(b.width / 2)}" '
                f'ry="{_f(b.height / 2)}" fill="#eef2fb" stroke="#4a5a8a"/>'
                f'<text x="{_f(x)}" y="{_f(y + FONT_SIZE * 0.35)}" text-anchor="middle">'
                f"{xml_escape(node.op)}</text></g>"
            )
            continue
        left, top = x - b.width / 2, y - b.height / 2
        out.append(
            f"<g><title>{xml_escape(node.tip)}</title>"
            f'<rect x="{_f(left)}" y="{_f(top)}" width="{_f(b.width)}" height="{_f(b.height)}" '
            f'rx="3" fill="#ffffff" stroke="#333"/>'
        )
        at = left
        for i, (text, w) in enumerate(zip(node.fields, layout.field_widths[b.value], strict=True)):
            if i:
                out.append(
                    f'<line x1="{_f(at)}" y1="{_f(top)}" x2="{_f(at)}" '
                    f'y2="{_f(top + b.height)}" stroke="#333"/>'
                )
            weight = ' font-weight="bold"' if node.labelled and i == 0 else ""
            out.append(
                f'<text x="{_f(at + w / 2)}" y="{_f(y + FONT_SIZE * 0.35)}" '
                f'text-anchor="middle"{weight}>{xml_escape(text)}</text>'
            )
            at += w
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _path(
    route: list[int],
    boxes: list[Box],
    band: dict[int, tuple[float, float]],
    lr: bool,
    point: Callable[[float, float], tuple[float, float]],
) -> str:
    """An edge as SVG path data: curves between layers, straight runs through dummy bands."""
    first, last = boxes[route[0]], boxes[route[-1]]
    stops: list[tuple[float, float]] = [(first.main + main_size(first, lr) / 2, first.cross)]
    for d in route[1:-1]:
        lo, hi = band[boxes[d].layer]
        stops += [(lo, boxes[d].cross), (hi, boxes[d].cross)]
    stops.append((last.main - main_size(last, lr) / 2, last.cross))

    def p(m: float, c: float) -> str:
        x, y = point(m, c)
        return f"{_f(x)},{_f(y)}"

    parts = [f"M{p(*stops[0])}"]
    for i in range(0, len(stops) - 1, 2):
        (m0, c0), (m1, c1) = stops[i], stops[i + 1]
        bend = (m1 - m0) / 2
        parts.append(f"C{p(m0 + bend, c0)} {p(m1 - bend, c1)} {p(m1, c1)}")
        if i + 2 < len(stops):
            parts.append(f"L{p(*stops[i + 2])}")
    return " ".join(parts)
