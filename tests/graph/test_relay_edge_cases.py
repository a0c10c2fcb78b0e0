"""Every connection pages as the Relay spec's algorithm says, edge cases included: `first: 0`,
`last: 0`, `first` with `last`, `after` with `before` adjacent and far apart, empty pages,
and both flags in both directions. The expectation is the spec's algorithm run over the
connection's whole list (read first), with jobgraph's choices where the spec leaves one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Gateway
from tests.graph.providers import FIELDS
from tests.relay_spec import spec_page

SELECTION = "pageInfo { hasNextPage hasPreviousPage } edges { cursor node { id } }"
JOBS = (
    "query($first: Int, $after: String, $last: Int, $before: String) { "
    'jobs(sources: ["mf"], first: $first, after: $after, last: $last, before: $before) '
    f"{{ {SELECTION} }} }}"
)
# A small list per connection: each provider's small project, by its field (the federated one
# merges two Metafold projects).
CONNECTIONS: dict[str, tuple[str, str | None]] = {
    **{spec.field: (provider, spec.small_project) for provider, spec in FIELDS.items()},
    "jobs": ("", None),
}
MAX_PAGE_SIZE = 100


@pytest.fixture
def source_overrides() -> dict[str, dict[str, Any]]:
    return {"mf": {"projects": ["1031", "1077"]}}


@dataclass(frozen=True)
class Case:
    """Relay arguments; `after`/`before` are edge indices, negative ones from the end."""

    first: int | None = None
    after: int | None = None
    last: int | None = None
    before: int | None = None


CASES: dict[str, Case] = {
    "first-0": Case(first=0),
    "first-0-after": Case(first=0, after=3),
    "last-0": Case(last=0),
    "last-0-before": Case(last=0, before=5),
    "first-between-adjacent-cursors": Case(first=3, after=4, before=5),
    "last-between-adjacent-cursors": Case(last=3, after=4, before=5),
    "first-between-far-cursors": Case(first=3, after=1, before=10),
    "first-covering-far-cursors": Case(first=20, after=1, before=10),
    "last-between-far-cursors": Case(last=3, after=1, before=10),
    "last-covering-far-cursors": Case(last=20, after=1, before=10),
    "first-and-last": Case(first=5, last=2),
    "last-longer-than-first": Case(first=2, last=5),
    "first-and-last-after": Case(first=5, last=2, after=3),
    "first-and-last-0": Case(first=5, last=0),
    "first-0-and-last": Case(first=0, last=5),
    "first-and-last-between-cursors": Case(first=3, last=3, after=2, before=4),
    "empty-page-after-the-last-edge": Case(first=3, after=-1),
    "empty-page-before-the-first-edge": Case(last=3, before=0),
    "last-longer-than-the-tail": Case(last=10, after=-4),
    "first-longer-than-the-head": Case(first=10, before=3),
    "default-size-near-the-end": Case(after=-3),
    "first-only": Case(first=3),
    "last-only": Case(last=3),
}


def query_of(connection: str) -> tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]:
    if connection == "jobs":
        return JOBS, lambda data: data["jobs"]
    provider, project = CONNECTIONS[connection]
    spec = FIELDS[provider]
    return spec.query(project, selection=SELECTION), lambda data: data[spec.field]


async def whole_list(gateway: Gateway, connection: str) -> list[tuple[str, str]]:
    """(cursor, id) of every edge, walking forward."""
    query, pick = query_of(connection)
    edges: list[tuple[str, str]] = []
    after = None
    while True:
        page = pick(await gateway.data(query, {"first": MAX_PAGE_SIZE, "after": after}))
        edges += [(e["cursor"], e["node"]["id"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return edges
        after = page["edges"][-1]["cursor"]


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
@pytest.mark.parametrize("connection", list(CONNECTIONS))
async def test_a_connection_pages_as_the_relay_algorithm_says(
    gateway: Gateway, connection: str, case: str
) -> None:
    edges = await whole_list(gateway, connection)
    n = len(edges)
    assert n >= 12, "the list should be long enough for every case"
    args = CASES[case]
    after = None if args.after is None else args.after % n
    before = None if args.before is None else args.before % n
    first = args.first
    if first is None and args.last is None:
        first = MAX_PAGE_SIZE  # jobgraph's choice: neither is the first max_page_size
    expected, has_previous, has_next = spec_page(n, after, before, first, args.last)

    query, pick = query_of(connection)
    variables = {
        "first": args.first,
        "last": args.last,
        "after": None if after is None else edges[after][0],
        "before": None if before is None else edges[before][0],
    }
    page = pick(await gateway.data(query, variables))
    assert [e["node"]["id"] for e in page["edges"]] == [edges[i][1] for i in expected]
    assert page["pageInfo"] == {"hasPreviousPage": has_previous, "hasNextPage": has_next}
