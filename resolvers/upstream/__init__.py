"""The upstream HTTP stack, layered as httpx layers transports.

Every piece implements one interface, `Upstream.send(UpstreamRequest) -> UpstreamResponse`,
and wraps the next; `stack.build_upstream` is the one place that orders them:

    Traced -> Cached -> SharedState -> CoolDown -> Breaker -> Retry -> HttpErrors
           -> Measured -> AttemptDeadline -> ConcurrencyLimit -> AiohttpSend

Inside the breaker a failed attempt is an `AttemptFailed`; from the breaker out it is the
coded `UpstreamError` callers see.
"""
