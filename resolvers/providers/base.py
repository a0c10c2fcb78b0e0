"""The protocol every provider adapter implements, and the logic they all share.

An adapter is app-wide (one per configured source) and stateless per request: every call
receives the operation's `UpstreamSession`. Adapters differ only in what really differs:
URL, parameters, paging scheme, payload model and status map.
"""

from __future__ import annotations

import asyncio
import re
import sys
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import cache, partial
from typing import Annotated, Any, ClassVar, Generic, TypeVar

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    TypeAdapter,
    ValidationError,
)

from resolvers.client import (
    UpstreamResponse,
    UpstreamSession,
    check_path_segment,
    fresh_reads,
    reading_fresh,
    safe_message,
)
from resolvers.config import SourceConfig
from resolvers.domain import CreatedOrder, Job, JobFilterSpec, Provider
from resolvers.errors import BadUserInput, ErrorCode, UpstreamError
from resolvers.paging import (
    PageRequest,
    PageWindow,
    PagingHints,
    UpstreamPage,
    WholeListRequest,
    WindowResult,
    fill_window,
    find_end,
)
from resolvers.providers.registry import provider_row
from resolvers.snapshots import Snapshot
from resolvers.upstream.base import consume_exception

M = TypeVar("M")
J = TypeVar("J")


@dataclass(frozen=True, slots=True)
class ListEnvelope(Generic[J]):
    """What a list body with a success flag says (see `ProviderAdapter.listed`): whether it
    failed, with what message and code, and the jobs and total it must carry otherwise
    (`required` names those two fields as the upstream spells them)."""

    failed: bool
    message: str | None
    jobs: list[J] | None
    total: int | None
    required: str
    upstream_code: str | None = None


def _as_utc(value: datetime) -> datetime:
    # Upstreams that omit the offset mean UTC; past the boundary every datetime is aware.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("datetime out of range") from None


