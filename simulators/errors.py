"""Errors a simulator handler raises; each simulator renders them in its provider's body shape."""

from __future__ import annotations


class SimError(Exception):
    """An HTTP error with a message; `code` overrides the provider's default error code."""

    status = 500

    def __init__(self, message: str, *, code: str | int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class BadRequest(SimError):
    status = 400


class Unauthorized(SimError):
    status = 401


class Forbidden(SimError):
    status = 403


class NotFound(SimError):
    status = 404
