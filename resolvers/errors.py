"""Coded errors: every failure the gateway reports carries one of these codes."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    BAD_USER_INPUT = "BAD_USER_INPUT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    UPSTREAM_BAD_REQUEST = "UPSTREAM_BAD_REQUEST"
    UPSTREAM_UNAUTHORIZED = "UPSTREAM_UNAUTHORIZED"
    UPSTREAM_FORBIDDEN = "UPSTREAM_FORBIDDEN"
    UPSTREAM_NOT_FOUND = "UPSTREAM_NOT_FOUND"
    UPSTREAM_RATE_LIMITED = "UPSTREAM_RATE_LIMITED"
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
    UPSTREAM_TIMEOUT = "UPSTREAM_TIMEOUT"
    UPSTREAM_INVALID_RESPONSE = "UPSTREAM_INVALID_RESPONSE"
    STALE_CURSOR = "STALE_CURSOR"
    RATE_LIMITED = "RATE_LIMITED"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_REQUIRED = "PERSISTED_QUERY_REQUIRED"
    INTERNAL = "INTERNAL"


class JobgraphError(Exception):
    """An error whose message is safe to show to any caller."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str, *, code: ErrorCode | None = None, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = {k: v for k, v in extensions.items() if v is not None}

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.code.value, **self.extra}


class BadUserInput(JobgraphError):
    code = ErrorCode.BAD_USER_INPUT


class Unauthenticated(JobgraphError):
    code = ErrorCode.UNAUTHENTICATED


class Forbidden(JobgraphError):
    code = ErrorCode.FORBIDDEN


class QueryTooComplex(JobgraphError):
    code = ErrorCode.QUERY_TOO_COMPLEX


class StaleCursor(JobgraphError):
    """The list changed under a cursor beyond what re-aligning can restore exactly."""

    code = ErrorCode.STALE_CURSOR


_STATUS_CODES: dict[int, ErrorCode] = {
    400: ErrorCode.UPSTREAM_BAD_REQUEST,
    401: ErrorCode.UPSTREAM_UNAUTHORIZED,
    403: ErrorCode.UPSTREAM_FORBIDDEN,
    404: ErrorCode.UPSTREAM_NOT_FOUND,
    405: ErrorCode.UPSTREAM_BAD_REQUEST,
    408: ErrorCode.UPSTREAM_TIMEOUT,
    422: ErrorCode.UPSTREAM_BAD_REQUEST,
    429: ErrorCode.UPSTREAM_RATE_LIMITED,
    504: ErrorCode.UPSTREAM_TIMEOUT,
}


def code_for_upstream_status(status: int) -> ErrorCode:
    """The coded error for an upstream HTTP status that is not a success."""
    if status in _STATUS_CODES:
        return _STATUS_CODES[status]
    if 400 <= status < 500:
        return ErrorCode.UPSTREAM_BAD_REQUEST
    if status >= 500:
        return ErrorCode.UPSTREAM_UNAVAILABLE
    return ErrorCode.UPSTREAM_INVALID_RESPONSE


class UpstreamError(JobgraphError):
    """A source could not answer; carries which source and what it said, never its raw body."""

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode,
        source: str,
        provider: str,
        upstream_status: int | None = None,
        upstream_code: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(
            message,
            code=code,
            source=source,
            provider=provider,
            upstreamStatus=upstream_status,
            upstreamCode=upstream_code,
            retryAfter=retry_after_s,
        )
        self.source = source
        self.provider = provider
        self.upstream_status = upstream_status
        self.upstream_code = upstream_code
        self.retry_after_s = retry_after_s
