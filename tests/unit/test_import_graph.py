"""The import graph of `graph/` and `resolvers/` has no cycle.

Every import counts, at module level or deferred inside a function (a deferred import is a
cycle hidden, not removed); only imports under `if TYPE_CHECKING:` are left out, since they
never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("graph", "resolvers")


def module_files() -> dict[str, Path]:
    """Every module of the packages, by dotted name (a package by its own name)."""
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_names(module: str, source: str, *, is_package: bool = False) -> set[str]:
    """The dotted names a module imports (`from a import b` yields `a` and `a.b`)."""
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()

    class Imports(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if not _is_type_checking(node):
                self.generic_visit(node)
            else:
                for child in node.orelse:
                    self.visit(child)

        def visit_Import(self, node: ast.Import) -> None:
            names.update(alias.name for alias in node.names)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)

    Imports().visit(ast.parse(source))
    return names


def import_graph() -> dict[str, set[str]]:
    """Each module's edges to the other modules of the packages it imports."""
    modules = module_files()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets: set[str] = set()
        source = path.read_text()
        for name in imported_names(module, source, is_package=path.name == "__init__.py"):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path that ends where it starts, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        stack.pop()
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)) is not None:
            return cycle
    return None


def test_the_import_graph_of_graph_and_resolvers_has_no_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_reports_a_cycle_through_a_deferred_import() -> None:
    deferred = imported_names("graph.b", "def later() -> None:\n    from graph.a import x\n")
    graph = {"graph.a": {"graph.b"}, "graph.b": {name for name in deferred if name == "graph.a"}}
    assert find_cycle(graph) == ["graph.a", "graph.b", "graph.a"]


def test_the_cycle_finder_leaves_out_type_checking_imports() -> None:
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from graph.a import x\n"
    assert imported_names("graph.b", source) == {"typing", "typing.TYPE_CHECKING"}


def test_relative_imports_resolve_against_the_package() -> None:
    names = imported_names("resolvers.providers.orange", "from ..paging import plan\n")
    assert "resolvers.paging.plan" in names


# The fast path sits behind `[server] fast_path`: the schema module picks it (or not) by the
# switch, so nothing else may reach into it and bypass the switch.
ENGINE = "graph.engine"
MAY_IMPORT_THE_ENGINE = {"graph.schema.build"}


def _in_engine(module: str) -> bool:
    return module == ENGINE or module.startswith(ENGINE + ".")


def test_only_the_schema_module_imports_the_fast_path_engine() -> None:
    importers = {
        module
        for module, targets in import_graph().items()
        if not _in_engine(module) and any(_in_engine(target) for target in targets)
    }
    assert importers <= MAY_IMPORT_THE_ENGINE, f"graph.engine imported from {sorted(importers)}"
    assert importers, "graph.schema.build no longer picks the fast path: is the check still needed?"
