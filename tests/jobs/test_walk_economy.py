"""A forward walk of `jobs` asks each (source, project) stream at most once per page, for no
more than the page could use: 20 items from where it stands where the upstream sorts, the whole
sequence where it cannot, nothing once it has given all its jobs. Counted in the simulators'
request logs over real HTTP."""

from __future__ import annotations

from collections import Counter
from typing import Any

from resolvers.domain import CreatedOrder, JobFilterSpec
from resolvers.paging import REMEMBERED_LENGTHS, PageWindow, PagingHints
from resolvers.providers.base import ListQuery
from resolvers.providers.registry import build_adapters
from tests.conftest import Gateway
from tests.jobs.conftest import brute_force, merge_order_key
from tests.providers import PROJECT_PROVIDERS, PROVIDERS, oracle

PAGE = 20
DESC = "CREATED_AT_DESC"
QUERY = """query($after: String, $filter: JobFilter) {
  jobs(first: 20, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor } nodes { source projectId }
  }
}"""

Stream = tuple[str, str | None]


def stream_sizes(gateway: Gateway) -> dict[Stream, tuple[Any, int]]:
    """Every configured stream's adapter (for its paging planner) and number of jobs."""
    adapters = build_adapters(gateway.config.sources)
    sizes: dict[Stream, tuple[Any, int]] = {}
    for source in gateway.config.sources:
        provider = source.provider.value
        for project in list(source.projects) or [None]:
            sizes[(source.name, project)] = (
                adapters[source.name],
                len(gateway.suite.jobs(provider, project)),
            )
    return sizes


def fewest_requests(adapter: Any, project: str | None, size: int, shown: int) -> int:
    """Requests one page needs from a stream that has shown `shown` of its `size` jobs."""
    lookahead = 0 if adapter.reports_total else 1
    if adapter.pushdown(project, CreatedOrder.DESC, JobFilterSpec()).ordered:
        # Past the first page, the read also holds the cursor's job (re-alignment) and one
        # job either side (a run of equal creation times crossing the window's edge).
        low = max(0, shown - 2)
        window = PageWindow(low, shown + PAGE + lookahead + 1)
    else:
        window = PageWindow(0, max(1, size + lookahead))
    cap = oracle(adapter.provider.value).server_cap
    return len(adapter.plan(window, cap))


def upstream_requests(gateway: Gateway) -> Counter[Stream]:
    """Logged list requests by stream (source name, project)."""
    names = {source.provider.value: source.name for source in gateway.config.sources}
    made: Counter[Stream] = Counter()
    for provider in PROVIDERS:
        for entry in gateway.suite.sim(provider).log.entries:
            project = entry.path_params.get("project_id") if provider in PROJECT_PROVIDERS else None
            made[(names[provider], project)] += 1
    return made


async def walk_counting(
    gateway: Gateway, job_filter: dict[str, Any] | None = None
) -> tuple[Counter[Stream], Counter[Stream], Counter[Stream]]:
    """(requests made, fewest needed, pages that read it) per stream over a whole forward
    walk in pages of 20."""
    sizes = stream_sizes(gateway)
    providers = None if job_filter is None else job_filter.get("providers")
    included = {
        key
        for key, (adapter, _) in sizes.items()
        if providers is None or adapter.provider.name in providers
    }
    shown: Counter[Stream] = Counter()
    needed: Counter[Stream] = Counter()
    pages: Counter[Stream] = Counter()
    gateway.reset_counts()
    after = None
    for index in range(10_000):
        for key in included:
            adapter, size = sizes[key]
            if index == 0 or shown[key] < size:
                needed[key] += fewest_requests(adapter, key[1], size, shown[key])
                pages[key] += 1
        data = await gateway.data(QUERY, {"after": after, "filter": job_filter})
        shown.update((n["source"], n["projectId"]) for n in data["jobs"]["nodes"])
        if not data["jobs"]["pageInfo"]["hasNextPage"]:
            break
        after = data["jobs"]["pageInfo"]["endCursor"]
    assert all(shown[key] == sizes[key][1] for key in included)
    return upstream_requests(gateway), needed, pages


async def test_a_page_ending_on_a_streams_last_job_leaves_that_stream_out_of_the_next_page(
    gateway: Gateway,
) -> None:
    merged = sorted(brute_force(gateway), key=merge_order_key(gateway, DESC))
    last_index = {(job.source, job.project): i for i, job in enumerate(merged)}
    (source, project), index = min(last_index.items(), key=lambda item: item[1])
    assert 0 < index < min(len(merged) - 1, 100)
    provider = next(s.provider.value for s in gateway.config.sources if s.name == source)
    first = await gateway.data(QUERY.replace("first: 20", f"first: {index + 1}"))
    assert first["jobs"]["nodes"][-1] == {"source": source, "projectId": project}
    gateway.reset_counts()
    await gateway.data(QUERY, {"after": first["jobs"]["pageInfo"]["endCursor"]})
    assert gateway.suite.sim(provider).log.count("list", project_id=project) == 0


async def test_federated_walk_makes_no_more_requests_than_each_stream_needs(
    gateway: Gateway,
) -> None:
    # The first page of a fresh process cannot know how long the workflow list (no total) is;
    # after it, whole reads of unsorted streams are sized by the length last seen.
    await gateway.data(QUERY, {"after": None})
    made, needed, pages = await walk_counting(gateway)
    # Where the upstream sorts, a run of equal creation times crossing a window's edge is read
    # again whole (its order may differ on every request): at most one more request a page.
    sizes = stream_sizes(gateway)
    allowed = Counter(needed)
    for key, (adapter, _) in sizes.items():
        if adapter.pushdown(key[1], CreatedOrder.DESC, JobFilterSpec()).ordered:
            allowed[key] += pages[key]
    assert {key: (made[key], allowed[key]) for key in needed if made[key] > allowed[key]} == {}
    unsorted = [key for key in needed if allowed[key] == needed[key]]
    assert sum(made[key] for key in unsorted) <= sum(needed[key] for key in unsorted)


def test_a_source_remembers_a_bounded_number_of_sequence_lengths() -> None:
    hints = PagingHints()
    for n in range(REMEMBERED_LENGTHS + 10):
        hints.remember_length(ListQuery(None, (("n", str(n)),)), n)
    hints.remember_length(ListQuery(None, (("n", "20"),)), 7)
    assert len(hints.scanned_lengths) == REMEMBERED_LENGTHS
    assert ListQuery(None, (("n", "5"),)) not in hints.scanned_lengths
    assert list(hints.scanned_lengths.items())[-1] == (ListQuery(None, (("n", "20"),)), 7)


async def test_a_cursor_moved_by_new_jobs_costs_one_window_read_more(gateway: Gateway) -> None:
    # Orange newest first, 3 jobs arriving before every later page: the cursor's job is found
    # in the read that holds the page's first window, so the page costs the window once more
    # (README's bound), not a wider look around it as well.
    suite = gateway.suite
    sim = suite.sim("orange")
    project = max(suite.projects("orange"), key=lambda p: len(suite.jobs("orange", p)))
    query = """query($project: String!, $after: String) {
      orangeJobs(projectId: $project, sort: "-createdDate", first: 20, after: $after) {
        pageInfo { hasNextPage endCursor } nodes { id }
      }
    }"""
    after = None
    for page in range(4):
        sim.log.clear()
        data = await gateway.data(query, {"project": project, "after": after})
        optimum = 1  # 21 items fit one request under the server cap
        assert sim.log.count("list") <= optimum + (page > 0), page
        after = data["orangeJobs"]["pageInfo"]["endCursor"]
        sim.mutations.create(project, 3)
