"""Edge Impulse white-label admin: `GET /api/organizations/{org}/whitelabel/projects/{p}/jobs`.

Quirks kept: `offset`/`limit` with `totalJobCount` in the body; jobs have no status field, only
`started`/`finished`/`finishedSuccessful`, some with Go's zero time for "not yet"; an unknown
project answers HTTP 200 with `{success: false, error}`. Errors are `{success: false, error}`.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any, ClassVar

from aiohttp import web

from simulators.base import Dataset, Simulator, json_response
from simulators.datagen import (
    GO_ZERO_TIME,
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
)
from simulators.errors import Forbidden, Unauthorized
from simulators.mutations import JobShape, next_int_id
from simulators.ordering import sort_by
from simulators.params import int_param, parse_int

ORGANIZATION_ID = 1
PROJECTS: tuple[tuple[str, int], ...] = (
    ("4211", 357),
    ("4212", 37),
    ("4213", 1),
    ("4214", 0),
    ("4299", 8),
)
# The doc gives no default; 20 makes a client that forgets `limit` visibly miss jobs.
DEFAULT_LIMIT = 20
FIRST_JOB_ID = 18_204_117

# Internal variants -> (phase, weight); the wire shape follows from the variant.
VARIANTS: dict[str, tuple[Phase, float]] = {
    "succeeded": (Phase.FINISHED, 70),
    "failed": (Phase.FINISHED, 14),
    "finished-unknown": (Phase.FINISHED, 3),  # finished, finishedSuccessful absent
    "running": (Phase.RUNNING, 5),
    "running-zero-finish": (Phase.RUNNING, 2),  # finished is Go's zero time
    "queued": (Phase.QUEUED, 4),
    "queued-zero": (Phase.QUEUED, 2),  # started and finished are Go's zero time
}
# (category, categoryKey, key prefix, counts its jobs?)
CATEGORIES: tuple[tuple[str, str, str, bool], ...] = (
    ("Training model", "learn-train-keras", "keras", False),
    ("Generating features", "dsp-generate-features", "dsp", False),
    ("Profiling model", "profile-model", "profile", False),
    ("Building deployment", "build-deployment", "deploy", False),
    ("Retraining model", "retrain", "retrain", False),
    ("Synthetic data", "synthetic-data", "synthetic", True),
    ("EON Tuner", "eon-tuner", "tuner", True),
    ("Exporting data", "export-data", "export", False),
    ("Auto-labeling", "auto-label", "autolabel", False),
)
_TARGETS = ("Arduino Nano 33 BLE Sense", "Raspberry Pi 4", "Nordic nRF9160 DK", "ESP-EYE")


# The fake credentials it accepts (printed by `jobgraph simulate`).
API_KEY = "ei_sim_5f0c1d2e3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzaW0tYWRtaW4iLCJvcmciOjF9.c2ltdWxhdGVkLXNpZ25hdHVyZQ"


class EdgeImpulseSimulator(Simulator):
    provider: ClassVar[str] = "edge_impulse"
    demo_name: ClassVar[str] = "ei"
    realistic: ClassVar[dict[str, Any]] = {"cap": 100}
    demo_credentials: ClassVar[dict[str, str]] = {"api_key_env": "JOBGRAPH_SIM_EI_API_KEY"}
    demo_secrets: ClassVar[dict[str, str]] = {"JOBGRAPH_SIM_EI_API_KEY": API_KEY}
    auth_headers: ClassVar[dict[str, str]] = {"x-api-key": API_KEY}
    demo_keys: ClassVar[dict[str, Any]] = {"organization_id": ORGANIZATION_ID}
    field_order: ClassVar[tuple[str, ...]] = (
        "id",
        "category",
        "categoryKey",
        "key",
        "created",
        "started",
        "finished",
        "finishedSuccessful",
        "jobNotificationUids",
        "additionalInfo",
        "computeTime",
        "createdByUser",
        "categoryCount",
        "metadata",
    )
    credentials_help: ClassVar[str] = (
        f"x-api-key: {API_KEY}  or  x-jwt-token: {JWT}; organization {ORGANIZATION_ID}"
    )

    # --- dataset -------------------------------------------------------------------------

    def generate(self, seed: int, sizes: str) -> Dataset:
        crew = people(project_rng(seed, self.provider, "people"))
        dataset: Dataset = {}
        next_id = FIRST_JOB_ID
        for project, size in PROJECTS:
            rng = project_rng(seed, self.provider, project)
            n = scaled_size(size, sizes)
            created = created_timeline(rng, n)
            variants = assign_statuses(rng, n, VARIANTS, ensure_all=n >= 100)
            counters: dict[str, int] = {}
            jobs = []
            for when, variant in zip(created, variants, strict=True):
                jobs.append(self._job(rng, crew, next_id, when, variant, counters))
                next_id += rng.randint(1, 40)
            # Default order: newest first; equal creation times newest id first.
            jobs.reverse()
            dataset[project] = jobs
        return dataset

    def _job(
        self,
        rng: random.Random,
        crew: list[Person],
        job_id: int,
        created: datetime,
        variant: str,
        counters: dict[str, int],
    ) -> SimJob:
        phase, _ = VARIANTS[variant]
        timing = plan_timing(rng, created, phase, fail_rate=0.2)
        category, category_key, prefix, counted = rng.choice(CATEGORIES)
        user = rng.choice(crew) if rng.random() < 0.85 else None
        payload: dict[str, Any] = {
            "id": job_id,
            "category": category,
            "categoryKey": category_key,
            "key": f"{prefix}-{rng.randint(2, 400)}",
            "created": iso_millis_z(created),
        }
        if timing.started is not None:
            payload["started"] = iso_millis_z(timing.started)
        if variant == "queued-zero":
            payload["started"] = GO_ZERO_TIME
            payload["finished"] = GO_ZERO_TIME
        if variant == "running-zero-finish":
            payload["finished"] = GO_ZERO_TIME
        if timing.finished is not None and timing.started is not None:
            payload["finished"] = iso_millis_z(timing.finished)
            if variant != "finished-unknown":
                payload["finishedSuccessful"] = variant == "succeeded"
            payload["computeTime"] = _seconds(timing.started, timing.finished)
        payload["jobNotificationUids"] = (
            [user.id] if user is not None and rng.random() < 0.4 else []
        )
        if rng.random() < 0.3:
            payload["additionalInfo"] = f"Target: {rng.choice(_TARGETS)}"
        if user is not None:
            payload["createdByUser"] = _user(rng, user)
        if counted:
            counters[category_key] = counters.get(category_key, 0) + 1
            payload["categoryCount"] = counters[category_key]
        if rng.random() < 0.35:
            payload["metadata"] = {"impulseId": rng.randint(1, 12), "blockId": rng.randint(2, 60)}
        return SimJob(payload=payload, events=list(timing.events))

    def apply_event(self, job: SimJob, action: str, at: datetime) -> None:
        payload = job.payload
        if action == "start":
            payload["started"] = iso_millis_z(at)
            return
        payload["finished"] = iso_millis_z(at)
        payload["finishedSuccessful"] = action == "succeed"
        started = datetime.fromisoformat(payload["started"])
        payload["computeTime"] = _seconds(started, at)

    # --- HTTP ----------------------------------------------------------------------------

    def job_shape(self) -> JobShape:
        def set_created(job: SimJob, at: datetime) -> None:
            job.payload["created"] = iso_millis_z(at)

        return JobShape(
            id_key="id",
            created_of=lambda job: job.payload["created"],
            set_created=set_created,
            mint_id=next_int_id("id"),
            # Newest first; equal creation times newest id first.
            default_order=lambda jobs: sort_by(
                jobs,
                [(lambda j: j.payload["created"], True), (lambda j: j.payload["id"], True)],
            ),
        )

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get(
            "/api/organizations/{organization_id}/whitelabel/projects/{project_id}/jobs",
            self.list_jobs,
            name="list",
        )

    def authenticate(self, request: web.Request) -> None:
        api_key = request.headers.get("x-api-key")
        jwt = request.headers.get("x-jwt-token") or request.cookies.get("jwt")
        if api_key is None and jwt is None:
            raise Unauthorized("Missing authentication: pass an x-api-key or x-jwt-token header")
        if api_key == API_KEY or jwt == JWT:
            return
        raise Unauthorized("Invalid API key or JWT token")

    def error_response(
        self, status: int, message: str, code: str | int | None = None
    ) -> web.Response:
        return json_response({"success": False, "error": message}, status=status)

    async def list_jobs(self, request: web.Request) -> web.Response:
        organization = parse_int(request.match_info["organization_id"], "organizationId")
        project = parse_int(request.match_info["project_id"], "projectId")
        limit = int_param(request.query, "limit", DEFAULT_LIMIT, minimum=1)
        offset = int_param(request.query, "offset", 0, minimum=0)
        if organization != ORGANIZATION_ID:
            raise Forbidden(f"You are not a white label admin of organization {organization}")
        if str(project) not in self.dataset:
            # Edge Impulse reports some failures with HTTP 200 and success: false.
            return json_response({"success": False, "error": f"Project {project} not found"})
        self.before_list(str(project))
        jobs = self.tie_shuffled(self.dataset[str(project)])
        page = jobs[offset : offset + self.quirks.page_size(limit)]
        body = {"success": True, "jobs": [job.payload for job in page], "totalJobCount": len(jobs)}
        return json_response(body)


def _seconds(started: datetime, finished: datetime) -> float:
    return round((finished - started).total_seconds(), 1)


def _user(rng: random.Random, person: Person) -> dict[str, Any]:
    user: dict[str, Any] = {"id": person.id, "name": person.name, "username": person.username}
    if rng.random() < 0.6:
        user["photo"] = f"https://usercdn.edgeimpulse.com/photos/{person.id}.jpg"
    return user
