"""Metafold: `GET /projects/{p}/jobs[/{id}]`, the whole list in one array.

Quirks kept: no paging; default order id descending; `sort=field:order`; the `q` search syntax
(`field:value` terms joined by ` AND `, `*` wildcard, double quotes, `!` negation); jobs of one
workflow are created together and `needs` their predecessors.
Errors are `{code, name, description}`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any, ClassVar

from aiohttp import web

from simulators.base import Dataset, Simulator, json_response
from simulators.datagen import (
    BASE_TIME,
    LifecycleEvent,
    Phase,
    SimJob,
    assign_statuses,
    created_timeline,
    hex_id,
    iso_seconds_offset,
    millis,
    plan_timing,
    project_rng,
    scaled_size,
    uuid4,
)
from simulators.errors import BadRequest, NotFound, Unauthorized
from simulators.mutations import JobShape
from simulators.ordering import sort_by
from simulators.params import single
from simulators.quirks import Quirks

PROJECTS: tuple[tuple[str, int], ...] = (
    ("1024", 388),
    ("1031", 37),
    ("1040", 1),
    ("1041", 0),
    ("1077", 12),
)
FIRST_JOB_ID = 20_117
SEARCH_FIELDS = ("id", "name", "type", "state")
SORT_FIELDS = ("id", "name", "created", "started", "finished")

VARIANTS: dict[str, tuple[Phase, float]] = {
    "pending": (Phase.QUEUED, 3),
    "started": (Phase.RUNNING, 4),
    "success": (Phase.FINISHED, 80),
    "failure": (Phase.FINISHED, 9),
    "canceled": (Phase.ENDED_UNSTARTED, 4),
}
STANDALONE_TYPES = ("evaluate_graph", "implicit/from-mesh", "sample_triangle_mesh", "redistance")
# A workflow's jobs in dependency order.
CHAIN_TYPES = (
    "implicit/from-mesh",
    "sample_triangle_mesh",
    "evaluate_graph",
    "export_triangle_mesh",
)
OUTCOME_STATES = {"succeed": "success", "fail": "failure", "cancel": "canceled"}
FIRST_ASSET_ID = 900_000
_NAMES = (
    "gyroid lattice 0.8mm",
    "bracket-v7",
    "housing_rev_B",
    "heat sink fins",
    'lattice "fine"',
    "Suzanne",
    "Suzanne héad",
    "sample-mesh",
    "infill-test",
    "drone arm",
)
_ERRORS = (
    "mesh is not watertight",
    "out of memory while sampling volume",
    "invalid graph: operator 'Threshold' has no input",
    "timeout after 900s",
)


# The fake credentials it accepts (printed by `jobgraph simulate`).
TOKEN = "mf-sim-access-4c2a9e7b18d64f03"


@dataclass(slots=True)
class MetafoldQuirks(Quirks):
    """The shared switches and the ones only this platform has."""

    # `*` inside a double-quoted `q` value is a literal star, not a wildcard.
    literal_star_in_quotes: bool = False


class MetafoldSimulator(Simulator):
    provider: ClassVar[str] = "metafold"
    quirks_class: ClassVar[type[Quirks]] = MetafoldQuirks
    quirks: MetafoldQuirks
    demo_name: ClassVar[str] = "mf"
    realistic: ClassVar[dict[str, Any]] = {
        "date_format": "rfc1123",
        "omit_optional": True,
        "literal_star_in_quotes": True,
        "shuffle_ties": True,
    }
    demo_credentials: ClassVar[dict[str, str]] = {"token_env": "JOBGRAPH_SIM_MF_TOKEN"}
    demo_secrets: ClassVar[dict[str, str]] = {"JOBGRAPH_SIM_MF_TOKEN": TOKEN}
    auth_headers: ClassVar[dict[str, str]] = {"Authorization": f"Bearer {TOKEN}"}
    optional_keys: ClassVar[frozenset[str]] = frozenset(
        {"name", "error", "project_id", "workflow_id"}
    )
    field_order: ClassVar[tuple[str, ...]] = (
        "id",
        "name",
        "type",
        "state",
        "created",
        "started",
        "finished",
        "error",
        "inputs",
        "outputs",
        "needs",
        "project_id",
        "workflow_id",
    )
    credentials_help: ClassVar[str] = f"Authorization: Bearer {TOKEN}"

    # --- dataset -------------------------------------------------------------------------

    def generate(self, seed: int, sizes: str) -> Dataset:
        dataset: Dataset = {}
        ids = _Counter(FIRST_JOB_ID)
        self._asset_ids = _Counter(FIRST_ASSET_ID)
        for project, size in PROJECTS:
            rng = project_rng(seed, self.provider, project)
            n = scaled_size(size, sizes)
            groups = _group_into_workflows(rng, n)
            standalone = sum(1 for group in groups if len(group) == 1)
            states = iter(assign_statuses(rng, standalone, VARIANTS, ensure_all=n >= 100))
            created = created_timeline(rng, len(groups))
            jobs: list[SimJob] = []
            for when, group in zip(created, groups, strict=True):
                if len(group) == 1:
                    jobs.append(self._standalone(rng, project, ids, when, next(states)))
                else:
                    jobs.extend(self._workflow(rng, project, ids, when, len(group)))
            jobs.reverse()  # default order: id descending
            dataset[project] = jobs
        return dataset

    def _standalone(
        self,
        rng: random.Random,
        project: str,
        ids: _Counter,
        created: datetime,
        state: str,
    ) -> SimJob:
        phase, _ = VARIANTS[state]
        timing = plan_timing(rng, created, phase, fail_rate=0.15)
        job_type = rng.choice(STANDALONE_TYPES)
        payload = self._payload(rng, project, ids.next(), job_type, created, [], None)
        self._settle(rng, payload, state, timing.started, timing.finished)
        return SimJob(payload=payload, events=list(timing.events))

    def _workflow(
        self,
        rng: random.Random,
        project: str,
        ids: _Counter,
        created: datetime,
        length: int,
    ) -> list[SimJob]:
        """A workflow submitted at once: each job needs the previous one (sometimes two), starts
        when its upstream succeeds and is canceled when its upstream fails or is canceled."""
        workflow_id = uuid4(rng)
        jobs: list[SimJob] = []
        upstream_end, upstream_outcome = created, "succeed"
        for index, job_type in enumerate(CHAIN_TYPES[:length]):
            needs = [jobs[-1].payload["id"]] if jobs else []
            if index >= 2 and rng.random() < 0.4:
                needs.insert(0, jobs[-2].payload["id"])
            payload = self._payload(rng, project, ids.next(), job_type, created, needs, workflow_id)
            job = SimJob(payload=payload)
            jobs.append(job)
            if upstream_outcome != "succeed":
                if upstream_end <= BASE_TIME:
                    self._settle(rng, payload, "canceled", None, upstream_end)
                else:
                    job.events.append(LifecycleEvent(upstream_end, "cancel"))
                upstream_outcome = "cancel"
                continue
            start = millis(upstream_end + timedelta(seconds=rng.uniform(1, 30)))
            end = millis(start + timedelta(seconds=rng.uniform(20, 1800)))
            roll = rng.random()
            outcome = "succeed" if roll < 0.85 else ("fail" if roll < 0.95 else "cancel")
            if end <= BASE_TIME:
                self._settle(rng, payload, OUTCOME_STATES[outcome], start, end)
            elif start <= BASE_TIME:
                self._settle(rng, payload, "started", start, None)
                job.events.append(LifecycleEvent(end, outcome))
            else:
                job.events.extend((LifecycleEvent(start, "start"), LifecycleEvent(end, outcome)))
            upstream_end, upstream_outcome = end, outcome
        return jobs

    def _payload(
        self,
        rng: random.Random,
        project: str,
        job_id: int,
        job_type: str,
        created: datetime,
        needs: list[str],
        workflow_id: str | None,
    ) -> dict[str, Any]:
        name = rng.choice(_NAMES) if rng.random() < 0.85 else None
        return {
            "id": str(job_id),
            "name": name,
            "type": job_type,
            "state": "pending",
            "created": iso_seconds_offset(created),
            "started": None,
            "finished": None,
            "error": None,
            "inputs": self._inputs(rng, job_type, created),
            "outputs": {"assets": None, "params": None},
            "needs": needs,
            "project_id": project,
            "workflow_id": workflow_id,
        }

    def apply_event(self, job: SimJob, action: str, at: datetime) -> None:
        payload = job.payload
        rng = random.Random(f"{self.seed}/{payload['id']}/{action}")
        if action == "start":
            self._settle(rng, payload, "started", at, None)
            return
        started = payload["started"]
        began = None if started is None else datetime.fromisoformat(started)
        self._settle(rng, payload, OUTCOME_STATES[action], began, at)

    def _settle(
        self,
        rng: random.Random,
        payload: dict[str, Any],
        state: str,
        started: datetime | None,
        finished: datetime | None,
    ) -> None:
        """Set a job's state with the timestamps, outputs and error that state implies."""
        payload["state"] = state
        payload["started"] = None if started is None else iso_seconds_offset(started)
        payload["finished"] = None if finished is None else iso_seconds_offset(finished)
        if state == "failure":
            payload["error"] = rng.choice(_ERRORS)
        if state == "success" and finished is not None:
            volume = _asset(rng, self._asset_ids.next(), f"{hex_id(rng, 16)}.bin", finished)
            payload["outputs"] = {
                "assets": {"volume": volume},
                "params": {"face_count": str(rng.randint(500, 90000))},
            }

    def _inputs(self, rng: random.Random, job_type: str, created: datetime) -> dict[str, Any]:
        params: dict[str, str] | None = {"resolution": str(rng.choice((64, 128, 256, 512)))}
        mesh: dict[str, Any] | None = None
        if job_type == "implicit/from-mesh":
            filename = rng.choice(("part.stl", "bracket.obj"))
            mesh = {"mesh": _asset(rng, self._asset_ids.next(), filename, created)}
        elif job_type == "evaluate_graph":
            params = {"graph": '{"operators": [], "edges": []}\n'}
        elif job_type == "export_triangle_mesh":
            params = {"format": rng.choice(("stl", "obj", "3mf"))}
        elif job_type == "redistance":
            params = None
        return {"assets": mesh, "params": params}

    # --- HTTP ----------------------------------------------------------------------------

    def job_shape(self) -> JobShape:
        def set_created(job: SimJob, at: datetime) -> None:
            job.payload["created"] = iso_seconds_offset(at)

        return JobShape(
            id_key="id",
            created_of=lambda job: job.payload["created"],
            set_created=set_created,
            mint_id=lambda jobs, _rng, _at: str(max(int(j.payload["id"]) for j in jobs) + 1),
            default_order=lambda jobs: sorted(jobs, key=lambda j: -int(j.payload["id"])),
            tick=timedelta(seconds=1),
        )

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/projects/{project_id}/jobs", self.list_jobs, name="list")
        router.add_get("/projects/{project_id}/jobs/{job_id}", self.get_job, name="get")

    def authenticate(self, request: web.Request) -> None:
        authorization = request.headers.get("Authorization")
        if authorization is None:
            raise Unauthorized("Missing Authorization header")
        if authorization != f"Bearer {TOKEN}":
            raise Unauthorized("Token is invalid or has expired")

    def error_response(
        self, status: int, message: str, code: str | int | None = None
    ) -> web.Response:
        try:
            name = HTTPStatus(status).phrase
        except ValueError:
            name = "Error"
        return json_response({"code": status, "name": name, "description": message}, status=status)

    async def list_jobs(self, request: web.Request) -> web.Response:
        terms = parse_query(single(request.query, "q"), self.quirks.literal_star_in_quotes)
        sort_spec = single(request.query, "sort")
        sort = _parse_sort(sort_spec)
        project = request.match_info["project_id"]
        self._jobs_of(project)
        self.before_list(project)

        def build(jobs: list[SimJob]) -> list[SimJob]:
            chosen = [job for job in jobs if all(term.matches(job.payload) for term in terms)]
            return chosen if sort is None else sort_by(chosen, sort)

        # Keyed by the parsed terms, so `literal_star_in_quotes` gives its own view.
        selected: Sequence[SimJob] = self.views.get(project, (tuple(terms), sort_spec), build)
        if sort is not None:
            selected = self.tie_shuffled(selected)
        return json_response([self.wire(job.payload) for job in selected])

    async def get_job(self, request: web.Request) -> web.Response:
        job_id = request.match_info["job_id"]
        for job in self._jobs_of(request.match_info["project_id"]):
            if job.payload["id"] == job_id:
                return json_response(self.wire(job.payload))
        raise NotFound(f"job {job_id} not found")

    def _jobs_of(self, project: str) -> list[SimJob]:
        if project not in self.dataset:
            raise NotFound(f"project {project} not found")
        return self.dataset[project]


