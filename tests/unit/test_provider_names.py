"""Only a provider's own modules name it: shared code reaches providers through the registry.

"Naming" is code, not prose: a `Provider.<MEMBER>` attribute or a string literal equal to a
provider's config spelling. Docstrings and comments may still give a provider as an example.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from resolvers.providers.registry import PROVIDERS

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("graph", "resolvers", "simulators")
NAMES = {row.name for row in PROVIDERS}
KEYS = {row.key for row in PROVIDERS}
# Each provider's own modules, and the registry that lists the built-in rows.
OWN = {
    "resolvers/providers/registry.py",
    *(
        f"{package}/{row.name}.py"
        for row in PROVIDERS
        for package in ("resolvers/providers", "graph/providers", "simulators")
    ),
}


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            ids.add(id(body[0].value))
    return ids


def provider_names_in(source: str) -> list[str]:
    """Where a module's code names a provider: `Provider.X` or a literal provider name."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "Provider"
            and node.attr in KEYS
        ):
            found.append(f"line {node.lineno}: Provider.{node.attr}")
        elif isinstance(node, ast.Constant) and node.value in NAMES and id(node) not in docstrings:
            found.append(f"line {node.lineno}: {node.value!r}")
    return found


def shared_modules() -> list[str]:
    paths = (p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py")))
    return [str(p.relative_to(ROOT)) for p in paths if str(p.relative_to(ROOT)) not in OWN]


def test_the_check_sees_both_ways_of_naming_a_provider() -> None:
    name = PROVIDERS[0].name
    key = PROVIDERS[0].key
    assert len(provider_names_in(f'a = Provider.{key}\nb = "{name}"\n')) == 2


@pytest.mark.parametrize("path", shared_modules())
def test_shared_module_names_no_provider(path: str) -> None:
    assert provider_names_in((ROOT / path).read_text()) == []
