"""DESIGN.md's status mappings, as the tests' independent statement of the contract."""

from __future__ import annotations

ORANGE = {
    "acknowledged": "QUEUED",
    "in-progress": "RUNNING",
    "completed": "SUCCEEDED",
    "failed": "FAILED",
}
METAFOLD = {
    "pending": "QUEUED",
    "started": "RUNNING",
    "success": "SUCCEEDED",
    "failure": "FAILED",
    "canceled": "CANCELED",
}
MODELARTS: dict[int, str] = {
    **dict.fromkeys((1, 2, 4, 7), "QUEUED"),
    **dict.fromkeys((8, 9, 15, 18, 19), "RUNNING"),
    **dict.fromkeys((10, 20), "SUCCEEDED"),
    **dict.fromkeys((3, 5, 6, 11, 14, 16, 17, 21, 22), "FAILED"),
    **dict.fromkeys((12, 13), "CANCELED"),
}
# The five documented workflow values; others map "by meaning" (see WORKFLOW_BY_MEANING).
WORKFLOW = {
    "Paused": "PAUSED",
    "Completed": "SUCCEEDED",
    "InProgress": "RUNNING",
    "Cancelled": "CANCELED",
    "Abandoned": "CANCELED",
}
WORKFLOW_BY_MEANING = {**WORKFLOW, "Scheduled": "QUEUED", "Failed": "FAILED"}
GO_ZERO = "0001-01-01T00:00:00Z"
