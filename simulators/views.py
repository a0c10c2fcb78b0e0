"""Sorted and filtered views of a simulator's project lists, kept from one request to the next.

A list request with a sort or a filter used to sort (and filter) the whole project again: with
5,000 jobs that was most of the simulators' CPU in `python -m bench.bigfed`. `ProjectViews`
keeps each view it builds until what the view is built from changes. The simulator says so:
`changed(project)` when jobs are created or deleted (`Mutator`), `changed_all()` when the clock
applies transitions (statuses, times, running durations). A view whose project list is no
longer the same list object, or has another length, is rebuilt without being told.

Views sit below every per-request switch: shuffled ties and caps are applied to the view on
each request and busy arrivals are created before it is looked up, so they behave as before.
A view's key holds only what the request asks for (filters already parsed, the sort as given),
never a switch.

Code that edits a stored job in place (tests do) calls `Simulator.changed(project)`. With
`ProjectViews.verify` on (the test suite turns it on in tests/conftest.py), every view served
from the cache is compared with a fresh build, and a stale one raises `StaleView`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from simulators.datagen import SimJob

Build = Callable[[list[SimJob]], Iterable[SimJob]]
# Views kept per project; the oldest used is dropped past it (a client can ask for any sort).
MAX_VIEWS_PER_PROJECT = 32


class StaleView(AssertionError):
    """A cached view differs from a fresh build: something changed stored jobs unannounced."""


@dataclass(slots=True)
class _View:
    # The project list it was built from, and that list's length then.
    source: list[SimJob]
    size: int
    jobs: tuple[SimJob, ...]


class ProjectViews:
    """One simulator's cached views, by project and by a key naming the filter and sort."""

    # Compare every view served from the cache with a fresh build (tests/conftest.py).
    verify: ClassVar[bool] = False

    def __init__(self, dataset: dict[str | None, list[SimJob]]) -> None:
        self._dataset = dataset
        self._views: dict[str | None, dict[Hashable, _View]] = {}

    def get(self, project: str | None, key: Hashable, build: Build) -> tuple[SimJob, ...]:
        """The view `key` of `project`: `build(the project's stored jobs)`, built once and
        reused while the project is unchanged. KeyError for an unknown project."""
        source = self._dataset[project]
        views = self._views.setdefault(project, {})
        view = views.pop(key, None)
        if view is None or view.source is not source or view.size != len(source):
            view = _View(source, len(source), tuple(build(source)))
        elif self.verify:
            _check(project, key, view.jobs, tuple(build(source)))
        views[key] = view  # last used last
        if len(views) > MAX_VIEWS_PER_PROJECT:
            del views[next(iter(views))]
        return view.jobs

    def changed(self, project: str | None) -> None:
        """Forget the views of `project` (its jobs were created, deleted or edited)."""
        self._views.pop(project, None)

    def changed_all(self) -> None:
        """Forget every view (the clock moved jobs on)."""
        self._views.clear()


def _check(
    project: str | None, key: Hashable, cached: Sequence[SimJob], fresh: Sequence[SimJob]
) -> None:
    if len(cached) != len(fresh) or any(a is not b for a, b in zip(cached, fresh, strict=True)):
        raise StaleView(
            f"the cached view {key!r} of project {project!r} is stale: code that edits stored "
            "jobs in place must call Simulator.changed(project)"
        )
