"""The HTTP service around the schema: the aiohttp app and its GraphQL view, auth (tokens and
JWTs), CORS, rate limits, persisted queries, the access log and metrics, health probes and
GraphiQL (with its static assets).

Everything here speaks HTTP or serves the process (requests, responses, headers, middleware).
The schema reaches in for three per-operation extensions only (`logs.RecordOperation`,
`persisted.TrustedOnly`, `ratelimit.WebSocketLimits`): each lives beside the HTTP half it shares
state with (the access log line, the trusted documents, the callers' buckets), so that state
has one home. `graph.limits` stays with the schema, since its checks are a schema extension;
it borrows `responses.error_response` for its one middleware (the body-size limit).
`graph.cli` stays at the top: it is the `jobgraph` command, which starts this service.
"""
