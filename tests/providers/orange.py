"""Orange Business Evolution Platform IaaS, as the tests read its docs."""

from __future__ import annotations

from typing import Any

from tests.providers import Normalized, Oracle, iso, offset_limit

# DESIGN.md's status mapping, as the tests' independent statement of the contract.
STATUS = {
    "acknowledged": "QUEUED",
    "in-progress": "RUNNING",
    "completed": "SUCCEEDED",
    "failed": "FAILED",
}


def _normalize(job: dict[str, Any]) -> Normalized:
    status = STATUS.get(job["state"], "UNKNOWN")
    created = iso(job["createdDate"])
    return Normalized(job["id"], job.get("description"), status, created, job["state"])


ORACLE = Oracle(
    provider="orange",
    field="orangeJobs",
    type_name="OrangeJob",
    id_key="id",
    required_field="hRef",
    built_field="hRef",
    normalize=_normalize,
    small_project="c2f4a6e8-1b3d-4c5e-9f7a-8b6d4e2c0a19",
    list_path="/projects/{project}/jobs",
    job_path="/projects/{project}/jobs/{job}",
    jobs_key=None,
    server_cap=50,
    single_job_as_array=False,
    page_params=offset_limit,
    list_total=lambda headers, body: int(headers["X-Total-Count"]),
    sorts_upstream=True,
    error_shape=lambda body: isinstance(body["code"], int) and "message" in body,
    raw_statuses=frozenset({"acknowledged", "in-progress", "completed", "failed"}),
    error_codes={401: "41", 403: "50", 429: "53", 503: "5"},
    time_sorts=('sort: "createdDate"', 'sort: "-createdDate"'),
)
