"""Edge Impulse, as the tests read its docs."""

from __future__ import annotations

from typing import Any

from tests.providers import GO_ZERO, Normalized, Oracle, iso, offset_limit


def _status(job: dict[str, Any]) -> str:
    def present(key: str) -> bool:
        return job.get(key) not in (None, GO_ZERO)

    if present("finished"):
        outcome = job.get("finishedSuccessful")
        return "UNKNOWN" if outcome is None else ("SUCCEEDED" if outcome else "FAILED")
    return "RUNNING" if present("started") else "QUEUED"


def _normalize(job: dict[str, Any]) -> Normalized:
    return Normalized(str(job["id"]), job["category"], _status(job), iso(job["created"]), None)


ORACLE = Oracle(
    provider="edge_impulse",
    field="edgeImpulseJobs",
    type_name="EdgeImpulseJob",
    id_key="id",
    required_field="category",
    built_field="category",
    normalize=_normalize,
    small_project="4212",
    list_path="/api/organizations/1/whitelabel/projects/{project}/jobs",
    job_path=None,
    jobs_key="jobs",
    server_cap=None,
    single_job_as_array=False,
    page_params=offset_limit,
    list_total=lambda headers, body: body["totalJobCount"],
    sorts_upstream=False,
    error_shape=lambda body: body["success"] is False and "error" in body,
    raw_statuses=frozenset(),
    error_codes={401: None, 403: None, 429: None, 503: None},
    project_args=lambda project: f"organizationId: 1, projectId: {int(project or 0)}",
)
