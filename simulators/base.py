"""What every simulator shares: the aiohttp app, auth/error/fault/log middleware, control routes,
the job store and its clock-driven transitions. Provider modules fill in what differs."""

from __future__ import annotations

import asyncio
import copy
import heapq
import itertools
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, ClassVar

import orjson
from aiohttp import web

from simulators.clock import ClockDisabled, SimClock
from simulators.datagen import LifecycleEvent, SimJob, ordered
from simulators.errors import SimError
from simulators.faults import Fault, FaultInjector, apply_fault
from simulators.mutations import JobShape, Mutator
from simulators.quirks import Quirks, render_payload
from simulators.requestlog import LoggedRequest, RequestLog
from simulators.views import ProjectViews

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Dataset = dict[str | None, list[SimJob]]

# Only these routes are subject to injected faults; control routes are neither faulted nor logged.
FAULTABLE_ROUTES = ("list", "get")
CONTROL_PREFIX = "control-"


def json_response(
    payload: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON response serialized with a stable key order (the payload's insertion order)."""
    return web.Response(
        body=orjson.dumps(payload),
        status=status,
        headers=headers,
        content_type="application/json",
        charset="utf-8",
    )


def response_size(response: web.StreamResponse) -> int | None:
    """The length of a response's body where it is known before it is sent."""
    body = response.body if isinstance(response, web.Response) else None
    return len(body) if isinstance(body, bytes | bytearray) else response.content_length


def route_name(request: web.Request) -> str:
    return request.match_info.route.name or "unmatched"


def is_control(request: web.Request) -> bool:
    return route_name(request).startswith(CONTROL_PREFIX)


class Simulator(ABC):
    """One upstream API: its dataset, its routes and its quirks, faults and request log."""

    provider: ClassVar[str]
    # The wire payload's documented key order, re-applied after every transition.
    field_order: ClassVar[Sequence[str]]
    # Its switches: `Quirks`, or a subclass adding the ones only this platform has.
    quirks_class: ClassVar[type[Quirks]] = Quirks
    # Top-level payload keys the provider's SDK treats as optional (`Quirks.omit_optional`).
    optional_keys: ClassVar[frozenset[str]] = frozenset()
    # Its demo `[[sources]]` entry: the source name, credential keys -> env var names, and
    # any provider-specific keys (`organization_id`).
    demo_name: ClassVar[str]
    demo_credentials: ClassVar[dict[str, str]] = {}
    demo_keys: ClassVar[dict[str, Any]] = {}
    # Env var name -> the fake credential it accepts, for the env vars `demo_credentials`
    # names (`SimulatorSuite.demo_environ()` hands them to the gateway).
    demo_secrets: ClassVar[dict[str, str]] = {}
    # Headers that authenticate one request (for clients that call it directly).
    auth_headers: ClassVar[dict[str, str]] = {}
    # `--realistic`: every awkward-but-legal switch the platform's docs and SDKs allow, at
    # once. Shuffled ties only where lists are asked for in creation-time order: where no order
    # is documented at all, no client can page exactly if it varies.
    realistic: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        seed: int,
        clock: SimClock,
        *,
        sizes: str = "default",
        advance: Callable[[float], datetime] | None = None,
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.faults = FaultInjector(seed=seed)
        self.log = RequestLog()
        self.quirks = self.quirks_class()
        self.dataset: Dataset = self.generate(seed, sizes)
        self.shape = self.job_shape()
        # Sorted and filtered lists, kept until the jobs they come from change.
        self.views = ProjectViews(self.dataset)
        self.mutations = Mutator(self.shape, self.dataset, lambda: self.clock.now, self.changed)
        self._tie_rng = random.Random(seed)
        self._advance = advance or self._advance_alone
        self._tie = itertools.count()
        self._schedule: list[tuple[datetime, int, SimJob, str]] = [
            (event.at, next(self._tie), job, event.action)
            for jobs in self.dataset.values()
            for job in jobs
            for event in job.events
        ]
        heapq.heapify(self._schedule)

    # --- what each provider supplies -----------------------------------------------------

    @abstractmethod
    def generate(self, seed: int, sizes: str) -> Dataset:
        """The seeded dataset: project -> jobs in the list endpoint's default order."""

    @abstractmethod
    def job_shape(self) -> JobShape:
        """How this provider's jobs are identified, dated and ordered (for `mutations`)."""

    @abstractmethod
    def add_routes(self, router: web.UrlDispatcher) -> None:
        """Register the upstream routes, named "list" and (where it exists) "get"."""

    @abstractmethod
    def authenticate(self, request: web.Request) -> None:
        """Raise `Unauthorized` unless the request carries a valid credential."""

    @abstractmethod
    def error_response(
        self, status: int, message: str, code: str | int | None = None
    ) -> web.Response:
        """The provider's own error body for `status`."""

    @abstractmethod
    def apply_event(self, job: SimJob, action: str, at: datetime) -> None:
        """Move `job` through a lifecycle transition ("start", "succeed", "fail", "cancel")."""

    def on_clock(self, now: datetime) -> None:  # noqa: B027 - an optional hook
        """Refresh anything that depends on the current time (e.g. running durations)."""

    # --- dataset views -------------------------------------------------------------------

    def projects(self) -> list[str]:
        return [project for project in self.dataset if project is not None]

    def project_jobs(self, project: str | None) -> list[SimJob]:
        """The stored jobs of a project, in default order; KeyError for an unknown project."""
        return self.dataset[project]

    def jobs(self, project: str | None) -> list[dict[str, Any]]:
        """The payloads the list endpoint returns with no parameters, as plain JSON values."""
        return self.payloads(self.project_jobs(project))

    def changed(self, project: str | None) -> None:
        """Say that `project`'s stored jobs were edited in place (its cached views are
        rebuilt). Creating and deleting through `mutations` and moving the clock say so
        themselves."""
        self.views.changed(project)

    def wire(self, payload: dict[str, Any]) -> Any:
        """One stored payload as the switched-on quirks send it (itself when none is on: list
        responses are the benchmarks' upstream hot path)."""
        if not self.quirks.reshapes_payloads:
            return payload
        return render_payload(payload, self.quirks, self.optional_keys)

    @staticmethod
    def payloads(jobs: Sequence[SimJob]) -> list[dict[str, Any]]:
        return copy.deepcopy([job.payload for job in jobs])

    # --- the clock -------------------------------------------------------------------------

    def catch_up(self, now: datetime) -> None:
        """Apply every transition due by `now`, in time order."""
        while self._schedule and self._schedule[0][0] <= now:
            at, _, job, action = heapq.heappop(self._schedule)
            self.apply_event(job, action, at)
            job.events.remove(LifecycleEvent(at, action))
            job.payload = ordered(job.payload, self.field_order)
        self.on_clock(now)
        # Statuses, times and running durations may all have moved.
        self.views.changed_all()

    def schedule(self, job: SimJob, at: datetime, action: str) -> None:
        """Have the clock apply `action` ("start", "succeed", "fail", "cancel") to `job` at
        `at`."""
        job.events.append(LifecycleEvent(at, action))
        heapq.heappush(self._schedule, (at, next(self._tie), job, action))

    def _advance_alone(self, seconds: float) -> datetime:
        now = self.clock.advance(seconds)
        self.catch_up(now)
        return now

    # --- the aiohttp application ------------------------------------------------------------

    def app(self) -> web.Application:
        """A fresh aiohttp app serving this simulator (its state is shared by every app made)."""
        app = web.Application(middlewares=[self._observe, self._render_errors, self._require_auth])
        self.add_routes(app.router)
        self._add_control_routes(app.router)
        return app

    @web.middleware
    async def _observe(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Log the request and apply latency and the next pending fault."""
        if is_control(request):
            return await handler(request)
        route = route_name(request)
        fault = self.faults.next_fault() if route in FAULTABLE_ROUTES else None
        entry = self.log.record(
            method=request.method,
            path=request.path,
            route=route,
            path_params=dict(request.match_info),
            query=tuple(request.query.items()),
            status=None,
            fault=None if fault is None else fault.kind,
            traceparent=request.headers.get("traceparent"),
        )
        try:
            return await self._answer(request, handler, fault, entry)
        finally:
            entry.finished = time.monotonic()

    async def _answer(
        self, request: web.Request, handler: Handler, fault: Fault | None, entry: LoggedRequest
    ) -> web.StreamResponse:
        delay = self.faults.delay_s(fault)
        if delay:
            await asyncio.sleep(delay)
        if fault is None:
            response = await handler(request)
            entry.status = response.status
            entry.body_bytes = response_size(response)
            return response
        response, sent = await apply_fault(
            fault,
            request,
            lambda: handler(request),
            self.error_response,
            self.faults.hold,
        )
        entry.status = response.status if sent else None
        entry.body_bytes = response_size(response) if sent else None
        return response

    @web.middleware
    async def _render_errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Turn raised errors (ours and aiohttp's 404/405) into the provider's error body."""
        try:
            return await handler(request)
        except SimError as exc:
            return self.error_response(exc.status, exc.message, exc.code)
        except web.HTTPException as exc:
            if exc.status < 400 or is_control(request):
                raise
            response = self.error_response(exc.status, exc.reason)
            if "Allow" in exc.headers:
                response.headers["Allow"] = exc.headers["Allow"]
            return response

    @web.middleware
    async def _require_auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not is_control(request):
            self.authenticate(request)
        return await handler(request)

    # --- control endpoints ------------------------------------------------------------------

    def _add_control_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/_control/faults", self._control_add_fault, name="control-add-fault")
        router.add_delete("/_control/faults", self._control_clear_faults, name="control-clear")
        router.add_get("/_control/faults", self._control_faults, name="control-faults")
        router.add_post("/_control/latency", self._control_latency, name="control-latency")
        router.add_get("/_control/requests", self._control_requests, name="control-requests")
        router.add_post("/_control/reset", self._control_reset, name="control-reset")
        router.add_get("/_control/clock", self._control_clock, name="control-clock")
        router.add_get("/_control/quirks", self._control_quirks, name="control-quirks")
        router.add_post("/_control/quirks", self._control_set_quirks, name="control-set-quirks")
        router.add_post("/_control/clock", self._control_advance, name="control-advance")
        router.add_post("/_control/jobs", self._control_jobs, name="control-jobs")

    def _fault_state(self) -> dict[str, Any]:
        return {
            "latency_ms": self.faults.latency_ms,
            "jitter_ms": self.faults.jitter_ms,
            "pending": [fault.to_json() for fault in self.faults.pending],
        }

    async def _control_add_fault(self, request: web.Request) -> web.Response:
        body = await _json_object(request)
        try:
            self.faults.add(
                str(body.get("kind")),
                count=int(body.get("count", 1)),
                status=None if body.get("status") is None else int(body["status"]),
                latency_ms=float(body.get("latency_ms", 0)),
                jitter_ms=float(body.get("jitter_ms", 0)),
                retry_after=body.get("retry_after"),
                size=None if body.get("size") is None else int(body["size"]),
            )
        except (TypeError, ValueError) as exc:
            raise web.HTTPBadRequest(
                text=orjson.dumps({"error": str(exc)}).decode(), content_type="application/json"
            ) from None
        return web.json_response(self._fault_state(), status=201)

    async def _control_clear_faults(self, request: web.Request) -> web.Response:
        self.faults.clear()
        return web.json_response(self._fault_state())

    async def _control_faults(self, request: web.Request) -> web.Response:
        return web.json_response(self._fault_state())

    async def _control_latency(self, request: web.Request) -> web.Response:
        body = await _json_object(request)
        try:
            self.faults.set_latency(
                float(body.get("latency_ms", 0)), float(body.get("jitter_ms", 0))
            )
        except (TypeError, ValueError) as exc:
            raise web.HTTPBadRequest(
                text=orjson.dumps({"error": str(exc)}).decode(), content_type="application/json"
            ) from None
        return web.json_response(self._fault_state())

    async def _control_requests(self, request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(self.log.to_json()), content_type="application/json")

    async def _control_reset(self, request: web.Request) -> web.Response:
        self.faults.clear()
        self.log.clear()
        return web.json_response({"reset": True})

    async def _control_quirks(self, request: web.Request) -> web.Response:
        return web.json_response(self.quirks.to_json())

    async def _control_set_quirks(self, request: web.Request) -> web.Response:
        try:
            self.quirks.update(await _json_object(request))
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(self.quirks.to_json())

    async def _control_jobs(self, request: web.Request) -> web.Response:
        """Create and delete jobs: {"project": p, "create": n, "tied": bool, "delete": [ids]}."""
        body = await _json_object(request)
        project = body.get("project")
        if project not in self.dataset:
            return web.json_response({"error": f"unknown project {project!r}"}, status=404)
        create, delete = body.get("create", 0), body.get("delete", [])
        if type(create) is not int or create < 0 or not isinstance(delete, list):
            return web.json_response(
                {"error": "create must be a count and delete a list of ids"}, status=400
            )
        created = self.mutations.create(project, create, tied=body.get("tied") is True)
        deleted = self.mutations.delete(project, delete)
        return web.json_response({"created": created, "deleted": deleted})

    def before_list(self, project: str | None) -> None:
        """Busy mode (`quirks.busy`): jobs arrive in a project as each list request is served."""
        if self.quirks.busy and project in self.dataset and self.dataset[project]:
            self.mutations.create(project, self.quirks.busy)

    def tie_shuffled(self, jobs: Sequence[SimJob]) -> Sequence[SimJob]:
        """`jobs` with each run of equal creation times in a fresh order (`quirks.shuffle_ties`:
        nothing documents a stable order for jobs created at the same instant)."""
        if not self.quirks.shuffle_ties:
            return jobs
        shuffled: list[SimJob] = []
        for _, run in itertools.groupby(jobs, key=self.shape.created_of):
            group = list(run)
            self._tie_rng.shuffle(group)
            shuffled.extend(group)
        return shuffled

    def _clock_state(self) -> dict[str, Any]:
        return {"enabled": self.clock.enabled, "now": self.clock.now.isoformat()}

    async def _control_clock(self, request: web.Request) -> web.Response:
        return web.json_response(self._clock_state())

    async def _control_advance(self, request: web.Request) -> web.Response:
        body = await _json_object(request)
        try:
            self._advance(float(body.get("advance_s", 0)))
        except ClockDisabled as exc:
            return web.json_response({"error": str(exc)}, status=409)
        except (TypeError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(self._clock_state())


async def _json_object(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json(loads=orjson.loads)
    except ValueError:
        raise web.HTTPBadRequest(
            text='{"error": "body must be a JSON object"}', content_type="application/json"
        ) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"error": "body must be a JSON object"}', content_type="application/json"
        )
    return body