class _Counter:
    def __init__(self, start: int) -> None:
        self.value = start

    def next(self) -> int:
        self.value += 1
        return self.value


def _group_into_workflows(rng: random.Random, n: int) -> list[list[int]]:
    """Split n jobs into standalone jobs and workflows of 2-4 jobs, in creation order."""
    groups: list[list[int]] = []
    index = 0
    while index < n:
        size = rng.randint(2, 4) if rng.random() < 0.15 else 1
        size = min(size, n - index)
        groups.append(list(range(index, index + size)))
        index += size
    return groups


def _asset(rng: random.Random, asset_id: int, filename: str, at: datetime) -> dict[str, Any]:
    stamp = iso_seconds_offset(at)
    return {
        "id": str(asset_id),
        "size": rng.choice((65536, 262144, 1048576, 16777216)),
        "created": stamp,
        "checksum": f"sha256:{hex_id(rng, 64)}",
        "filename": filename,
        "modified": stamp,
    }


@dataclass(frozen=True, slots=True)
class SearchTerm:
    """One `field:value` term of a `q` search: whole-value, case-insensitive, `*` any run."""

    field: str
    pattern: re.Pattern[str]
    negated: bool

    @classmethod
    def of(
        cls, field_name: str, value: str, negated: bool, *, wildcards: bool = True
    ) -> SearchTerm:
        parts = value.split("*") if wildcards else [value]
        regex = ".*".join(re.escape(part) for part in parts)
        return cls(field_name, re.compile(regex, re.IGNORECASE | re.DOTALL), negated)

    def matches(self, payload: dict[str, Any]) -> bool:
        value = payload.get(self.field)
        found = value is not None and self.pattern.fullmatch(str(value)) is not None
        return found != self.negated


