"""Orange Business Evolution Platform IaaS: `GET /projects/{p}/jobs[/{id}]`.

Quirks kept: `offset`/`limit` (int32, limit >= 1, default 100) but the server never returns more
than 50 items, so pages come back short while more exist; `X-Total-Count` is the filtered total,
`X-Result-Count` the body's count. `state` repeats; `sort` is a comma list matching the documented
regex (so only the first field may carry `-`). Errors are `{code, message, description}`.
"""

from __future__ import annotations

import random
import re
from datetime import datetime
from typing import Any, ClassVar

from aiohttp import web

from simulators.base import Dataset, Simulator, json_response
from simulators.datagen import (
    Person,
    Phase,
    SimJob,
    assign_statuses,
    created_timeline,
    iso_millis_z,
    people,
    plan_timing,
    project_rng,
    scaled_size,
    uuid4,
)
from simulators.errors import BadRequest, NotFound, Unauthorized
from simulators.mutations import JobShape
from simulators.ordering import sort_by
from simulators.params import INT32_MAX, int_param, single

PROJECTS: tuple[tuple[str, int], ...] = (
    ("3f2b8c1e-6a4d-4e8b-9c27-5d1f0a7e4b93", 412),  # several hundred: 9 capped pages
    ("a71c0d54-2e9f-4b36-8f0a-c6d2e1b85f47", 100),  # exactly the default limit
    ("5e9d2a7b-c184-4f6e-a3b2-0f7c9d1e6a28", 57),
    ("c2f4a6e8-1b3d-4c5e-9f7a-8b6d4e2c0a19", 50),  # exactly the server cap
    ("0d8e7f6a-5b4c-4d3e-8a2b-1c0f9e8d7c65", 1),
    ("9b1a2c3d-4e5f-4a6b-8c7d-e9f0a1b2c3d4", 0),
)
STATES = ("acknowledged", "in-progress", "completed", "failed")
DEFAULT_LIMIT = 100
SERVER_CAP = 50
SORT_SYNTAX = re.compile(r"-?[A-Za-z0-9]+(?:,[A-Za-z0-9]+)*")
SORT_MAX_LENGTH = 100
SORTABLE_FIELDS = (
    "id",
    "state",
    "description",
    "createdDate",
    "requesterId",
    "startProcessingDate",
    "endProcessingDate",
)
# hRef must be an absolute URI that does not depend on where the simulator listens.
PUBLIC_BASE = "https://iaas.orange-business.invalid/v1"

# Orange's numeric error codes and their short messages.
ERROR_MESSAGES = {
    1: "Internal error",
    5: "Service unavailable",
    28: "Invalid query-string parameter value",
    40: "Missing credentials",
    41: "Invalid credentials",
    50: "Access denied",
    53: "Too many requests",
    60: "Resource not found",
    61: "Method not allowed",
}
CODE_FOR_STATUS = {400: 28, 401: 41, 403: 50, 404: 60, 405: 61, 429: 53, 503: 5}

# Internal variants -> (phase, weight); "failed-early" is a failed job that never started.
VARIANTS: dict[str, tuple[Phase, float]] = {
    "acknowledged": (Phase.QUEUED, 3),
    "in-progress": (Phase.RUNNING, 4),
    "completed": (Phase.FINISHED, 75),
    "failed": (Phase.FINISHED, 9),
    "failed-early": (Phase.ENDED_UNSTARTED, 4),
}
_ACTIONS = ("Create", "Delete", "Resize", "Reboot", "Snapshot", "Attach", "Detach", "Update")
_RESOURCES = ("virtual machine", "volume", "security group", "network interface", "floating IP")
_FAILURES = (
    (1203, "Quota exceeded", "The project has reached its vCPU quota in region eu-west-2."),
    (2007, "Image not found", None),
    (3101, "Hypervisor unavailable", "No compute host with enough capacity was available."),
    (4002, "Timeout", "The operation did not complete within 30 minutes."),
)


# The fake credentials it accepts (printed by `jobgraph simulate`).
API_KEY = "orange-sim-siu-7d3f9a21c4e84b6f"
TOKEN = "orange-sim-bearer-2b8e61f0a9d34c57"
REQUESTER_ID = "SIU-SIM-000042"


