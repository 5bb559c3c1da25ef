"""JSON logs, one object per line on stderr, each carrying the id of the request (or run) it
belongs to.

Lines are written as they are logged, one write each, as uvicorn writes its own logs: cheaper than
handing them to a writer thread, whose wake-ups cost the event loop more than the writes they save.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = request_id.get()
        if current is not None:
            entry["request_id"] = current
        fields = getattr(record, "fields", None)  # logger.info(..., extra={"fields": {...}})
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class JsonLogging:
    """Root logging as JSON lines on `stream` (stderr); `close()` flushes and removes it.

    A new instance replaces the previous one (tests build many apps in one process).
    """

    _current: JsonLogging | None = None

    def __init__(self, level: str = "INFO", stream: TextIO | None = None) -> None:
        if JsonLogging._current is not None:
            JsonLogging._current.close()
        self.handler = logging.StreamHandler(stream or sys.stderr)
        self.handler.setFormatter(JsonFormatter())
        root = logging.getLogger()
        root.addHandler(self.handler)
        root.setLevel(level.upper())
        JsonLogging._current = self

    def close(self) -> None:
        if JsonLogging._current is not self:
            return
        JsonLogging._current = None
        logging.getLogger().removeHandler(self.handler)
        self.handler.flush()
