"""The fast path: jobgraph's own short cuts through Strawberry's and graphql-core's execution.

A per-process parse and validation cache (`documents`), operations already known to pass every
check run without the extension runner (`prepared`), plain scalar and enum fields completed
without a resolve info each (`execution`), and the selected field names read from the syntax
tree (`selection`). All of it is behind `[server] fast_path`: only `graph.schema.build` (which picks
the execution context, the extensions and the way selected names are read by that switch)
imports this package. With the switch off, three pieces stay in use: the two base classes the
short cuts extend (`execution.MarkedExecutionContext`, `documents.OperationNameRequired`:
Strawberry's own execution context and document handling, with the marks jobgraph's responses
need) and `prepared.FastLane` as the per-operation cost estimate the rate limits charge,
without running anything directly.
"""
