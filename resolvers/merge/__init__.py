"""The federated `jobs` listing, in small modules: `plan` (the streams), `keys` (the merge
order), `marks` (cursor cuts), `reader` (one stream by position), `listing` (the pages).

Where an upstream sorts by creation time, positions are indices into its own sorted sequence;
where it cannot, the whole sequence is read once per operation, up to
`scan_ceiling` jobs, and sorted locally (ties in id order, since no upstream keeps one for
them). Whole reads parse only creation times up front (`RawJob`); a job is built when a page
scans it.
"""

from resolvers.merge.keys import END, CutKey, MergeKey, merge_key, sorted_by_time
from resolvers.merge.listing import JobMerge, MergeArgs, MergedEdge, MergedPage
from resolvers.merge.marks import (
    Boundary,
    EdgeMark,
    Mark,
    OffsetMark,
    mark_from_position,
    mark_position,
)
from resolvers.merge.plan import (
    MergePlan,
    Stream,
    StreamFailure,
    plan_streams,
    spec_is_local_free,
)
from resolvers.merge.reader import StreamReader

__all__ = [
    "END",
    "Boundary",
    "CutKey",
    "EdgeMark",
    "JobMerge",
    "Mark",
    "MergeArgs",
    "MergeKey",
    "MergePlan",
    "MergedEdge",
    "MergedPage",
    "OffsetMark",
    "Stream",
    "StreamFailure",
    "StreamReader",
    "mark_from_position",
    "mark_position",
    "merge_key",
    "plan_streams",
    "sorted_by_time",
    "spec_is_local_free",
]
