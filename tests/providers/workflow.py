"""The guided-workflow jobs API, as the tests read its docs."""

from __future__ import annotations

from typing import Any

from tests.providers import Normalized, Oracle, iso, no_total

# The five documented values (DESIGN.md); the others map by meaning.
DOCUMENTED = {
    "Paused": "PAUSED",
    "Completed": "SUCCEEDED",
    "InProgress": "RUNNING",
    "Cancelled": "CANCELED",
    "Abandoned": "CANCELED",
}
STATUS = {**DOCUMENTED, "Scheduled": "QUEUED", "Failed": "FAILED"}


def _normalize(job: dict[str, Any]) -> Normalized:
    meta = job["metadata"]
    raw = meta.get("status")
    status = STATUS.get(raw, "UNKNOWN")
    return Normalized(job["jobId"], meta.get("jobTitle"), status, iso(meta.get("created")), raw)


ORACLE = Oracle(
    provider="workflow",
    field="workflowJobs",
    type_name="WorkflowJob",
    id_key="jobId",
    required_field="metadata",
    built_field="jobId",
    normalize=_normalize,
    small_project=None,
    list_path="/jobs/v1/",
    job_path="/jobs/v1/bson/{job}",
    jobs_key=None,
    server_cap=None,
    single_job_as_array=True,
    page_params=lambda start, size: {"skip": start, "limit": size},
    list_total=no_total,
    sorts_upstream=False,
    error_shape=lambda body: {"type", "title", "status"} <= set(body),
    raw_statuses=frozenset({"Paused", "Completed", "InProgress", "Cancelled", "Abandoned"}),
    error_codes={401: None, 403: None, 429: None, 503: None},
)
