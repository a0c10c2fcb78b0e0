"""Shared pieces of the seeded dataset generators: time, lifecycles, statuses, people, ids."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

# The datasets' "now": fixed so that the same seed always gives the same bytes.
BASE_TIME = datetime(2025, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)
GO_ZERO_TIME = "0001-01-01T00:00:00Z"
SIZE_PROFILES = ("default", "small", "large", "big")
# The "big" profile: every project of at least this many jobs holds BIG_SIZE (benchmarks).
BIG_FROM = 30
BIG_SIZE = 5_000


class Phase(Enum):
    """Where a job stands at BASE_TIME, which decides its timestamps and future transitions."""

    QUEUED = "queued"  # not started; will start, then finish
    RUNNING = "running"  # started; will finish
    FINISHED = "finished"  # started and finished
    ENDED_UNSTARTED = "ended_unstarted"  # finished (failed or canceled) without starting
    STATIC = "static"  # started, never moves on its own (paused, unknown)


ACTIVE_PHASES = (Phase.QUEUED, Phase.RUNNING)
S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """A transition due at `at`: "start", "succeed", "fail" or "cancel"."""

    at: datetime
    action: str


@dataclass(slots=True)
class SimJob:
    """One job: its wire payload, its future transitions, and provider-private facts."""

    payload: dict[str, Any]
    events: list[LifecycleEvent] = field(default_factory=list)
    private: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Timing:
    created: datetime
    started: datetime | None
    finished: datetime | None
    events: tuple[LifecycleEvent, ...]


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    name: str
    username: str
    email: str
    object_id: str  # a 24-hex id for APIs that use Mongo-style ids
    siu: str  # an Orange-style requester id


def project_rng(seed: int, provider: str, project: str | None) -> random.Random:
    """An independent stream per (seed, provider, project): sizes elsewhere never shift it."""
    return random.Random(f"{seed}/{provider}/{project or '-'}")


def scaled_size(size: int, profile: str) -> int:
    """A project's size under a size profile: small caps at 23, large grows big projects 20x,
    big makes every project of 30+ jobs exactly 5,000."""
    if profile == "default":
        return size
    if profile == "small":
        return min(size, 23)
    if profile == "large":
        return size * 20 if size >= 100 else size
    if profile == "big":
        return BIG_SIZE if size >= BIG_FROM else size
    raise ValueError(f"unknown sizes profile {profile!r}; expected one of {SIZE_PROFILES}")


def millis(moment: datetime) -> datetime:
    """`moment` truncated to whole milliseconds, the finest unit any upstream shows."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def created_timeline(
    rng: random.Random,
    n: int,
    *,
    span: timedelta = timedelta(days=75),
    tie_rate: float = 0.06,
) -> list[datetime]:
    """`n` creation times, oldest first, ending shortly before BASE_TIME, some exactly equal.

    The newest tenth are packed into the last hours so that active jobs look recent.
    """
    times: list[datetime] = []
    moment = BASE_TIME - timedelta(seconds=rng.uniform(20, 600))
    recent = max(1, n // 10)
    mean_gap = span.total_seconds() / max(1, n)
    for index in range(n):
        times.append(millis(moment))
        if rng.random() < tie_rate:
            continue
        gap = rng.expovariate(1 / 600) if index < recent else rng.expovariate(1 / mean_gap)
        moment -= timedelta(seconds=max(0.001, gap))
    times.reverse()
    return times


def assign_statuses(
    rng: random.Random,
    n: int,
    variants: Mapping[S, tuple[Phase, float]],
    *,
    ensure_all: bool,
) -> list[S]:
    """Statuses for `n` jobs ordered oldest first, drawn from `variants` (status -> phase and
    weight): active ones only among the newest tenth.

    With `ensure_all`, every status appears at least once when `n` allows it.
    """
    phases = {status: phase for status, (phase, _) in variants.items()}
    weights = {status: weight for status, (_, weight) in variants.items()}
    settled = [s for s in phases if phases[s] not in ACTIVE_PHASES]
    active = [s for s in phases if phases[s] in ACTIVE_PHASES]
    zone = min(n, max(n // 10, len(active) * 2 if ensure_all else 1))
    old_part = rng.choices(settled, [weights[s] for s in settled], k=n - zone) if settled else []
    both = settled + active
    boosted = [weights[s] * (4 if s in active else 1) for s in both]
    new_part = rng.choices(both, boosted, k=zone) if zone else []
    statuses = old_part + new_part
    if ensure_all and n >= len(phases):
        counts = Counter(statuses)
        for status in phases:
            if counts[status]:
                continue
            lo, hi = (n - zone, n) if status in active else (0, n - zone)
            # Only overwrite a status that occurs elsewhere too, so none disappears.
            candidates = [i for i in range(lo, hi) if counts[statuses[i]] > 1]
            index = rng.choice(candidates)
            counts[statuses[index]] -= 1
            statuses[index] = status
            counts[status] += 1
    return statuses


def plan_timing(
    rng: random.Random,
    created: datetime,
    phase: Phase,
    *,
    fail_rate: float = 0.2,
    cancel: bool = False,
) -> Timing:
    """Timestamps consistent with `phase` at BASE_TIME, and the transitions still to come.

    `cancel` makes a running job's eventual outcome "cancel" instead of succeed/fail.
    """
    latest = BASE_TIME - timedelta(seconds=1)
    delay = timedelta(seconds=rng.uniform(0.5, 240))
    duration = timedelta(seconds=rng.uniform(20, 7200))
    started: datetime | None = None
    finished: datetime | None = None
    events: list[LifecycleEvent] = []
    outcome = "cancel" if cancel else ("fail" if rng.random() < fail_rate else "succeed")
    if phase in (Phase.FINISHED, Phase.RUNNING, Phase.STATIC):
        started = min(created + delay, latest)
    if phase is Phase.FINISHED and started is not None:
        finished = min(started + duration, latest)
    elif phase is Phase.ENDED_UNSTARTED:
        finished = min(created + delay, latest)
    elif phase is Phase.RUNNING:
        events.append(
            LifecycleEvent(millis(BASE_TIME + timedelta(seconds=rng.uniform(20, 10800))), outcome)
        )
    elif phase is Phase.QUEUED:
        start = millis(BASE_TIME + timedelta(seconds=rng.uniform(5, 1200)))
        events.append(LifecycleEvent(start, "start"))
        events.append(LifecycleEvent(millis(start + duration), outcome))
    return Timing(
        created=created,
        started=None if started is None else millis(started),
        finished=None if finished is None else millis(finished),
        events=tuple(events),
    )


# --- identifiers -------------------------------------------------------------------------


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def hex_id(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def object_id(rng: random.Random, moment: datetime) -> str:
    """A Mongo ObjectId-shaped id: 8 hex digits of epoch seconds, then 16 random ones."""
    return f"{int(moment.timestamp()):08x}{hex_id(rng, 16)}"


# --- time formats --------------------------------------------------------------------------


def iso_millis_z(moment: datetime) -> str:
    """2024-10-02T15:25:04.024Z"""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def iso_seconds_z(moment: datetime) -> str:
    """2020-11-04T12:53:47Z"""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_seconds_offset(moment: datetime) -> str:
    """2006-01-02T22:04:05+00:00"""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def epoch_millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# --- people --------------------------------------------------------------------------------

_PEOPLE_NAMES: Sequence[tuple[str, str]] = (
    ("Amara Okafor", "amara"),
    ("Jan de Vries", "jdevries"),
    ("Zoë Åström", "zoe.astrom"),
    ("Mateo Fernández", "mateo-f"),
    ("Priya Raghunathan", "priya"),
    ("Liang Wei", "liangwei"),
    ("Sophie Martin", "smartin"),
    ("Oluwaseun Adeyemi", "seun"),
    ("Hannah Becker", "hbecker"),
    ("Tomás Ó Briain", "tobriain"),
    ("Yuki Tanaka", "ytanaka"),
    ("Fatima Zahra El Idrissi", "fzahra"),
    ("Noah Williams", "noahw"),
    ("Ingrid Solberg", "isolberg"),
    ("Diego Ramírez", "dramirez"),
    ("Chloé Dubois", "chloe.d"),
)


def people(rng: random.Random) -> list[Person]:
    """The users of one provider's dataset, with ids drawn from `rng`."""
    crew: list[Person] = []
    next_id = rng.randint(1000, 9000)
    for name, username in _PEOPLE_NAMES:
        next_id += rng.randint(1, 400)
        crew.append(
            Person(
                id=next_id,
                name=name,
                username=username,
                email=f"{username}@example.com",
                object_id=object_id(rng, BASE_TIME - timedelta(days=rng.randint(200, 1500))),
                siu=f"SIU{rng.randint(100000, 999999)}",
            )
        )
    return crew


def ordered(payload: Mapping[str, Any], field_order: Sequence[str]) -> dict[str, Any]:
    """The payload with its keys in the provider's documented order (absent keys stay absent)."""
    return {key: payload[key] for key in field_order if key in payload}
