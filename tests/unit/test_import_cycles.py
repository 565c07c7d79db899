"""The packages of healops import each other without a cycle: shared models live in healops/models.

The graph is read from the source (ast, nothing imported): an edge ``a -> b`` for every import of ``healops.b...``
that a module of ``healops/a`` runs when it is loaded (its top level, including top-level ``if``/``try`` blocks; not
``if TYPE_CHECKING:`` and not imports inside functions, which load late on purpose).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

HEALOPS = Path(__file__).resolve().parents[2] / "healops"


def _load_time_imports(body: list[ast.stmt]) -> Iterator[str]:
    for node in body:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                yield from _load_time_imports(node.body)
            yield from _load_time_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _load_time_imports(block)


def package_graph() -> dict[str, dict[str, set[str]]]:
    """package -> imported package -> the modules that import it."""
    packages = {p.name for p in HEALOPS.iterdir() if (p / "__init__.py").is_file()}
    graph: dict[str, dict[str, set[str]]] = {name: {} for name in packages}
    for path in HEALOPS.rglob("*.py"):
        parts = path.relative_to(HEALOPS).parts
        if len(parts) < 2:
            continue  # healops/<module>.py: not in a package
        package = parts[0]
        for module in _load_time_imports(ast.parse(path.read_text(), str(path)).body):
            names = module.split(".")
            if names[0] == "healops" and len(names) > 1 and names[1] in packages and names[1] != package:
                graph[package].setdefault(names[1], set()).add(path.relative_to(HEALOPS.parent).as_posix())
    return graph


def cycles(graph: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """Every strongly connected set of more than one package (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_packages_import_each_other_without_a_cycle() -> None:
    graph = package_graph()
    found = cycles(graph)
    where = {
        f"{a} -> {b}": sorted(graph[a][b]) for component in found for a in component for b in component if b in graph[a]
    }
    assert found == [], f"import cycles between packages: {found}; edges: {where}"


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"fleet": {"store": {"x"}}, "store": {"fleet": {"y"}}, "models": {}, "bench": {"models": {"z"}}}
    assert cycles(graph) == [["fleet", "store"]]
