"""The toy platform as the tests state it, written apart from its adapter."""

from __future__ import annotations

from typing import Any

from tests.providers import Normalized, Oracle, iso, offset_limit
from tests.toy.provider import NAME

# The phases as the toy platform documents them, written apart from the adapter's table.
STATUS = {"waiting": "QUEUED", "busy": "RUNNING", "done": "SUCCEEDED", "broken": "FAILED"}


def _normalize(job: dict[str, Any]) -> Normalized:
    status = STATUS.get(job["phase"], "UNKNOWN")
    return Normalized(job["taskId"], job["title"], status, iso(job["createdAt"]), job["phase"])


ORACLE = Oracle(
    provider=NAME,
    field="toyJobs",
    type_name="ToyJob",
    id_key="taskId",
    required_field="title",
    built_field="title",
    normalize=_normalize,
    small_project="beta",
    list_path="/boards/{project}/tasks",
    job_path="/boards/{project}/tasks/{job}",
    jobs_key="tasks",
    server_cap=20,
    single_job_as_array=False,
    max_page=100,
    page_params=offset_limit,
    list_total=lambda headers, body: body["total"],
    sorts_upstream=True,
    error_shape=lambda body: set(body["error"]) == {"message", "code"},
    raw_statuses=frozenset(STATUS),
    created_ordered=True,
    error_codes={401: "bad_key", 403: "403", 429: "429", 503: "503"},
)
