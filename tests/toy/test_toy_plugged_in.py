"""With the toy registered, every layer finds it: the schema, the federated list, its native
filters, GraphiQL's examples and config validation. Run by `test_toy_provider.py`."""

from __future__ import annotations

import pytest

from resolvers.config import ConfigError, parse_config
from tests.conftest import Gateway
from tests.toy.provider import NAME


async def test_the_schema_has_its_type_field_and_enum_value(gateway: Gateway) -> None:
    data = await gateway.data(
        '{ __type(name: "ToyJob") { interfaces { name } } '
        'provider: __type(name: "Provider") { enumValues { name } } '
        "__schema { queryType { fields { name } } } }"
    )
    assert {i["name"] for i in data["__type"]["interfaces"]} >= {"Job", "Node"}
    assert "TOY" in {v["name"] for v in data["provider"]["enumValues"]}
    assert "toyJobs" in {f["name"] for f in data["__schema"]["queryType"]["fields"]}


async def test_the_federated_list_counts_and_pages_its_jobs(gateway: Gateway) -> None:
    suite = gateway.suite
    total = sum(len(suite.jobs(NAME, board)) for board in suite.projects(NAME))
    query = (
        "{ jobs(filter: {providers: [TOY]}, first: 30) { totalCount edges { node { "
        "__typename provider ... on ToyJob { taskId phase } } } } }"
    )
    jobs = (await gateway.data(query))["jobs"]
    assert jobs["totalCount"] == total > 30
    assert len(jobs["edges"]) == 30
    assert {e["node"]["__typename"] for e in jobs["edges"]} == {"ToyJob"}
    assert {e["node"]["provider"] for e in jobs["edges"]} == {"TOY"}


async def test_its_native_filters_go_upstream(gateway: Gateway) -> None:
    board = "alpha"
    done = [j for j in gateway.suite.jobs(NAME, board) if j["phase"] == "done"]
    gateway.reset_counts()
    data = await gateway.data(
        f'{{ toyJobs(projectId: "{board}", phases: [DONE], oldestFirst: true, first: 5) '
        "{ totalCount nodes { taskId phase } } }"
    )
    assert data["toyJobs"]["totalCount"] == len(done)
    assert [n["taskId"] for n in data["toyJobs"]["nodes"]] == [j["taskId"] for j in reversed(done)][
        :5
    ]
    queries = [dict(e.query) for e in gateway.suite.sim(NAME).log.entries]
    assert queries and all(q.get("phase") == "done" and q.get("order") == "asc" for q in queries)


async def test_graphiql_opens_with_its_example(gateway: Gateway) -> None:
    response = await gateway.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status == 200
    page = await response.text()
    assert "query ToyJobs" in page and "toyJobs(source: " in page


def test_config_takes_its_credential_and_own_keys_from_its_row() -> None:
    source = {"name": "t", "provider": NAME, "base_url": "http://127.0.0.1:1", "projects": ["a"]}
    config = parse_config({"sources": [{**source, "toy_key_env": "K", "team_id": 7}]}, environ={})
    assert config.sources[0].credential_headers({"K": "secret"}) == {"X-Toy-Key": "secret"}
    assert config.sources[0].team_id == 7
    with pytest.raises(ConfigError, match="token_env"):
        parse_config({"sources": [{**source, "token_env": "K"}]}, environ={})
    with pytest.raises(ConfigError, match="team_id"):
        parse_config({"sources": [{**source, "team_id": "seven"}]}, environ={})
    other = {"name": "o", "provider": "metafold", "base_url": "http://127.0.0.1:1"}
    for key, value in (("toy_key_env", "K"), ("team_id", 7)):
        with pytest.raises(ConfigError, match=key):
            parse_config({"sources": [{**other, "projects": ["1"], key: value}]}, environ={})
