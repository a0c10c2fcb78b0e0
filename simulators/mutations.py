"""Jobs created and deleted while someone pages: what every platform does on a busy project.

Each simulator describes its jobs with a `JobShape` (where the id and creation time live, how
new ids are minted, the list's default order); `Mutator` then creates jobs (cloned from a
stored one, newest of all, optionally sharing one creation time) and deletes them. Tests call it
directly (`sim.mutations.create(project, 3)`) or over HTTP (`POST {base}/_control/jobs`).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from simulators.datagen import SimJob


@dataclass(frozen=True, slots=True)
class JobShape:
    """How one provider's stored jobs are identified, dated and ordered."""

    id_key: str
    # The stored creation time of a job (ties are jobs with equal values).
    created_of: Callable[[SimJob], Any]
    # Sets the creation time on a payload (and on `private` where the simulator keeps it).
    set_created: Callable[[SimJob, datetime], None]
    # A new id, unique among every stored job (all projects), for a job created then.
    mint_id: Callable[[list[SimJob], random.Random, datetime], Any]
    # The list endpoint's default order of a project's jobs.
    default_order: Callable[[list[SimJob]], list[SimJob]]
    # Precision of stored creation times (Metafold keeps whole seconds).
    tick: timedelta = timedelta(milliseconds=1)


class Mutator:
    """Creates and deletes one simulator's jobs between (or during) list requests."""

    def __init__(
        self,
        shape: JobShape,
        dataset: dict[str | None, list[SimJob]],
        now: Callable[[], datetime],
        changed: Callable[[str | None], None] = lambda _project: None,
    ) -> None:
        self.shape = shape
        self.dataset = dataset
        self._now = now
        # Told which project's jobs were created or deleted (the simulator's cached views).
        self._changed = changed
        self._rng = random.Random(7)
        self._minted: datetime | None = None

    def create(
        self,
        project: str | None,
        count: int,
        *,
        tied: bool = False,
        template: SimJob | None = None,
    ) -> list[Any]:
        """`count` new jobs in `project`, each created after every job so far (all at one
        instant when `tied`), cloned from `template` or from one of the project's jobs;
        returns their ids."""
        jobs = self.dataset[project]
        if not jobs and template is None:
            raise ValueError("a project with no jobs has no template to clone")
        ids: list[Any] = []
        moment = self._next_moment()
        for _ in range(count):
            job = copy.deepcopy(template if template is not None else self._rng.choice(jobs))
            job.events = []
            everyone = [stored for listed in self.dataset.values() for stored in listed]
            new_id = self.shape.mint_id(everyone, self._rng, moment)
            job.payload[self.shape.id_key] = new_id
            self.shape.set_created(job, moment)
            jobs.append(job)
            ids.append(new_id)
            if not tied:
                moment = self._next_moment()
        self.dataset[project] = self.shape.default_order(jobs)
        self._changed(project)
        return ids

    def delete(self, project: str | None, ids: list[Any]) -> int:
        """Remove the jobs with these ids; returns how many were found."""
        wanted = {str(i) for i in ids}
        jobs = self.dataset[project]
        before = len(jobs)
        jobs[:] = [job for job in jobs if str(job.payload[self.shape.id_key]) not in wanted]
        self._changed(project)
        return before - len(jobs)

    def _next_moment(self) -> datetime:
        now = self._now()
        if self._minted is not None and now <= self._minted:
            now = self._minted + self.shape.tick
        self._minted = now
        return now


def next_int_id(key: str) -> Callable[[list[SimJob], random.Random, datetime], int]:
    """Integer ids: one above the largest stored."""
    return lambda jobs, _rng, _at: max(int(job.payload[key]) for job in jobs) + 1
