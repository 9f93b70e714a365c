"""The package's dependencies point one way: cli → site → pipeline → models, with no import circle.

Every ``import`` of every module of ``cloudpad`` is read from its source (including imports
inside functions, which a circle can hide behind), and the graph is checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cloudpad"

#: Layers, lowest first; a module may import its own layer and the layers below it.
LAYERS = {
    "models": 0,
    "exceptions": 0,
    "declarations": 1,
    "style": 1,
    "data": 1,
    "files": 1,
    "article": 2,
    "pipeline": 3,
    "refresh": 3,
    "site": 4,
    "cli": 5,
    "cli_edition": 5,
    "cli_data": 5,
    "__main__": 6,
    "__init__": 0,
}

#: Upward imports allowed on purpose, each with its reason.
ALLOWED_UPWARD = {
    # `import cloudpad` in a kernel installs the dependency-tracking audit hook first of all,
    # so the runner sees every module and data file the notebook reads.
    ("cloudpad", "cloudpad.pipeline"),
    ("cloudpad", "cloudpad.pipeline.tracking"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """The ``cloudpad`` modules ``path`` imports anywhere in its source."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("cloudpad")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            if module.startswith("cloudpad"):
                found.add(module)
                found |= {f"{module}.{a.name}" for a in node.names}
    return found


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (names that are not modules are dropped)."""
    return {
        name: {m for m in imports_of(path) if m in MODULES} - {name}
        for name, path in MODULES.items()
    }


def layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    assert top in LAYERS, f"{module}: add its top-level name {top!r} to LAYERS"
    return LAYERS[top]


def test_the_graph_sees_real_imports():
    edges = graph()
    assert "cloudpad.pipeline.project" in edges["cloudpad.pipeline.plan"]
    assert "cloudpad.declarations" in edges["cloudpad.article"]


def test_no_import_circle():
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                circles.append(" → ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert circles == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_dependencies_point_one_way(name):
    """No module imports a layer above its own (e.g. nothing in pipeline/ imports site/)."""
    mine = layer(name)
    upward = sorted(
        m
        for m in graph()[name]
        if layer(m) > mine and m != "cloudpad" and (name, m) not in ALLOWED_UPWARD
    )
    assert upward == [], f"{name} (layer {mine}) imports from a higher layer"
