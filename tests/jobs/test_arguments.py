"""`jobs` arguments: `sources` narrowing, cursor binding and tampering, page-size bounds, and
`after`/`before`/`first`/`last` combined as Relay specifies."""

from __future__ import annotations

from tests.conftest import Gateway
from tests.jobs.conftest import JOBS_QUERY, brute_force, ident

DESC = "CREATED_AT_DESC"


async def code_of(gateway: Gateway, query: str, variables: dict[str, object]) -> str:
    body = await gateway.post(query, variables)
    assert body["data"] is None
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def test_sources_narrow_the_listing_whatever_order_they_are_named_in(
    gateway: Gateway,
) -> None:
    one = await gateway.data(JOBS_QUERY, {"first": 50, "sources": ["wf", "ei"]})
    other = await gateway.data(JOBS_QUERY, {"first": 50, "sources": ["ei", "wf"]})
    assert one == other
    assert {edge["node"]["source"] for edge in one["jobs"]["edges"]} == {"ei", "wf"}
    assert one["jobs"]["totalCount"] == len(brute_force(gateway, sources=["ei", "wf"]))


async def test_unknown_source_is_bad_user_input(gateway: Gateway) -> None:
    assert await code_of(gateway, JOBS_QUERY, {"first": 5, "sources": ["nope"]}) == "BAD_USER_INPUT"


async def test_page_size_beyond_the_limit_is_bad_user_input(gateway: Gateway) -> None:
    assert await code_of(gateway, JOBS_QUERY, {"first": 101}) == "BAD_USER_INPUT"
    assert await code_of(gateway, JOBS_QUERY, {"last": -1}) == "BAD_USER_INPUT"


async def test_cursor_of_other_arguments_is_bad_user_input(gateway: Gateway) -> None:
    page = await gateway.data(JOBS_QUERY, {"first": 5})
    cursor = page["jobs"]["pageInfo"]["endCursor"]
    for variables in (
        {"first": 5, "after": cursor, "orderBy": "CREATED_AT_ASC"},
        {"first": 5, "after": cursor, "sources": ["ei"]},
        {"first": 5, "after": cursor, "filter": {"status": ["FAILED"]}},
    ):
        assert await code_of(gateway, JOBS_QUERY, variables) == "BAD_USER_INPUT", variables


async def test_tampered_cursor_is_bad_user_input(gateway: Gateway) -> None:
    page = await gateway.data(JOBS_QUERY, {"first": 5})
    cursor = page["jobs"]["pageInfo"]["endCursor"]
    tampered = cursor[:10] + ("A" if cursor[10] != "A" else "B") + cursor[11:]
    assert await code_of(gateway, JOBS_QUERY, {"first": 5, "after": tampered}) == "BAD_USER_INPUT"


async def test_after_and_before_bound_the_page_from_both_sides(gateway: Gateway) -> None:
    edges = (await gateway.data(JOBS_QUERY, {"first": 30}))["jobs"]["edges"]
    between = {"after": edges[4]["cursor"], "before": edges[20]["cursor"]}
    forward = (await gateway.data(JOBS_QUERY, {"first": 100, **between}))["jobs"]
    assert [e["node"] for e in forward["edges"]] == [e["node"] for e in edges[5:20]]
    assert forward["pageInfo"]["hasNextPage"] is False
    backward = (await gateway.data(JOBS_QUERY, {"last": 5, **between}))["jobs"]
    assert [e["node"] for e in backward["edges"]] == [e["node"] for e in edges[15:20]]
    assert backward["pageInfo"]["hasPreviousPage"] is True
    assert backward["pageInfo"]["hasNextPage"] is True


async def test_before_earlier_than_after_is_bad_user_input(gateway: Gateway) -> None:
    edges = (await gateway.data(JOBS_QUERY, {"first": 10}))["jobs"]["edges"]
    variables = {"first": 5, "after": edges[6]["cursor"], "before": edges[2]["cursor"]}
    assert await code_of(gateway, JOBS_QUERY, variables) == "BAD_USER_INPUT"


async def test_first_and_last_together_keep_the_tail_of_the_first_page(gateway: Gateway) -> None:
    edges = (await gateway.data(JOBS_QUERY, {"first": 12}))["jobs"]["edges"]
    both = (await gateway.data(JOBS_QUERY, {"first": 12, "last": 4}))["jobs"]
    assert [e["cursor"] for e in both["edges"]] == [e["cursor"] for e in edges[8:]]
    assert both["pageInfo"]["hasPreviousPage"] is True


async def test_an_edge_cursor_used_as_before_pages_back_from_that_edge(gateway: Gateway) -> None:
    edges = (await gateway.data(JOBS_QUERY, {"first": 40}))["jobs"]["edges"]
    back = (await gateway.data(JOBS_QUERY, {"last": 25, "before": edges[30]["cursor"]}))["jobs"]
    assert [ident(e["node"]) for e in back["edges"]] == [ident(e["node"]) for e in edges[5:30]]
    # Its start cursor stands for the same edge: paging on from it resumes at edges[6].
    on = await gateway.data(JOBS_QUERY, {"first": 3, "after": back["pageInfo"]["startCursor"]})
    assert [ident(e["node"]) for e in on["jobs"]["edges"]] == [ident(e["node"]) for e in edges[6:9]]