class OrangeSimulator(Simulator):
    provider: ClassVar[str] = "orange"
    demo_name: ClassVar[str] = "orange"
    realistic: ClassVar[dict[str, Any]] = {"cap": 20}
    demo_credentials: ClassVar[dict[str, str]] = {
        "api_key_env": "JOBGRAPH_SIM_ORANGE_API_KEY",
        "token_env": "JOBGRAPH_SIM_ORANGE_TOKEN",
    }
    demo_secrets: ClassVar[dict[str, str]] = {
        "JOBGRAPH_SIM_ORANGE_API_KEY": API_KEY,
        "JOBGRAPH_SIM_ORANGE_TOKEN": TOKEN,
    }
    auth_headers: ClassVar[dict[str, str]] = {"X-API-Key": API_KEY}
    field_order: ClassVar[tuple[str, ...]] = (
        "id",
        "hRef",
        "state",
        "description",
        "createdDate",
        "requesterId",
        "startProcessingDate",
        "endProcessingDate",
        "messages",
    )
    credentials_help: ClassVar[str] = f"X-API-Key: {API_KEY}  or  Authorization: Bearer {TOKEN}"

    # --- dataset -------------------------------------------------------------------------

    def generate(self, seed: int, sizes: str) -> Dataset:
        crew = people(project_rng(seed, self.provider, "people"))
        dataset: Dataset = {}
        for project, size in PROJECTS:
            rng = project_rng(seed, self.provider, project)
            n = scaled_size(size, sizes)
            created = created_timeline(rng, n)
            variants = assign_statuses(rng, n, VARIANTS, ensure_all=n >= 100)
            jobs = [
                self._job(rng, project, crew, when, variant)
                for when, variant in zip(created, variants, strict=True)
            ]
            dataset[project] = sort_by(
                jobs,
                [(lambda j: j.payload["createdDate"], False), (lambda j: j.payload["id"], False)],
            )
        return dataset

    def _job(
        self, rng: random.Random, project: str, crew: list[Person], created: datetime, variant: str
    ) -> SimJob:
        phase, _ = VARIANTS[variant]
        state = "failed" if variant == "failed-early" else variant
        timing = plan_timing(rng, created, phase, fail_rate=0.15)
        job_id = uuid4(rng)
        payload: dict[str, Any] = {
            "id": job_id,
            "hRef": f"{PUBLIC_BASE}/projects/{project}/jobs/{job_id}",
            "state": state,
            "description": _description(rng),
            "createdDate": iso_millis_z(created),
            "requesterId": rng.choice(crew).siu,
        }
        if timing.started is not None:
            payload["startProcessingDate"] = iso_millis_z(timing.started)
        if timing.finished is not None:
            payload["endProcessingDate"] = iso_millis_z(timing.finished)
        payload["messages"] = _messages(rng, state)
        return SimJob(payload=payload, events=list(timing.events), private={"seed": rng.random()})

    def apply_event(self, job: SimJob, action: str, at: datetime) -> None:
        payload = job.payload
        if action == "start":
            payload["state"] = "in-progress"
            payload["startProcessingDate"] = iso_millis_z(at)
            return
        payload["endProcessingDate"] = iso_millis_z(at)
        if action == "succeed":
            payload["state"] = "completed"
            payload["messages"] = [
                *payload["messages"],
                {"code": 0, "message": "Operation completed"},
            ]
        else:
            payload["state"] = "failed"
            rng = random.Random(job.private["seed"])
            payload["messages"] = [*payload["messages"], _failure_message(rng)]

    # --- HTTP ----------------------------------------------------------------------------

    def job_shape(self) -> JobShape:
        def set_created(job: SimJob, at: datetime) -> None:
            job.payload["createdDate"] = iso_millis_z(at)

        return JobShape(
            id_key="id",
            created_of=lambda job: job.payload["createdDate"],
            set_created=set_created,
            mint_id=lambda _jobs, rng, _at: uuid4(rng),
            default_order=lambda jobs: sort_by(
                jobs,
                [(lambda j: j.payload["createdDate"], False), (lambda j: j.payload["id"], False)],
            ),
        )

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/projects/{project_id}/jobs", self.list_jobs, name="list")
        router.add_get("/projects/{project_id}/jobs/{job_id}", self.get_job, name="get")

    def authenticate(self, request: web.Request) -> None:
        api_key = request.headers.get("X-API-Key")
        authorization = request.headers.get("Authorization")
        if api_key is None and authorization is None:
            raise Unauthorized(
                "Provide an X-API-Key header or an Authorization: Bearer token.", code=40
            )
        if self.quirks.expired_token:
            raise Unauthorized("The access token has expired.", code=42)
        if api_key == API_KEY:
            return
        if authorization == f"Bearer {TOKEN}":
            return
        raise Unauthorized("The API key or access token is not valid.", code=41)

    def error_response(
        self, status: int, message: str, code: str | int | None = None
    ) -> web.Response:
        number = int(code) if code is not None else CODE_FOR_STATUS.get(status, 1)
        body = {
            "code": number,
            "message": ERROR_MESSAGES.get(number, "Error"),
            "description": message,
        }
        return json_response(body, status=status)

    async def list_jobs(self, request: web.Request) -> web.Response:
        query = request.query
        states = query.getall("state", [])
        for state in states:
            if state not in STATES:
                raise BadRequest(f"state must be one of {', '.join(STATES)}; got {state!r}")
        offset = int_param(query, "offset", 0, minimum=0, maximum=INT32_MAX)
        limit = int_param(query, "limit", DEFAULT_LIMIT, minimum=1, maximum=INT32_MAX)
        sort_spec = single(query, "sort")
        sort = _parse_sort(sort_spec)
        project = request.match_info["project_id"]
        self._jobs_of(project)
        self.before_list(project)
        wanted = frozenset(states)

        def build(jobs: list[SimJob]) -> list[SimJob]:
            chosen = [job for job in jobs if not wanted or job.payload["state"] in wanted]
            return sort_by(chosen, sort)

        selected = self.tie_shuffled(self.views.get(project, (wanted, sort_spec), build))
        page = selected[offset : offset + self.quirks.page_size(min(limit, SERVER_CAP))]
        headers = {"X-Total-Count": str(len(selected)), "X-Result-Count": str(len(page))}
        return json_response([job.payload for job in page], headers=headers)

    async def get_job(self, request: web.Request) -> web.Response:
        job_id = request.match_info["job_id"]
        for job in self._jobs_of(request.match_info["project_id"]):
            if job.payload["id"] == job_id:
                return json_response(job.payload)
        raise NotFound(f"Job {job_id} does not exist in this project.")

    def _jobs_of(self, project: str) -> list[SimJob]:
        if project not in self.dataset:
            raise NotFound(f"Project {project} does not exist or is not visible to you.")
        return self.dataset[project]