_TERM = re.compile(r'(!?)([A-Za-z_]+):("(?:[^"\\]|\\.)*"|[^\s"]+)')


def parse_query(raw: str | None, literal_star_in_quotes: bool = False) -> list[SearchTerm]:
    """Parse `q`: terms joined by ` AND `; raises BadRequest on anything else. With
    `literal_star_in_quotes`, `*` inside double quotes is a plain character."""
    if raw is None or not raw.strip():
        return []
    terms: list[SearchTerm] = []
    position = 0
    text = raw.strip()
    while True:
        match = _TERM.match(text, position)
        if match is None:
            raise BadRequest(f"invalid search query at position {position}: {text[position:]!r}")
        negation, field_name, value = match.groups()
        if field_name not in SEARCH_FIELDS:
            allowed = ", ".join(SEARCH_FIELDS)
            raise BadRequest(f"cannot search on field {field_name!r}; use {allowed}")
        quoted = value.startswith('"')
        if quoted:
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        wildcards = not (quoted and literal_star_in_quotes)
        terms.append(SearchTerm.of(field_name, value, bool(negation), wildcards=wildcards))
        position = match.end()
        if position == len(text):
            return terms
        joiner = re.compile(r"\s+AND\s+").match(text, position)
        if joiner is None:
            raise BadRequest(f"expected ' AND ' at position {position}: {text[position:]!r}")
        position = joiner.end()


def _parse_sort(raw: str | None) -> list[tuple[Any, bool]] | None:
    if raw is None:
        return None
    field_name, _, order = raw.partition(":")
    if field_name not in SORT_FIELDS or order not in ("1", "-1"):
        fields = ", ".join(SORT_FIELDS)
        raise BadRequest(
            f'Expected parameter "sort" as field:order, field in {fields}, order 1 or -1'
        )
    descending = order == "-1"
    if field_name == "id":
        return [(lambda job: int(job.payload["id"]), descending)]
    # Equal values fall back to id in the same direction.
    return [
        (lambda job: job.payload[field_name], descending),
        (lambda job: int(job.payload["id"]), descending),
    ]
