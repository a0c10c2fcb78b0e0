"""Huawei ModelArts, as the tests read its docs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.providers import Normalized, Oracle

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# DESIGN.md's status mapping, as the tests' independent statement of the contract.
STATUS: dict[int, str] = {
    **dict.fromkeys((1, 2, 4, 7), "QUEUED"),
    **dict.fromkeys((8, 9, 15, 18, 19), "RUNNING"),
    **dict.fromkeys((10, 20), "SUCCEEDED"),
    **dict.fromkeys((3, 5, 6, 11, 14, 16, 17, 21, 22), "FAILED"),
    **dict.fromkeys((12, 13), "CANCELED"),
}


def _normalize(job: dict[str, Any]) -> Normalized:
    created = EPOCH + timedelta(milliseconds=job["create_time"])
    status = STATUS.get(job["status"], "UNKNOWN")
    return Normalized(str(job["job_id"]), job["job_name"], status, created, str(job["status"]))


ORACLE = Oracle(
    provider="modelarts",
    field="modelArtsJobs",
    type_name="ModelArtsJob",
    id_key="job_id",
    required_field="create_time",
    built_field="status",
    normalize=_normalize,
    small_project="5a6b7c8d9e0f41a2b3c4d5e6f7a8b9c0",
    list_path="/v1/{project}/training-jobs",
    job_path=None,
    jobs_key="jobs",
    server_cap=None,
    single_job_as_array=False,
    max_page=1000,
    page_params=lambda start, size: {"page": start // size + 1, "per_page": size},
    list_total=lambda headers, body: body["job_total_count"],
    sorts_upstream=True,
    error_shape=lambda body: (
        body["is_success"] is False and body["error_code"].startswith("ModelArts.")
    ),
    raw_statuses=frozenset(str(code) for code in range(23)),
    error_codes={
        401: "ModelArts.0101",
        403: "ModelArts.0103",
        429: "ModelArts.0112",
        503: "ModelArts.0001",
    },
    time_sorts=("sortBy: CREATE_TIME", "sortBy: CREATE_TIME, order: DESC"),
)
