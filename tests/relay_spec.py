"""The Relay cursor-connection spec's pagination algorithm, written out literally over a list:
the expectation every connection is tested against (relay.dev/graphql/connections.htm)."""

from __future__ import annotations


def spec_page(
    n: int, after: int | None, before: int | None, first: int | None, last: int | None
) -> tuple[list[int], bool, bool]:
    """EdgesToReturn, HasPreviousPage and HasNextPage over edges 0..n-1 (cursors are edge
    indices), with jobgraph's choices where the spec leaves one: edges before `after` and
    from `before` on exist whenever those cursors name an edge."""
    all_edges = list(range(n))
    window = [e for e in all_edges if (after is None or e > after)]
    window = [e for e in window if (before is None or e < before)]
    edges = window
    if first is not None and len(edges) > first:
        edges = edges[:first]
    if last is not None and len(edges) > last:
        edges = edges[len(edges) - last :]
    # HasPreviousPage: by `last` if given, else whether `after` names an edge.
    has_previous = len(window) > last if last is not None else after is not None and after >= 0
    # HasNextPage: by `first` if given, else whether `before` names an edge.
    has_next = len(window) > first if first is not None else before is not None and before < n
    return edges, has_previous, has_next
