"""Guided-workflow jobs API: `GET /jobs/v1/?skip&limit` and `GET /jobs/v1/bson/{id}`.

Quirks kept: one list for the whole tenant (no projects); `skip`/`limit` with limit defaulting
to 20 and no total anywhere, so a page shorter than `limit` is the only end marker;
`metadata.status` is an open set of strings. Errors are RFC 7807 problem details
(`{type, title, status, detail}`), as ASP.NET services send them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
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
    iso_seconds_z,
    object_id,
    people,
    plan_timing,
    project_rng,
    scaled_size,
    uuid4,
)
from simulators.errors import NotFound, Unauthorized
from simulators.mutations import JobShape
from simulators.params import int_param
from simulators.quirks import Quirks

JOB_COUNT = 263
DEFAULT_LIMIT = 20

# status -> (phase, weight); the last three are the "odd strings" a client must survive.
VARIANTS: dict[str, tuple[Phase, float]] = {
    "Completed": (Phase.FINISHED, 60),
    "Paused": (Phase.STATIC, 8),
    "InProgress": (Phase.RUNNING, 5),
    "Cancelled": (Phase.FINISHED, 5),
    "Abandoned": (Phase.FINISHED, 5),
    "Scheduled": (Phase.QUEUED, 3),
    "Failed": (Phase.FINISHED, 2),
    "Archived": (Phase.FINISHED, 1),
    "AwaitingSignOff": (Phase.STATIC, 1),
}
# workflow name -> the titles of its steps, in order.
WORKFLOWS: dict[str, tuple[str, ...]] = {
    "Pump Inspection": ("Enter Text", "Photo of gauge", "Confirm pressure", "Sign off"),
    "Forklift Pre-Use Check": ("Scan asset tag", "Check forks", "Check horn", "Sign off"),
    "Site Induction": ("Watch safety video", "Quiz", "Acknowledge rules"),
    "Cold Room Temperature Log": ("Read thermometer", "Enter Number"),
    "Vehicle Handover": ("Odometer", "Fuel level", "Damage photos", "Keys returned", "Sign off"),
    "Fire Extinguisher Audit": ("Locate unit", "Check pressure", "Check seal", "Photo"),
}
STEP_TYPES = ("Text", "Number", "Photo", "Signature", "Checkbox", "Instruction")
TEAMS = ("apiteam", "field-ops", "maintenance", "warehouse-north")
ABANDON_REASONS = ("Step timed out", "Device went offline", "Duplicate job")


# The fake credentials it accepts (printed by `jobgraph simulate`).
TOKEN = "wf-sim-job-readall-9e1d47b2c6a8"


@dataclass(slots=True)
class WorkflowQuirks(Quirks):
    """The shared switches and the ones only this platform has."""

    # Single-job GETs answer an array of one job (the shape the API's docs show).
    single_as_array: bool = False


class WorkflowSimulator(Simulator):
    provider: ClassVar[str] = "workflow"
    quirks_class: ClassVar[type[Quirks]] = WorkflowQuirks
    quirks: WorkflowQuirks
    demo_name: ClassVar[str] = "wf"
    realistic: ClassVar[dict[str, Any]] = {"cap": 50, "single_as_array": True}
    demo_credentials: ClassVar[dict[str, str]] = {"token_env": "JOBGRAPH_SIM_WF_TOKEN"}
    demo_secrets: ClassVar[dict[str, str]] = {"JOBGRAPH_SIM_WF_TOKEN": TOKEN}
    auth_headers: ClassVar[dict[str, str]] = {"Authorization": f"Bearer {TOKEN}"}
    field_order: ClassVar[tuple[str, ...]] = (
        "jobId",
        "metadata",
        "completedSteps",
        "cancelledSteps",
        "team",
        "hierarchyStack",
        "packetIds",
        "jobExclusion",
        "excluded",
    )
    credentials_help: ClassVar[str] = f"Authorization: Bearer {TOKEN}"

    # --- dataset -------------------------------------------------------------------------

    def generate(self, seed: int, sizes: str) -> Dataset:
        rng = project_rng(seed, self.provider, None)
        crew = people(project_rng(seed, self.provider, "people"))
        catalogue = {name: (uuid4(rng), uuid4(rng), steps) for name, steps in WORKFLOWS.items()}
        n = scaled_size(JOB_COUNT, sizes)
        created = created_timeline(rng, n)
        statuses = assign_statuses(rng, n, VARIANTS, ensure_all=n >= 100)
        jobs = [
            self._job(rng, crew, catalogue, when, status)
            for when, status in zip(created, statuses, strict=True)
        ]
        # Default order: insertion order, i.e. oldest first (ObjectIds begin with the time).
        jobs.sort(key=lambda job: (job.private["created"], job.payload["jobId"]))
        return {None: jobs}

    def _job(
        self,
        rng: random.Random,
        crew: list[Person],
        catalogue: dict[str, tuple[str, str, tuple[str, ...]]],
        created: datetime,
        status: str,
    ) -> SimJob:
        phase, _ = VARIANTS[status]
        timing = plan_timing(rng, created, phase, fail_rate=0.1)
        workflow_name = rng.choice(list(catalogue))
        workflow_id, version_id, steps = catalogue[workflow_name]
        user = rng.choice(crew)
        scheduled = rng.random() < 0.4
        updated = timing.finished or timing.started or created
        metadata: dict[str, Any] = {
            "clientJobId": uuid4(rng),
            "workflowId": workflow_id,
            "workflowVersionId": version_id,
            "jobTitle": f"{workflow_name} #{rng.randint(1, 999)}",
            "metadata": (
                {"ScheduledJobId": object_id(rng, created), "ScheduledTaskId": uuid4(rng)}
                if scheduled
                else {}
            ),
            "created": iso_millis_z(created),
            "updated": iso_millis_z(updated),
            "modified": iso_seconds_z(updated + timedelta(seconds=rng.uniform(0, 2))),
            "status": status,
            "userId": user.object_id,
            "currentStep": None,
            "abandonReason": rng.choice(ABANDON_REASONS) if status == "Abandoned" else None,
            "username": user.email,
            "workflowName": workflow_name,
        }
        if timing.started is not None and status != "Archived":
            index = len(steps) - 1 if timing.finished else rng.randrange(len(steps))
            metadata["currentStep"] = _current_step(
                rng, user, steps, index, timing.started, timing.finished, status
            )
        payload: dict[str, Any] = {
            "jobId": object_id(rng, created),
            "metadata": metadata,
            "completedSteps": None,
            "cancelledSteps": None,
            "team": rng.choice(TEAMS),
            "hierarchyStack": None,
            "packetIds": None,
            "jobExclusion": [],
            "excluded": rng.random() < 0.05,
        }
        private = {"created": created, "steps": steps, "user": user, "seed": rng.random()}
        return SimJob(payload=payload, events=list(timing.events), private=private)

    def apply_event(self, job: SimJob, action: str, at: datetime) -> None:
        metadata = job.payload["metadata"]
        rng = random.Random(job.private["seed"])
        steps: tuple[str, ...] = job.private["steps"]
        if action == "start":
            metadata["status"] = "InProgress"
            metadata["currentStep"] = _current_step(
                rng, job.private["user"], steps, 0, at, None, "InProgress"
            )
        else:
            status = {"succeed": "Completed", "fail": "Abandoned", "cancel": "Cancelled"}[action]
            metadata["status"] = status
            if status == "Abandoned":
                metadata["abandonReason"] = rng.choice(ABANDON_REASONS)
            step = metadata["currentStep"]
            began = at if step is None else datetime.fromisoformat(step["singleStep"]["started"])
            metadata["currentStep"] = _current_step(
                rng, job.private["user"], steps, len(steps) - 1, began, at, status
            )
        metadata["updated"] = iso_millis_z(at)
        metadata["modified"] = iso_seconds_z(at)

    # --- HTTP ----------------------------------------------------------------------------

    def projects(self) -> list[str]:
        return []

    def job_shape(self) -> JobShape:
        def set_created(job: SimJob, at: datetime) -> None:
            job.payload["metadata"]["created"] = iso_millis_z(at)
            job.private["created"] = at

        return JobShape(
            id_key="jobId",
            created_of=lambda job: job.private["created"],
            set_created=set_created,
            mint_id=lambda _jobs, rng, at: object_id(rng, at),
            # Insertion order, i.e. oldest first.
            default_order=lambda jobs: sorted(
                jobs, key=lambda j: (j.private["created"], j.payload["jobId"])
            ),
        )

    def add_routes(self, router: web.UrlDispatcher) -> None:
        # ASP.NET routing ignores a missing trailing slash, so both spellings list.
        router.add_get("/jobs/v1{slash:/?}", self.list_jobs, name="list")
        router.add_get("/jobs/v1/bson/{job_id}", self.get_job, name="get")

    def authenticate(self, request: web.Request) -> None:
        authorization = request.headers.get("Authorization")
        if authorization is None:
            raise Unauthorized("An Authorization: Bearer token is required.")
        if authorization != f"Bearer {TOKEN}":
            raise Unauthorized("The bearer token is invalid or lacks the Job_ReadAll policy.")

    def error_response(
        self, status: int, message: str, code: str | int | None = None
    ) -> web.Response:
        try:
            title = HTTPStatus(status).phrase
        except ValueError:
            title = "Error"
        body = {
            "type": f"https://httpstatuses.io/{status}",
            "title": title,
            "status": status,
            "detail": message,
        }
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
        response = json_response(body, status=status, headers=headers)
        response.content_type = "application/problem+json"
        return response

    async def list_jobs(self, request: web.Request) -> web.Response:
        skip = int_param(request.query, "skip", 0, minimum=0)
        limit = int_param(request.query, "limit", DEFAULT_LIMIT, minimum=1)
        self.before_list(None)
        jobs = self.tie_shuffled(self.dataset[None])
        page = jobs[skip : skip + self.quirks.page_size(limit)]
        return json_response([self.wire(job.payload) for job in page])

    async def get_job(self, request: web.Request) -> web.Response:
        job_id = request.match_info["job_id"]
        for job in self.dataset[None]:
            if job.payload["jobId"] == job_id:
                body = self.wire(job.payload)
                return json_response([body] if self.quirks.single_as_array else body)
        raise NotFound(f"No job with id {job_id}.")


def _current_step(
    rng: random.Random,
    user: Person,
    steps: tuple[str, ...],
    index: int,
    started: datetime,
    finished: datetime | None,
    status: str,
) -> dict[str, Any]:
    """The `currentStep` object: the step a user is on (or ended on), as the API shows it."""
    ended = None if finished is None else iso_millis_z(finished)
    touched = finished or started
    single_step = {
        "values": [] if finished is None else [rng.choice(("OK", "42", "yes", "n/a"))],
        "valueResourceIds": [],
        "uniqueStepId": uuid4(rng),
        "previousUniqueStepId": "" if index == 0 else uuid4(rng),
        "userId": user.object_id,
        "userName": user.email,
        "deviceId": None,
        "stepId": uuid4(rng),
        "stepNumber": index + 1,
        "stepTitle": steps[index],
        "stepDescription": "",
        "stepType": rng.choice(STEP_TYPES),
        "connectionType": None,
        "started": iso_millis_z(started),
        "completed": ended if status == "Completed" else None,
        "updated": iso_millis_z(touched),
        "cancelled": ended if status in ("Cancelled", "Abandoned") else None,
        "timeEvents": {iso_millis_z(touched): 0},
        "note": None,
        "noteResourceFilenames": None,
        "coordinates": None,
        "parentStepId": None,
        "parentUniqueStepId": None,
        "parentStepTitle": None,
        "parentStepDescription": None,
        "metadata": {"tags": ""},
    }
    return {"singleStep": single_step, "reportStep": None}