# RFC 1123, as Metafold's official SDKs say its API sends dates: "Mon, 01 Jan 2024 00:00:00 GMT".
_RFC1123 = re.compile(
    r"^[A-Za-z]{3}, (\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (GMT|UTC|[+-]\d{4})$"
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _rfc1123(match: re.Match[str]) -> datetime:
    # Parsed by hand: email.utils reads years below 100 as 19xx/20xx, so Go's zero time
    # (year 1) would become 2001.
    day, month, year, hour, minute, second, zone = match.groups()
    if month.lower() not in _MONTHS:
        raise ValueError("not an RFC 1123 month")
    offset = timedelta(0)
    if zone[0] in "+-":
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
        offset = -offset if zone[0] == "-" else offset
    return datetime(
        int(year), _MONTHS.index(month.lower()) + 1, int(day),
        int(hour), int(minute), int(second), tzinfo=timezone(offset),
    )  # fmt: skip


# Epoch numbers at or above this are milliseconds (as pydantic decides), below it seconds.
_MILLIS_FROM = 2 * 10**10


def upstream_datetime(value: Any) -> Any:
    """Normalise every date form the platforms' docs and SDKs use before pydantic parses it:
    RFC 1123 strings and epoch milliseconds become datetimes; ISO 8601 (with or without an
    offset or fraction) passes through; anything else is left for pydantic to reject."""
    match = _RFC1123.match(value.strip()) if isinstance(value, str) else None
    if match is not None:
        return _rfc1123(match)
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if abs(value) >= _MILLIS_FROM else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError("epoch time out of range") from None
    return value


def _utc_unless_go_zero(value: datetime | None) -> datetime | None:
    # Go's zero time (0001-01-01T00:00:00Z), in any form, means "not set".
    return None if value is None or value.year == 1 else _as_utc(value)


UtcDateTime = Annotated[datetime, BeforeValidator(upstream_datetime), AfterValidator(_as_utc)]
# A date that may be absent: null, missing, or Go's zero time in any of the forms above.
OptionalUtcDateTime = Annotated[
    datetime | None,
    BeforeValidator(upstream_datetime),
    AfterValidator(_utc_unless_go_zero),
]


class PayloadModel(BaseModel):
    """Base of every upstream payload model: camelCase aliases, unknown keys ignored."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


def code_for_failure_text(text: str) -> ErrorCode:
    """The coded error for a failure reported in a success (HTTP 2xx) body, from its message."""
    lowered = text.lower()
    if "not found" in lowered or "does not exist" in lowered or "no such" in lowered:
        return ErrorCode.UPSTREAM_NOT_FOUND
    if "unauthori" in lowered or "not authenticated" in lowered or "invalid api key" in lowered:
        return ErrorCode.UPSTREAM_UNAUTHORIZED
    if "forbidden" in lowered or "permission" in lowered or "not allowed" in lowered:
        return ErrorCode.UPSTREAM_FORBIDDEN
    return ErrorCode.UPSTREAM_BAD_REQUEST


@cache
def _unsafe_folded_chars() -> frozenset[str]:
    """Casefolded characters that an upstream's simpler case-insensitive matching (`str.lower`
    or `re.IGNORECASE`) may fail to find where `casefold()` does: parts of multi-character
    folds (ß -> ss) and folds that those matchers do not equate with the original."""
    unsafe: set[str] = set()
    for point in range(sys.maxunicode + 1):
        char = chr(point)
        folded = char.casefold()
        if folded == char:
            continue
        if len(folded) > 1:
            unsafe.update(folded)
        elif (
            char.lower() != folded
            or folded.lower() != folded
            or not re.fullmatch(re.escape(folded), char, re.IGNORECASE)
        ):
            unsafe.add(folded)
    return frozenset(unsafe)


def search_runs(term: str) -> list[str]:
    """The casefolded term split at characters whose upstream matching could differ from
    `JobFilterSpec.matches`: each run, matched case-insensitively (by `lower()` or
    `re.IGNORECASE`) as a substring, in order, selects a superset of the local matches."""
    unsafe = _unsafe_folded_chars()
    runs: list[str] = []
    current = ""
    for char in term.casefold():
        if char in unsafe:
            if current:
                runs.append(current)
            current = ""
        else:
            current += char
    if current:
        runs.append(current)
    return runs


class RawJob:
    """A listed job whose creation time is known but whose full payload is validated only when
    `job()` is first called: the federated merge sorts whole lists and builds few of them."""

    __slots__ = ("_index", "_job", "_list", "created_at", "native_id")

    def __init__(
        self,
        created_at: datetime | None,
        raw_list: RawJobList | None = None,
        index: int = 0,
        job: Job | None = None,
        native_id: str | None = None,
    ) -> None:
        self.created_at = created_at
        # The job's `native_id` as the light parse read it (None where it could not): reads
        # that overlap, on a list that shifted between them, are matched up by it.
        self.native_id = native_id
        self._list = raw_list
        self._index = index
        self._job = job

    @classmethod
    def of(cls, job: Job) -> RawJob:
        """An already built job."""
        return cls(job.created_at, job=job, native_id=job.native_id)

    def identity(self) -> str:
        """The job's native id, building the job only where the light parse lacked it."""
        return self.native_id if self.native_id is not None else self.job().native_id

    def job(self) -> Job:
        """The domain job; an item that does not parse is UPSTREAM_INVALID_RESPONSE."""
        if self._job is None:
            assert self._list is not None
            self._job = self._list.build(self._index)
        return self._job


