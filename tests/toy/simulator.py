"""The toy platform's simulator: `GET /boards/{board}/tasks[/{id}]`.

Paging is offset/limit (limit 1..100, default 25) with short pages while more exist: the server
never returns more than 20 tasks. The body is `{"tasks": [...], "total": n}`, `total` counting
the tasks the `phase` filter selects. Default order is newest first (`order=asc` reverses it),
ties by id. Errors are `{"error": {"message", "code"}}`; the key goes in `X-Toy-Key`.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any, ClassVar

from aiohttp import web

from simulators.base import Dataset, Simulator, json_response
from simulators.datagen import (
    Phase,
    SimJob,
    assign_statuses,
    created_timeline,
    iso_millis_z,
    plan_timing,
    project_rng,
    scaled_size,
    uuid4,
)
from simulators.errors import BadRequest, NotFound, Unauthorized
from simulators.mutations import JobShape
from simulators.ordering import sort_by
from simulators.params import choice_param, int_param
from tests.toy.provider import NAME

KEY = "toy-sim-key-0c9e1f2a"
KEY_ENV = "JOBGRAPH_SIM_TOY_KEY"
BOARDS: tuple[tuple[str, int], ...] = (("alpha", 131), ("beta", 14), ("gamma", 1), ("delta", 0))
PHASES = ("waiting", "busy", "done", "broken")
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
SERVER_CAP = 20
VARIANTS: dict[str, tuple[Phase, float]] = {
    "waiting": (Phase.QUEUED, 3),
    "busy": (Phase.RUNNING, 4),
    "done": (Phase.FINISHED, 80),
    "broken": (Phase.FINISHED, 10),
}
_TITLES = ("sweep the yard", "count the sheep", "paint the fence", "fix the tap", "wind the clock")


def _newest_first(jobs: list[SimJob]) -> list[SimJob]:
    return sort_by(
        jobs, [(lambda j: j.payload["createdAt"], True), (lambda j: j.payload["taskId"], True)]
    )


class ToySimulator(Simulator):
    provider: ClassVar[str] = NAME
    demo_name: ClassVar[str] = "toy"
    realistic: ClassVar[dict[str, Any]] = {"cap": 7, "shuffle_ties": True}
    demo_credentials: ClassVar[dict[str, str]] = {"toy_key_env": KEY_ENV}
    demo_secrets: ClassVar[dict[str, str]] = {KEY_ENV: KEY}
    auth_headers: ClassVar[dict[str, str]] = {"X-Toy-Key": KEY}
    field_order: ClassVar[tuple[str, ...]] = (
        "taskId",
        "title",
        "phase",
        "createdAt",
        "startedAt",
        "endedAt",
    )
    credentials_help: ClassVar[str] = f"X-Toy-Key: {KEY}"

    def generate(self, seed: int, sizes: str) -> Dataset:
        dataset: Dataset = {}
        for board, size in BOARDS:
            rng = project_rng(seed, self.provider, board)
            n = scaled_size(size, sizes)
            created = created_timeline(rng, n)
            phases = assign_statuses(rng, n, VARIANTS, ensure_all=n >= 100)
            jobs = [
                self._task(rng, when, phase) for when, phase in zip(created, phases, strict=True)
            ]
            dataset[board] = _newest_first(jobs)
        return dataset

    def _task(self, rng: random.Random, created: datetime, phase: str) -> SimJob:
        timing = plan_timing(rng, created, VARIANTS[phase][0], fail_rate=0.1)
        payload: dict[str, Any] = {
            "taskId": uuid4(rng),
            "title": rng.choice(_TITLES),
            "phase": phase,
            "createdAt": iso_millis_z(created),
        }
        if timing.started is not None:
            payload["startedAt"] = iso_millis_z(timing.started)
        if timing.finished is not None:
            payload["endedAt"] = iso_millis_z(timing.finished)
        return SimJob(payload=payload, events=list(timing.events))

    def apply_event(self, job: SimJob, action: str, at: datetime) -> None:
        if action == "start":
            job.payload.update(phase="busy", startedAt=iso_millis_z(at))
        else:
            job.payload.update(
                phase="done" if action == "succeed" else "broken", endedAt=iso_millis_z(at)
            )

    def job_shape(self) -> JobShape:
        def set_created(job: SimJob, at: datetime) -> None:
            job.payload["createdAt"] = iso_millis_z(at)

        return JobShape(
            id_key="taskId",
            created_of=lambda job: job.payload["createdAt"],
            set_created=set_created,
            mint_id=lambda _jobs, rng, _at: uuid4(rng),
            default_order=_newest_first,
        )

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/boards/{board}/tasks", self.list_tasks, name="list")
        router.add_get("/boards/{board}/tasks/{task}", self.get_task, name="get")

    def authenticate(self, request: web.Request) -> None:
        key = request.headers.get("X-Toy-Key")
        if key is None:
            raise Unauthorized("Send your key in X-Toy-Key.", code="no_key")
        if self.quirks.expired_token:
            raise Unauthorized("That key has expired.", code="expired_key")
        if key != KEY:
            raise Unauthorized("That key is not valid.", code="bad_key")

    def error_response(
        self, status: int, message: str, code: str | int | None = None
    ) -> web.Response:
        body = {"error": {"message": message, "code": str(code or status)}}
        return json_response(body, status=status)

    async def list_tasks(self, request: web.Request) -> web.Response:
        query = request.query
        phases = query.getall("phase", [])
        for phase in phases:
            if phase not in PHASES:
                raise BadRequest(f"phase must be one of {', '.join(PHASES)}; got {phase!r}")
        offset = int_param(query, "offset", 0, minimum=0)
        limit = int_param(query, "limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
        order = choice_param(query, "order", "desc", ("asc", "desc"))
        board = request.match_info["board"]
        self._tasks_of(board)
        self.before_list(board)
        tasks = [t for t in self._tasks_of(board) if not phases or t.payload["phase"] in phases]
        if order == "asc":
            tasks.reverse()
        tasks = self.tie_shuffled(tasks)
        page = tasks[offset : offset + self.quirks.page_size(min(limit, SERVER_CAP))]
        return json_response({"tasks": [self.wire(t.payload) for t in page], "total": len(tasks)})

    async def get_task(self, request: web.Request) -> web.Response:
        task = request.match_info["task"]
        for job in self._tasks_of(request.match_info["board"]):
            if job.payload["taskId"] == task:
                return json_response(self.wire(job.payload))
        raise NotFound(f"No task {task} on this board.", code="no_task")

    def _tasks_of(self, board: str) -> list[SimJob]:
        if board not in self.dataset:
            raise NotFound(f"No board {board}.", code="no_board")
        return self.dataset[board]
