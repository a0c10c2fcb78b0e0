"""A forward walk of `jobs` stops asking a source's project once it has given all its jobs."""

from __future__ import annotations

from tests.conftest import Gateway

PAGE = """query($after: String) {
  jobs(first: 20, after: $after, filter: {providers: [ORANGE]}) {
    pageInfo { hasNextPage endCursor } edges { node { nativeId } }
  }
}"""


async def test_finished_or_empty_projects_are_not_asked_again_on_later_pages(
    gateway: Gateway,
) -> None:
    empty = next(p for p in gateway.suite.projects("orange") if not gateway.suite.jobs("orange", p))
    after = None
    for _ in range(3):
        data = await gateway.data(PAGE, {"after": after})
        assert data["jobs"]["pageInfo"]["hasNextPage"]
        after = data["jobs"]["pageInfo"]["endCursor"]
    log = gateway.suite.sim("orange").log
    assert log.count("list", project_id=empty) == 1


async def test_a_walk_past_finished_projects_still_visits_every_job_once(gateway: Gateway) -> None:
    seen: list[str] = []
    after = None
    while True:
        data = await gateway.data(PAGE, {"after": after})
        seen += [e["node"]["nativeId"] for e in data["jobs"]["edges"]]
        if not data["jobs"]["pageInfo"]["hasNextPage"]:
            break
        after = data["jobs"]["pageInfo"]["endCursor"]
    expected = [
        j["id"] for p in gateway.suite.projects("orange") for j in gateway.suite.jobs("orange", p)
    ]
    assert sorted(seen) == sorted(expected)
    assert len(seen) == len(set(seen))
