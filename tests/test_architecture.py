"""Imports flow one way (docs/architecture.md): every module imports only modules listed before
it in `ORDER`, and never imports one of ours inside a function to get round that order."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "micrograd"

# Bottom to top. A module may import only modules before it.
_LAYERS = """
numeric engine value nn mlp batched gradcheck
micrograd
expression stepper metrics losses optim files optional dataset csvdata preprocessing realdata
features data model_file
serialization loop export_arrays onnx_export interop run sweep.spec sweep.backends sweep.runner
sweep.store sweep.driver sweep.results sweep.prune sweep evaluation train estimators
graph_layout graph_svg viz plots errorplots sweep_plots
web.defaults web.messages web.frames web.uploads web.setups web.graphs web.session
web.backprop web.app web.server
web
workshop.base workshop.probe workshop.nets workshop.checks workshop.checks_backward
workshop.checks_mlp workshop.checks_train workshop.catalog workshop.child workshop.runner
workshop.starter workshop
cli.arguments cli.limits cli.output cli.runs cli.pictures cli.models cli.options cli.compare
cli.export cli.graph cli.playground cli.predict cli.sweep_report cli.sweep_plan cli.sweep cli.train
cli.workshop cli cli.__main__ __main__
"""
ORDER = _LAYERS.split()

# Imported inside a function on purpose: heavy optional parts (the web server's stack,
# matplotlib through the error plots, Graphviz drawing in the workshop's child process).
LAZY = {
    ("cli.playground", "web.server"),
    ("cli.pictures", "errorplots"),
    ("workshop.child", "viz"),
}


def _name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or "micrograd"


MODULES = {_name(p): p for p in SRC.rglob("*.py")}
MODULES |= {_name(p): p for p in SRC.glob("*.pyi")}  # compiled modules, by their stubs


def _target(module: str, node: ast.ImportFrom) -> list[str]:
    """The modules of ours an import names (`from . import x` may name a module or a name)."""
    if node.level:
        package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
        base = package.split(".") if package and package != "micrograd" else []
        base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
        stem = ".".join([*base, *(node.module.split(".") if node.module else [])])
    elif node.module and node.module.split(".")[0] == "micrograd":
        stem = node.module.partition(".")[2]
    else:
        return []
    found = []
    for alias in node.names:
        full = f"{stem}.{alias.name}" if stem else alias.name
        found.append(full if full in MODULES else (stem or "micrograd"))
    return found


def _imports(module: str) -> tuple[set[str], set[str]]:
    """(imported at module level, imported inside a function), `TYPE_CHECKING` blocks aside."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    top: set[str] = set()
    inner: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.ImportFrom):
            (inner if in_function else top).update(_target(module, node))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "micrograd":
                    name = alias.name.partition(".")[2] or "micrograd"
                    (inner if in_function else top).add(name)
        function = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for child in ast.iter_child_nodes(node):
            visit(child, in_function or function)

    visit(tree, False)
    return top - {module}, inner - {module}


def test_every_module_has_a_place_in_the_order() -> None:
    assert sorted(set(MODULES) - set(ORDER)) == []
    assert sorted(set(ORDER) - set(MODULES)) == []
    assert len(ORDER) == len(set(ORDER))


def test_imports_flow_one_way() -> None:
    rank = {m: i for i, m in enumerate(ORDER)}
    upward = [
        f"{m} imports {t}" for m in ORDER for t in sorted(_imports(m)[0]) if rank[t] >= rank[m]
    ]
    assert upward == []


def test_no_import_of_ours_inside_a_function_but_the_heavy_optional_parts() -> None:
    inside = {(m, t) for m in ORDER for t in _imports(m)[1]}
    assert sorted(inside - LAZY) == []
    assert sorted(LAZY - inside) == []  # the list stays true
