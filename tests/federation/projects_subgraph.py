"""A second, tiny subgraph for the supergraph tests: projects that reference jobgraph's jobs.

It knows jobs only by global id. `Job` here is an `@interfaceObject` stub keyed by `id`: the
Federation 2.3 way to reference an entity interface that another subgraph (jobgraph) owns;
the router asks jobgraph for the concrete type and every other field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import strawberry
from aiohttp import web
from strawberry.aiohttp.views import GraphQLView


@dataclass(frozen=True)
class ProjectRecord:
    id: str
    name: str
    job_ids: tuple[str, ...]


@strawberry.federation.interface_object(keys=["id"])
class Job:
    id: strawberry.ID


@strawberry.type
class Project:
    id: strawberry.ID
    name: str
    job_ids: strawberry.Private[tuple[str, ...]]

    @strawberry.field(description="The project's jobs, resolved by jobgraph.")
    def jobs(self) -> list[Job]:
        return [Job(id=strawberry.ID(job_id)) for job_id in self.job_ids]


def _project(record: ProjectRecord) -> Project:
    return Project(id=strawberry.ID(record.id), name=record.name, job_ids=record.job_ids)


def projects_schema(records: Sequence[ProjectRecord]) -> strawberry.Schema:
    by_id = {record.id: record for record in records}

    @strawberry.type
    class Query:
        @strawberry.field
        def projects(self) -> list[Project]:
            return [_project(record) for record in records]

        @strawberry.field
        def project(self, id: strawberry.ID) -> Project | None:
            record = by_id.get(id)
            return None if record is None else _project(record)

    return strawberry.federation.Schema(query=Query, types=[Job])


def projects_app(records: Sequence[ProjectRecord]) -> web.Application:
    """The projects subgraph at /graphql."""
    app = web.Application()
    view = GraphQLView(schema=projects_schema(records))
    app.router.add_route("GET", "/graphql", view)
    app.router.add_route("POST", "/graphql", view)
    return app
