"""Every third-party module the shipped packages import is a dependency pyproject declares.

A module imported only because another dependency happens to pull it in breaks the day that
dependency drops it; so each import must name a distribution in `[project] dependencies`.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("graph", "resolvers", "simulators")


def normalized(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def declared_distributions() -> set[str]:
    """The distributions `[project] dependencies` names (extras and markers left out)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = (re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", req) for req in project["dependencies"])
    return {normalized(match.group(0)) for match in names if match is not None}


def third_party_imports() -> dict[str, set[str]]:
    """Each absolute import of a module outside the stdlib and our packages, with its users."""
    found: dict[str, set[str]] = {}
    for package in SHIPPED:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.partition(".")[0]
                    if top not in sys.stdlib_module_names and top not in SHIPPED:
                        found.setdefault(module, set()).add(str(path.relative_to(ROOT)))
    return found


@cache
def _distributions_of(top_level: str) -> tuple[str, ...]:
    return tuple(importlib.metadata.packages_distributions().get(top_level, []))


@cache
def _files_of(distribution: str) -> frozenset[str]:
    files = importlib.metadata.distribution(distribution).files or []
    return frozenset(str(file) for file in files)


def providing_distributions(module: str) -> set[str]:
    """The installed distributions a module comes from; for a namespace package shared by
    several (`opentelemetry`), the ones holding this module's own files."""
    parts = module.split(".")
    candidates = list(_distributions_of(parts[0]))
    for depth in range(2, len(parts) + 1):
        prefix = "/".join(parts[:depth])
        narrower = [
            d
            for d in candidates
            if any(f == f"{prefix}.py" or f.startswith(f"{prefix}/") for f in _files_of(d))
        ]
        if not narrower:
            break
        candidates = narrower
    return {normalized(d) for d in candidates}


def test_every_third_party_import_is_a_declared_dependency() -> None:
    declared = declared_distributions()
    undeclared = {
        module: sorted(users)
        for module, users in sorted(third_party_imports().items())
        if not providing_distributions(module) & declared
    }
    assert undeclared == {}, f"imported but not in [project] dependencies: {undeclared}"


def test_a_namespace_package_import_is_traced_to_the_distribution_that_holds_it() -> None:
    assert providing_distributions("opentelemetry.sdk.trace") == {"opentelemetry-sdk"}
    assert providing_distributions("opentelemetry.trace") == {"opentelemetry-api"}
