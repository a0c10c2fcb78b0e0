"""Orange Business Evolution Platform IaaS, as the tests read its docs."""

from __future__ import annotations

from typing import Any

from tests.providers import Normalized, Oracle, iso
from tests.status_tables import ORANGE


def _normalize(job: dict[str, Any]) -> Normalized:
    status = ORANGE.get(job["state"], "UNKNOWN")
    return Normalized(job["id"], job.get("description"), status, iso(job["createdDate"]))


ORACLE = Oracle(
    provider="orange",
    field="orangeJobs",
    type_name="OrangeJob",
    id_key="id",
    required_field="hRef",
    normalize=_normalize,
    small_project="c2f4a6e8-1b3d-4c5e-9f7a-8b6d4e2c0a19",
    list_path="/projects/{project}/jobs",
    error_codes={401: "41", 403: "50", 429: "53", 503: "5"},
)
