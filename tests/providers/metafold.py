"""Metafold, as the tests read its docs."""

from __future__ import annotations

from typing import Any

from tests.providers import Normalized, Oracle, iso, no_total

# DESIGN.md's status mapping, as the tests' independent statement of the contract.
STATUS = {
    "pending": "QUEUED",
    "started": "RUNNING",
    "success": "SUCCEEDED",
    "failure": "FAILED",
    "canceled": "CANCELED",
}


def _normalize(job: dict[str, Any]) -> Normalized:
    status = STATUS.get(job["state"], "UNKNOWN")
    return Normalized(job["id"], job["name"], status, iso(job["created"]), job["state"])


ORACLE = Oracle(
    provider="metafold",
    field="metafoldJobs",
    type_name="MetafoldJob",
    id_key="id",
    required_field="type",
    built_field="type",
    normalize=_normalize,
    small_project="1031",
    list_path="/projects/{project}/jobs",
    job_path="/projects/{project}/jobs/{job}",
    jobs_key=None,
    server_cap=None,
    single_job_as_array=False,
    page_params=None,
    list_total=no_total,
    sorts_upstream=True,
    error_shape=lambda body: {"code", "name", "description"} <= set(body),
    raw_statuses=frozenset({"pending", "started", "success", "failure", "canceled"}),
    error_codes={401: "401", 403: "403", 429: "429", 503: "503"},
    time_sorts=('sort: "created:-1"', 'sort: "created:1"'),
)
