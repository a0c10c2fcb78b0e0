"""Every log record as one JSON line on stderr (set up by the `jobgraph` commands)."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

# Its records are already complete JSON objects (graph.http.logs builds them).
ACCESS_LOGGER = "jobgraph.access"


class JsonLines(logging.Formatter):
    """Each record as one JSON object on one line: `ts`, `level`, `logger`, `message`, and an
    exception's traceback as the `exception` field (never a multi-line block a log shipper
    would split). Access records pass through as they are."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name == ACCESS_LOGGER:
            return record.getMessage()
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stderr for every logger (the commands' own messages stay plain text)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    logging.basicConfig(level=level, handlers=[handler], force=True)
