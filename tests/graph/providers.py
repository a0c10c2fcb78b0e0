"""How each provider's connection field is queried, and how its raw jobs are identified."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ProviderField:
    provider: str  # simulator / config spelling
    field: str  # GraphQL connection field
    type_name: str

    def project_args(self, project: str | None) -> str:
        if self.provider == "edge_impulse":
            return f"organizationId: 1, projectId: {int(project or 0)}"
        if project is None:
            return ""
        return f'projectId: "{project}"'

    def query(self, project: str | None, extra: str = "", selection: str | None = None) -> str:
        args = ", ".join(a for a in (self.project_args(project), extra) if a)
        body = selection or (
            "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } "
            "edges { cursor node { nativeId } }"
        )
        return (
            "query($first: Int, $after: String, $last: Int, $before: String) { "
            f"{self.field}({args}{', ' if args else ''}"
            "first: $first, after: $after, last: $last, before: $before) { "
            f"{body} }} }}"
        )


FIELDS = {
    "edge_impulse": ProviderField("edge_impulse", "edgeImpulseJobs", "EdgeImpulseJob"),
    "orange": ProviderField("orange", "orangeJobs", "OrangeJob"),
    "metafold": ProviderField("metafold", "metafoldJobs", "MetafoldJob"),
    "workflow": ProviderField("workflow", "workflowJobs", "WorkflowJob"),
    "modelarts": ProviderField("modelarts", "modelArtsJobs", "ModelArtsJob"),
}

NATIVE_ID_KEY = {
    "edge_impulse": "id",
    "orange": "id",
    "metafold": "id",
    "workflow": "jobId",
    "modelarts": "job_id",
}


def native_ids(provider: str, raw_jobs: list[dict[str, Any]]) -> list[str]:
    return [str(job[NATIVE_ID_KEY[provider]]) for job in raw_jobs]