def _light_id(value: Any) -> str | None:
    """An id as `native_id` spells it, where the listed value is one (else None: the job's
    id is then learnt by building it)."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    return None


class RawJobList:
    """The job array of one list response, each item validated into its payload model (and
    converted) on demand; `created` comes from a light parse of the whole body."""

    def __init__(
        self,
        adapter: ProviderAdapter,
        response: UpstreamResponse,
        key: str | None,
        model: type[BaseModel],
        convert: Callable[[Any], Job],
    ) -> None:
        self.adapter = adapter
        self.response = response
        self.key = key  # where the array sits in the body (None: the body is the array)
        self.model = model
        self.convert = convert
        self._items: list[Any] | None = None

    def jobs(self, created: Sequence[datetime | None], ids: Sequence[Any]) -> list[RawJob]:
        """One unbuilt job per item, given the items' creation times and ids (as listed: any
        JSON value, unchecked until the job is built) in body order."""
        return [
            RawJob(at, self, index, native_id=_light_id(id_))
            for index, (at, id_) in enumerate(zip(created, ids, strict=True))
        ]

    def build(self, index: int) -> Job:
        if self._items is None:
            data: Any = orjson.loads(self.response.body)
            self._items = data if self.key is None else data[self.key]
        try:
            payload = self.model.model_validate(self._items[index])
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = [*([] if self.key is None else [self.key]), index, *first["loc"]]
            where = ".".join(str(p) for p in loc)
            raise self.adapter.invalid(f"{where}: {first['msg']}", self.response.status) from None
        return self.convert(payload)


@dataclass(frozen=True, slots=True)
class ListQuery:
    """One upstream ordered sequence: a project plus provider-native filter and sort params.

    `params` are exactly the query parameters sent upstream besides paging, in a fixed order,
    so that equal queries are equal values (cursor binding, request de-duplication).
    """

    project: str | None
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Pushdown:
    """How a federated listing of one project is asked of the upstream.

    `query` must select a superset of the jobs matching the filter (the merge always applies
    `JobFilterSpec.matches` locally too); `ordered` says the upstream returns them sorted by
    creation time in the requested order; `empty` says no job can match (skip the request);
    `exact` says the query selects exactly the matching jobs (so upstream totals count them).
    """

    query: ListQuery
    ordered: bool
    empty: bool = False
    exact: bool = False


async def _read_fresh(read: Callable[[], Awaitable[Sequence[RawJob]]]) -> Sequence[RawJob]:
    """`read` from the upstream itself: neither this operation's earlier responses nor the
    response cache, so that a snapshot is as old as its read."""
    with fresh_reads():
        return await read()


class ProviderAdapter(ABC):
    """A source's upstream, seen as ordered sequences of `Job`s."""

    provider: ClassVar[Provider]

    def __init__(self, source: SourceConfig) -> None:
        self.source = source
        # Whether list responses carry the sequence's total (else only an empty page, or one
        # shorter than a page size the source has sent, proves the end).
        self.reports_total = provider_row(self.provider).reports_totals
        # False: the source is one list, its jobs have no project.
        self.has_projects = provider_row(self.provider).has_projects
        # What the upstream has shown of its paging lives with the client: `hints(http)`.

    # --- what differs per provider -------------------------------------------------

    @abstractmethod
    def plan(self, window: PageWindow, cap: int | None) -> list[PageRequest]:
        """Upstream requests covering `window`, given any server cap learned so far."""

    @abstractmethod
    async def fetch_page(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> UpstreamPage[Job]:
        """Make one planned list request and parse it into jobs."""

    @abstractmethod
    async def fetch_by_ids(
        self, http: UpstreamSession, project: str | None, ids: Sequence[str]
    ) -> dict[str, Job]:
        """Jobs by native id within one project, as cheaply as the upstream allows; ids that
        do not exist are absent from the result."""

    @abstractmethod
    def describe_error(self, status: int, body: bytes) -> tuple[str, str | None]:
        """(message, provider error code) from the provider's error body."""

    def check_project(self, project: str | None) -> str | None:
        """Validate a project id for this provider (BadUserInput when malformed); by default a
        required id that is safe as one path segment."""
        if project is None:
            raise BadUserInput(f"{self.provider.value} needs a project id")
        return check_path_segment(project, "project id")

    @abstractmethod
    def pushdown(self, project: str | None, order: CreatedOrder, spec: JobFilterSpec) -> Pushdown:
        """The upstream query for a federated listing: filters and creation-time sort pushed
        down as far as the upstream can express them exactly or as a superset."""

    # --- shared by every provider ----------------------------------------------------

    def require_project(self, project: str | None) -> str:
        """A validated project id, for providers whose jobs always live in a project."""
        checked = self.check_project(project)
        if checked is None:
            raise BadUserInput(f"{self.provider.value} needs a project id")
        return checked

    async def fetch_window(
        self, http: UpstreamSession, query: ListQuery, window: PageWindow
    ) -> WindowResult[Job]:
        """Exactly the jobs at positions [window.start, window.stop) of `query`'s sequence."""
        return await self._fill(http, window, lambda request: self.fetch_page(http, query, request))

    async def fetch_raw_page(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> UpstreamPage[RawJob]:
        """`fetch_page` for reads that use few of the jobs they list: adapters that read whole
        lists parse only creation times up front (a body of the wrong shape still fails here);
        by default every job is built."""
        page = await self.fetch_page(http, query, request)
        return UpstreamPage(request, [RawJob.of(job) for job in page.items], page.total)

    async def fetch_raw_window(
        self, http: UpstreamSession, query: ListQuery, window: PageWindow, *, shared: bool = False
    ) -> WindowResult[RawJob]:
        """`fetch_window` of unbuilt jobs (see `fetch_raw_page`). `shared`: the federated
        merge asks, and a request whose answer is the whole list may be answered from a
        snapshot (`snapshot`); by default it never is."""

        async def page(request: PageRequest) -> UpstreamPage[RawJob]:
            if shared and isinstance(request, WholeListRequest):
                read = partial(self._whole_list, http, query, request)
                snapshot = await self.snapshot(http, query, read)
                if snapshot is not None:
                    return UpstreamPage(request, snapshot.jobs, len(snapshot.jobs))
            return await self.fetch_raw_page(http, query, request)

        return await self._fill(http, window, page)

    async def _whole_list(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> Sequence[RawJob]:
        return (await self.fetch_raw_page(http, query, request)).items

    async def snapshot(
        self,
        http: UpstreamSession,
        query: ListQuery,
        read: Callable[[], Awaitable[Sequence[RawJob]]],
    ) -> Snapshot | None:
        """The app's snapshot of `query`'s whole list, at most the source's `max_staleness_s`
        old, made by `read` (from the upstream itself) where there is none; the same one for
        the rest of the operation (resolvers/snapshots.py). None where the source keeps none
        (`max_staleness_s` 0) or the read must show the list as it is now."""
        staleness = self.source.max_staleness_s
        if staleness <= 0 or reading_fresh():
            return None
        key = (http.caller, self.source.name, query)
        pinned = http.snapshots.get(key)
        if pinned is None:
            pinned = http.snapshots[key] = asyncio.ensure_future(
                http.client.snapshots.get(key, staleness, partial(_read_fresh, read))
            )
            pinned.add_done_callback(consume_exception)
        return await asyncio.shield(pinned)

    def hints(self, http: UpstreamSession) -> PagingHints:
        """What this source's upstream has shown of its paging so far (app-wide, kept by the
        client)."""
        return http.client.hints(self.source.name)

    async def _fill(
        self,
        http: UpstreamSession,
        window: PageWindow,
        fetch: Callable[[PageRequest], Awaitable[UpstreamPage[M]]],
    ) -> WindowResult[M]:
        hints = self.hints(http)
        result = await fill_window(
            window,
            lambda pending, cap: self.plan(pending, cap or hints.learned_cap),
            fetch,
            largest_page=hints.largest_page,
        )
        hints.learn(result)
        return result

    def created_order(self, query: ListQuery) -> CreatedOrder | None:
        """The creation-time order of `query`'s sequence where its parameters ask the upstream
        for one (cursors then re-align by time as well as by id); None where it is unknown."""
        return None

    def trusts_total(self, query: ListQuery) -> bool:
        """Whether `query`'s reported total counts exactly its sequence (by default, wherever
        the upstream reports one); an untrusted total is checked before it is believed."""
        return self.reports_total

    async def length(self, http: UpstreamSession, query: ListQuery, *, shared: bool = False) -> int:
        """The sequence's length: from a reported total where it holds, else by probing
        (`shared`: the federated merge asks, see `fetch_raw_window`)."""
        total = await self.verified_total(http, query, shared=shared)
        if total is not None:
            return total

        async def count_at(offset: int, limit: int) -> int:
            window = PageWindow(offset, offset + limit)
            return len((await self._window(http, query, window, shared)).items)

        length, _ = await find_end(count_at)
        return length

    async def verified_total(
        self, http: UpstreamSession, query: ListQuery, *, shared: bool = False
    ) -> int | None:
        """The reported total where it can be believed: as reported where it is trusted, else
        only once a job is found at its last position and none after it; None otherwise."""
        if not self.reports_total:
            return None
        result = await self._window(http, query, PageWindow(0, 1), shared)
        total = result.trusted_total
        if total is None or total == 0 or self.trusts_total(query):
            return total
        check = await self._window(http, query, PageWindow(total - 1, total + 1), shared)
        return total if len(check.items) == 1 else None

    async def _window(
        self, http: UpstreamSession, query: ListQuery, window: PageWindow, shared: bool
    ) -> WindowResult[Job]:
        if not shared:
            return await self.fetch_window(http, query, window)
        raw = await self.fetch_raw_window(http, query, window, shared=True)
        return raw.map(RawJob.job)

    async def get(
        self,
        http: UpstreamSession,
        path: str,
        path_params: Mapping[str, str],
        params: Sequence[tuple[str, str]] = (),
    ) -> UpstreamResponse:
        return await http.get(self.source.name, path, path_params, params, self.describe_error)

    def invalid(self, detail: str, status: int | None = None) -> UpstreamError:
        return UpstreamError(
            f"{self.source.name}: unexpected response: {detail}"[:300],
            code=ErrorCode.UPSTREAM_INVALID_RESPONSE,
            source=self.source.name,
            provider=self.provider.name,
            upstream_status=status,
        )

    async def fetch_one(
        self,
        http: UpstreamSession,
        model: type[M] | TypeAdapter[M],
        path: str,
        path_params: Mapping[str, str],
    ) -> M | None:
        """GET one resource by id; None when the upstream answers 404."""
        try:
            response = await self.get(http, path, path_params)
        except UpstreamError as exc:
            if exc.upstream_status == 404:
                return None
            raise
        return self.parse(model, response)

    async def scan_for_ids(
        self, http: UpstreamSession, query: ListQuery, ids: Sequence[str], page_size: int
    ) -> dict[str, Job]:
        """Walk `query`'s sequence in windows of `page_size` until every id is seen or it ends
        (for upstreams with no single-job endpoint)."""
        wanted = set(ids)
        found: dict[str, Job] = {}
        start = 0
        while wanted:
            window = PageWindow(start, start + page_size)
            result = await self.fetch_window(http, query, window)
            for job in result.items:
                if job.native_id in wanted:
                    wanted.discard(job.native_id)
                    found[job.native_id] = job
            if len(result.items) < window.size or (
                result.end is not None and result.end <= window.stop
            ):
                break
            start = window.stop
        return found

    def failure(
        self,
        http: UpstreamSession,
        message: str,
        code: ErrorCode,
        status: int | None = None,
        upstream_code: str | None = None,
    ) -> UpstreamError:
        """An upstream failure reported inside a success response (e.g. `success: false`)."""
        runtime = http.client.sources.get(self.source.name)
        secrets = runtime.secrets if runtime is not None else []
        return UpstreamError(
            f"{self.source.name}: {safe_message(message, secrets)}",
            code=code,
            source=self.source.name,
            provider=self.provider.name,
            upstream_status=status,
            upstream_code=upstream_code,
        )

    def listed(
        self,
        http: UpstreamSession,
        response: UpstreamResponse,
        envelope: ListEnvelope[J],
    ) -> tuple[list[J], int]:
        """A list body's jobs and total, once it reports success and carries both.

        Edge Impulse and ModelArts answer 200 with a success flag and, when it is set, the
        jobs and their total: a failure is reported as one (coded from its message) before
        the missing fields are."""
        if envelope.failed:
            message = envelope.message or "the request did not succeed"
            code = code_for_failure_text(message)
            raise self.failure(http, message, code, response.status, envelope.upstream_code)
        if envelope.jobs is None or envelope.total is None:
            raise self.invalid(f"{envelope.required} are required", response.status)
        return envelope.jobs, envelope.total

    def parse(self, model: type[M] | TypeAdapter[M], response: UpstreamResponse) -> M:
        """Parse a body into its pydantic model; any mismatch is UPSTREAM_INVALID_RESPONSE."""
        try:
            # Straight from bytes: no intermediate Python objects for pydantic to walk again.
            if isinstance(model, TypeAdapter):
                return model.validate_json(response.body)
            assert issubclass(model, BaseModel)
            return model.model_validate_json(response.body)  # type: ignore[return-value]
        except ValidationError as exc:
            first = exc.errors()[0]
            if first["type"] == "json_invalid":
                raise self.invalid("body is not JSON", response.status) from None
            where = ".".join(str(p) for p in first["loc"]) or "(root)"
            raise self.invalid(f"{where}: {first['msg']}", response.status) from None


def json_error_fields(
    body: bytes, message_keys: Sequence[str], code_key: str
) -> tuple[str, str | None]:
    """Pick a message and code out of a JSON error body, whatever else it holds."""
    data: Any = orjson.loads(body)
    if not isinstance(data, dict):
        raise ValueError("error body is not an object")
    parts = [
        str(data[k])
        for k in message_keys
        if isinstance(data.get(k), str | int) and data.get(k) != ""
    ]
    code = data.get(code_key)
    return " - ".join(parts), None if code is None else str(code)
