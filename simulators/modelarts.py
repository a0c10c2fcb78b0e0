"""Huawei Cloud ModelArts training jobs: `GET /v1/{project}/training-jobs`.

Quirks kept: `page` (1..65535, default 1) / `per_page` (1..1000, default 10) with
`job_total_count`; `sortBy` (default job_name) and `order` (default asc); `status` one code;
`search_content` (0..64 chars); `workspace_id` (default "0") hides other workspaces' jobs.
Errors are `{is_success: false, error_code: "ModelArts.xxxx", error_message}`.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from aiohttp import web

from simulators.base import Dataset, Simulator, json_response
from simulators.datagen import (
    BASE_TIME,
    Phase,
    SimJob,
    assign_statuses,
    created_timeline,
    epoch_millis,
    plan_timing,
    project_rng,
    scaled_size,
)
from simulators.errors import BadRequest, NotFound, Unauthorized
from simulators.mutations import JobShape, next_int_id
from simulators.ordering import sort_by
from simulators.params import choice_param, int_param, parse_int, single
from simulators.quirks import Quirks

DEFAULT_WORKSPACE = "0"
OTHER_WORKSPACE = "7c1e4f9a0b2d4e6f8a1c3e5f7b9d0a2c"
# project -> (jobs in workspace "0", jobs in the other workspace)
PROJECTS: tuple[tuple[str, int, int], ...] = (
    ("0f5c8a1e2b3d4c5e6f708192a3b4c5d6", 365, 9),
    ("5a6b7c8d9e0f41a2b3c4d5e6f7a8b9c0", 41, 3),
    ("9e8d7c6b5a4f43e2d1c0b9a8f7e6d5c4", 10, 0),  # exactly the default per_page
    ("c0ffee00deadbeef0123456789abcdef", 1, 0),
    ("e4d3c2b1a0f94e8d7c6b5a4f3e2d1c0b", 0, 0),
)
QUOTAS = 1000
SORT_FIELDS = ("job_name", "job_desc", "status", "duration", "version_count", "create_time")
FIRST_JOB_ID = 104_300
ERROR_CODES = {
    400: "ModelArts.0104",
    401: "ModelArts.0101",
    403: "ModelArts.0103",
    404: "ModelArts.0105",
    429: "ModelArts.0112",
}
SERVER_ERROR_CODE = "ModelArts.0001"
# What Huawei's API gateway answers itself: bad or expired token, throttling (per minute).
GATEWAY_CODES = {401: "APIGW.0301", 429: "APIG.0308"}

# status code -> (phase, weight). Codes and meanings from the ModelArts job status table.
STATUSES: dict[int, tuple[Phase, float]] = {
    0: (Phase.STATIC, 1),  # unknown
    1: (Phase.QUEUED, 1),  # initializing
    2: (Phase.QUEUED, 1),  # image creating
    3: (Phase.ENDED_UNSTARTED, 1),  # image failed
    4: (Phase.QUEUED, 1),  # submitting
    5: (Phase.ENDED_UNSTARTED, 1),  # submit failed
    6: (Phase.FINISHED, 1),  # delete failed
    7: (Phase.QUEUED, 3),  # queuing
    8: (Phase.RUNNING, 4),  # running
    9: (Phase.RUNNING, 1),  # being canceled
    10: (Phase.FINISHED, 45),  # completed
    11: (Phase.FINISHED, 8),  # failed
    12: (Phase.FINISHED, 2),  # canceled (killed)
    13: (Phase.ENDED_UNSTARTED, 3),  # canceled
    14: (Phase.FINISHED, 1),  # lost
    15: (Phase.RUNNING, 1),  # scaling
    16: (Phase.FINISHED, 1),  # submit model failed
    17: (Phase.FINISHED, 1),  # deploy service failed
    18: (Phase.RUNNING, 1),  # review initializing
    19: (Phase.RUNNING, 1),  # under review
    20: (Phase.FINISHED, 2),  # review completed
    21: (Phase.FINISHED, 1),  # review failed
    22: (Phase.ENDED_UNSTARTED, 1),  # mount failed
}
REVIEW_STATUSES = (18, 19)
_MODELS = ("resnet50", "ResNet101", "bert-base", "yolov5s", "mobilenet_v3", "unet", "ViT-B16")
_TASKS = ("flowers", "helmet-detect", "ner", "defects", "OCR", "churn", "segmentation")
_DESCRIPTIONS = (
    "This is ModelArts job",
    "Fine-tune on the March export",
    "baseline, do not delete",
    "Hyper-parameter sweep lr=1e-4..1e-2",
    "",
)


# The fake credentials it accepts (printed by `jobgraph simulate`).
TOKEN = "MIIsim-iam-token-modelarts-3f6b0d9c2e71a845"


@dataclass(slots=True)
class ModelArtsQuirks(Quirks):
    """The shared switches and the ones only this platform has."""

    # job_total_count counts every job, not only those matching the filters.
    unfiltered_total: bool = False
    # 401 and 429 answered by Huawei's API gateway ({error_msg, error_code APIGW.0301 /
    # APIG.0308, request_id}) instead of ModelArts itself.
    gateway_errors: bool = False


class ModelArtsSimulator(Simulator):
    provider: ClassVar[str] = "modelarts"
    quirks_class: ClassVar[type[Quirks]] = ModelArtsQuirks
    quirks: ModelArtsQuirks
    demo_name: ClassVar[str] = "ma"
    realistic: ClassVar[dict[str, Any]] = {
        "gateway_errors": True,
        "unfiltered_total": True,
        "shuffle_ties": True,
    }
    demo_credentials: ClassVar[dict[str, str]] = {"token_env": "JOBGRAPH_SIM_MA_TOKEN"}
    demo_secrets: ClassVar[dict[str, str]] = {"JOBGRAPH_SIM_MA_TOKEN": TOKEN}
    auth_headers: ClassVar[dict[str, str]] = {"X-Auth-Token": TOKEN}
    field_order: ClassVar[tuple[str, ...]] = (
        "job_id",
        "job_name",
        "version_id",
        "status",
        "create_time",
        "duration",
        "job_desc",
        "version_count",
    )
    credentials_help: ClassVar[str] = f"X-Auth-Token: {TOKEN}"

    # --- dataset -------------------------------------------------------------------------

    def generate(self, seed: int, sizes: str) -> Dataset:
        dataset: Dataset = {}
        next_id = FIRST_JOB_ID
        for project, size, elsewhere in PROJECTS:
            rng = project_rng(seed, self.provider, project)
            n = scaled_size(size, sizes) + elsewhere
            created = created_timeline(rng, n)
            statuses = assign_statuses(rng, n, STATUSES, ensure_all=n >= 100)
            hidden = set(rng.sample(range(n), elsewhere))
            names: set[str] = set()
            jobs = []
            for index, (when, status) in enumerate(zip(created, statuses, strict=True)):
                workspace = OTHER_WORKSPACE if index in hidden else DEFAULT_WORKSPACE
                jobs.append(self._job(rng, next_id, when, status, workspace, names))
                next_id += rng.randint(1, 25)
            dataset[project] = sort_by(jobs, _sort_keys("job_name", descending=False))
        return dataset

    def _job(
        self,
        rng: random.Random,
        job_id: int,
        created: datetime,
        status: int,
        workspace: str,
        names: set[str],
    ) -> SimJob:
        phase, _ = STATUSES[status]
        timing = plan_timing(rng, created, phase, fail_rate=0.2, cancel=status == 9)
        name = _unique_name(rng, names)
        version_count = rng.randint(1, 12)
        duration = 0
        if timing.started is not None:
            end = timing.finished or BASE_TIME
            duration = epoch_millis(end) - epoch_millis(timing.started)
        payload = {
            "job_id": job_id,
            "job_name": name,
            "version_id": job_id * 10 + version_count,
            "status": status,
            "create_time": epoch_millis(created),
            "duration": duration,
            "job_desc": rng.choice(_DESCRIPTIONS),
            "version_count": version_count,
        }
        private: dict[str, Any] = {
            "workspace": workspace,
            "started": timing.started,
            "running": timing.started is not None and timing.finished is None,
        }
        return SimJob(payload=payload, events=list(timing.events), private=private)

    def apply_event(self, job: SimJob, action: str, at: datetime) -> None:
        payload = job.payload
        if action == "start":
            payload["status"] = 8
            job.private.update(started=at, running=True)
            return
        review = payload["status"] in REVIEW_STATUSES
        outcome = {"succeed": 20 if review else 10, "fail": 21 if review else 11, "cancel": 13}
        payload["status"] = outcome[action]
        job.private["running"] = False
        started = job.private["started"]
        payload["duration"] = 0 if started is None else epoch_millis(at) - epoch_millis(started)

    def on_clock(self, now: datetime) -> None:
        for jobs in self.dataset.values():
            for job in jobs:
                if job.private["running"]:
                    started = job.private["started"]
                    job.payload["duration"] = epoch_millis(now) - epoch_millis(started)

    # --- dataset views -------------------------------------------------------------------

    def project_jobs(
        self, project: str | None, workspace_id: str = DEFAULT_WORKSPACE
    ) -> list[SimJob]:
        """A project's jobs in one workspace, in default order (job_name ascending)."""
        return _in_workspace(self.dataset[project], workspace_id)

    def jobs(
        self, project: str | None, workspace_id: str = DEFAULT_WORKSPACE
    ) -> list[dict[str, Any]]:
        return self.payloads(self.project_jobs(project, workspace_id))

    # --- HTTP ----------------------------------------------------------------------------

    def job_shape(self) -> JobShape:
        def set_created(job: SimJob, at: datetime) -> None:
            job.payload["create_time"] = epoch_millis(at)

        return JobShape(
            id_key="job_id",
            created_of=lambda job: job.payload["create_time"],
            set_created=set_created,
            mint_id=next_int_id("job_id"),
            default_order=lambda jobs: sort_by(jobs, _sort_keys("job_name", descending=False)),
        )

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/v1/{project_id}/training-jobs", self.list_jobs, name="list")

    def authenticate(self, request: web.Request) -> None:
        token = request.headers.get("X-Auth-Token")
        if token is None:
            raise Unauthorized("The X-Auth-Token header is missing.")
        if token != TOKEN or self.quirks.expired_token:
            raise Unauthorized("The IAM token is invalid or has expired.")

    def error_response(
        self, status: int, message: str, code: str | int | None = None
    ) -> web.Response:
        if self.quirks.gateway_errors and status in GATEWAY_CODES:
            # Refused by Huawei's API gateway before ModelArts sees the request.
            gateway = {"error_msg": message, "error_code": GATEWAY_CODES[status],
                       "request_id": uuid.uuid4().hex}  # fmt: skip
            return json_response(gateway, status=status)
        error_code = str(code) if code is not None else ERROR_CODES.get(status, SERVER_ERROR_CODE)
        body = {"is_success": False, "error_message": message, "error_code": error_code}
        return json_response(body, status=status)

    async def list_jobs(self, request: web.Request) -> web.Response:
        query = request.query
        raw_status = single(query, "status")
        status = (
            None if raw_status is None else parse_int(raw_status, "status", minimum=0, maximum=22)
        )
        per_page = int_param(query, "per_page", 10, minimum=1, maximum=1000)
        page = int_param(query, "page", 1, minimum=1, maximum=65535)
        sort_field = choice_param(query, "sortBy", "job_name", SORT_FIELDS)
        order = choice_param(query, "order", "asc", ("asc", "desc"))
        search = single(query, "search_content") or ""
        if len(search) > 64:
            raise BadRequest("search_content must contain 0 to 64 characters")
        workspace = single(query, "workspace_id") or DEFAULT_WORKSPACE
        project = request.match_info["project_id"]
        if project not in self.dataset:
            raise NotFound(f"Project {project} does not exist.")
        self.before_list(project)
        needle = search.lower()
        visible = self.views.get(project, workspace, lambda jobs: _in_workspace(jobs, workspace))

        def build(_jobs: list[SimJob]) -> list[SimJob]:
            chosen = [
                job
                for job in visible
                if (status is None or job.payload["status"] == status)
                and needle in job.payload["job_name"].lower()
            ]
            return sort_by(chosen, _sort_keys(sort_field, descending=order == "desc"))

        key = (workspace, status, needle, sort_field, order)
        selected = self.tie_shuffled(self.views.get(project, key, build))
        start = (page - 1) * per_page
        body = {
            "is_success": True,
            "quotas": QUOTAS,
            # The docs leave open whether this counts the filtered jobs or all of them.
            "job_total_count": len(visible if self.quirks.unfiltered_total else selected),
            "job_count_limit": max(0, QUOTAS - len(self.dataset[project])),
            "jobs": [
                job.payload for job in selected[start : start + self.quirks.page_size(per_page)]
            ],
        }
        return json_response(body)


def _in_workspace(jobs: list[SimJob], workspace_id: str) -> list[SimJob]:
    return [job for job in jobs if job.private["workspace"] == workspace_id]


def _sort_keys(field_name: str, *, descending: bool) -> list[tuple[Any, bool]]:
    """Sort on one field; equal values fall back to job_id in the same direction."""
    return [
        (lambda job: job.payload[field_name], descending),
        (lambda job: job.payload["job_id"], descending),
    ]


def _unique_name(rng: random.Random, taken: set[str]) -> str:
    base = f"{rng.choice(_MODELS)}-{rng.choice(_TASKS)}"
    name = base
    while name in taken:
        name = f"{base}-{rng.randint(2, 999):03d}"
    taken.add(name)
    return name
