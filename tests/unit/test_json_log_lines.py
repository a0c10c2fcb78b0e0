"""Every log record is one JSON line: a traceback is a field, never a multi-line block."""

from __future__ import annotations

import json
import logging

from graph.http.jsonlog import ACCESS_LOGGER, JsonLines


def record(name: str, message: str, *, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord(name, logging.ERROR, __file__, 1, message, (), exc_info)


def test_a_record_with_a_traceback_is_one_json_line() -> None:
    try:
        raise ValueError("upstream said no")
    except ValueError as exc:
        line = JsonLines().format(record("jobgraph.errors", "unexpected error at %s", exc=exc))
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["level"] == "ERROR"
    assert parsed["logger"] == "jobgraph.errors"
    assert parsed["message"] == "unexpected error at %s"
    assert parsed["exception"].startswith("Traceback")
    assert "ValueError: upstream said no" in parsed["exception"]
    assert parsed["ts"].endswith("+00:00")


def test_access_lines_are_already_json_and_pass_through() -> None:
    access = json.dumps({"request_id": "r1", "status": 200})
    assert JsonLines().format(record(ACCESS_LOGGER, access)) == access