def _parse_sort(raw: str | None) -> list[tuple[Any, bool]]:
    if raw is None:
        return []
    if len(raw) > SORT_MAX_LENGTH or not SORT_SYNTAX.fullmatch(raw):
        raise BadRequest(
            "sort must be at most 100 characters and match -?[A-Za-z0-9]+(?:,[A-Za-z0-9]+)*"
        )
    keys: list[tuple[Any, bool]] = []
    for item in raw.split(","):
        descending = item.startswith("-")
        name = item.lstrip("-")
        if name not in SORTABLE_FIELDS:
            raise BadRequest(f"cannot sort on {name!r}; sortable: {', '.join(SORTABLE_FIELDS)}")
        keys.append((lambda job, name=name: job.payload.get(name), descending))
    return keys


def _description(rng: random.Random) -> str:
    action = rng.choice(_ACTIONS)
    resource = rng.choice(_RESOURCES)
    name = f"{rng.choice(('web', 'db', 'api', 'cache', 'batch', 'vpn'))}-{rng.randint(1, 40):02d}"
    if action == "Resize":
        return f"Resize {resource} {name} to {rng.choice((2, 4, 8, 16))} vCPU"
    return f"{action} {resource} {name}"


def _failure_message(rng: random.Random) -> dict[str, Any]:
    code, message, description = rng.choice(_FAILURES)
    failure: dict[str, Any] = {"code": code, "message": message}
    if description is not None:
        failure["description"] = description
    return failure


def _messages(rng: random.Random, state: str) -> list[dict[str, Any]]:
    if state == "failed":
        return [_failure_message(rng)]
    if state == "completed" and rng.random() < 0.3:
        return [{"code": 0, "message": "Operation completed"}]
    if state == "in-progress" and rng.random() < 0.5:
        return [
            {"code": 100, "message": "Provisioning", "description": "Waiting for the hypervisor."}
        ]
    return []
