"""jobgraph as an Apollo Federation v2 subgraph: `_service`, `_entities`, and their cost."""

from __future__ import annotations

from graphql import parse, value_from_ast_untyped
from graphql.language import InterfaceTypeDefinitionNode, ObjectTypeDefinitionNode

from tests.federation.conftest import Subgraph
from tests.federation.references import (
    FIFTY_JOBS_UPSTREAM_REQUESTS,
    fifty_jobs,
    first_of_each_provider,
)
from tests.graph.providers import FIELDS

ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Job { id source nativeId }
  }
}
"""


def entity_keys(sdl: str) -> dict[str, list[str]]:
    """Type name -> the `fields` of each of its @key directives."""
    keys: dict[str, list[str]] = {}
    for definition in parse(sdl).definitions:
        if isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            keys[definition.name.value] = [
                value_from_ast_untyped(argument.value)
                for directive in definition.directives or ()
                if directive.name.value == "key"
                for argument in directive.arguments or ()
                if argument.name.value == "fields"
            ]
    return keys


async def test_service_sdl_declares_job_and_every_provider_type_as_entities_keyed_by_id(
    subgraph: Subgraph,
) -> None:
    body = await subgraph.post("{ _service { sdl } }")
    keys = entity_keys(body["data"]["_service"]["sdl"])
    for type_name in ["Job", *(spec.type_name for spec in FIELDS.values())]:
        assert keys[type_name] == ["id"], type_name


async def test_job_references_resolve_to_each_providers_own_type(subgraph: Subgraph) -> None:
    refs = first_of_each_provider(subgraph.suite)
    body = await subgraph.post(
        ENTITIES, {"representations": [{"__typename": "Job", "id": r.global_id} for r in refs]}
    )
    assert "errors" not in body, body["errors"]
    assert body["data"]["_entities"] == [
        {
            "__typename": r.type_name,
            "id": r.global_id,
            "source": r.source,
            "nativeId": r.native_id,
        }
        for r in refs
    ]


async def test_a_provider_type_reference_resolves_only_a_job_of_that_type(
    subgraph: Subgraph,
) -> None:
    job, other = first_of_each_provider(subgraph.suite)[:2]
    representations = [
        {"__typename": job.type_name, "id": job.global_id},
        {"__typename": job.type_name, "id": other.global_id},
    ]
    body = await subgraph.post(ENTITIES, {"representations": representations})
    assert "errors" not in body, body["errors"]
    first, second = body["data"]["_entities"]
    assert (first["__typename"], first["nativeId"]) == (job.type_name, job.native_id)
    assert second is None


async def test_a_malformed_reference_is_bad_user_input_and_the_others_still_resolve(
    subgraph: Subgraph,
) -> None:
    job = first_of_each_provider(subgraph.suite)[0]
    representations = [
        {"__typename": "Job", "id": "not-a-job-id"},
        {"__typename": "Job", "id": job.global_id},
    ]
    body = await subgraph.post(ENTITIES, {"representations": representations})
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["_entities", 0], "BAD_USER_INPUT")
    ]
    malformed, found = body["data"]["_entities"]
    assert malformed is None
    assert found["nativeId"] == job.native_id


async def test_fifty_references_cost_the_same_batched_requests_as_node_lookups(
    subgraph: Subgraph,
) -> None:
    refs = fifty_jobs(subgraph.suite)
    # Each reference twice, as a router may send: duplicates cost nothing more.
    representations = [{"__typename": "Job", "id": r.global_id} for r in refs + refs]
    body = await subgraph.post(ENTITIES, {"representations": representations})
    assert "errors" not in body, body["errors"]
    assert [e["nativeId"] for e in body["data"]["_entities"]] == [r.native_id for r in refs + refs]
    by_entities = subgraph.upstream_calls()
    subgraph.reset_counts()
    await subgraph.post(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [r.global_id for r in refs]}
    )
    assert by_entities == subgraph.upstream_calls() == FIFTY_JOBS_UPSTREAM_REQUESTS


async def test_references_to_sources_the_caller_may_not_read_are_forbidden(
    subgraph: Subgraph,
) -> None:
    refs = first_of_each_provider(subgraph.suite)
    representations = [{"__typename": "Job", "id": r.global_id} for r in refs]
    body = await subgraph.post(ENTITIES, {"representations": representations}, token="orange-only")
    entities = body["data"]["_entities"]
    forbidden = {tuple(e["path"]): e["extensions"]["code"] for e in body["errors"]}
    for index, ref in enumerate(refs):
        if ref.provider == "orange":
            assert entities[index]["nativeId"] == ref.native_id
        else:
            assert entities[index] is None
            assert forbidden[("_entities", index)] == "FORBIDDEN"
    assert len(forbidden) == len(refs) - 1
    assert subgraph.upstream_calls()["metafold"] == 0


async def test_hostile_representations_are_each_bad_user_input_never_internal(
    subgraph: Subgraph,
) -> None:
    job = first_of_each_provider(subgraph.suite)[0]
    hostile = [
        "a string",
        {"id": job.global_id},  # no __typename
        {"__typename": "NoSuchType", "id": job.global_id},
        {"__typename": "PageInfo", "id": job.global_id},  # a type, not an entity
        {"__typename": job.type_name},  # no key
        {"__typename": job.type_name, "id": 7},
        {"__typename": job.type_name, "id": job.global_id, "extra": 1},
    ]
    representations = [*hostile, {"__typename": job.type_name, "id": job.global_id}]
    body = await subgraph.post(ENTITIES, {"representations": representations})
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["_entities", index], "BAD_USER_INPUT") for index in range(len(hostile))
    ]
    *refused, found = body["data"]["_entities"]
    assert refused == [None] * len(hostile)
    assert found["nativeId"] == job.native_id
