"""JSON logs, one object per line, each carrying the id of the request (or run) it belongs to.

Records are formatted where they are logged (so the request id is at hand) and written by a
background thread: a slow log reader never blocks the event loop.
"""

from __future__ import annotations

import json
import logging
import queue
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from logging.handlers import QueueHandler, QueueListener
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


class _FormattedQueueHandler(QueueHandler):
    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # The stdlib version also formats; keep only the JSON line for the writer thread.
        message = self.format(record)
        prepared = logging.makeLogRecord({"msg": message, "levelno": record.levelno})
        return prepared


class JsonLogging:
    """Root logging as JSON lines on `stream` (stderr); `close()` flushes and removes it.

    A new instance replaces the previous one (tests build many apps in one process).
    """

    _current: JsonLogging | None = None

    def __init__(self, level: str = "INFO", stream: TextIO | None = None) -> None:
        if JsonLogging._current is not None:
            JsonLogging._current.close()
        writer = logging.StreamHandler(stream or sys.stderr)
        writer.setFormatter(logging.Formatter("%(message)s"))
        records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self.handler = _FormattedQueueHandler(records)
        self.handler.setFormatter(JsonFormatter())
        self._listener = QueueListener(records, writer)
        self._listener.start()
        root = logging.getLogger()
        root.addHandler(self.handler)
        root.setLevel(level.upper())
        JsonLogging._current = self

    def close(self) -> None:
        if JsonLogging._current is not self:
            return
        JsonLogging._current = None
        logging.getLogger().removeHandler(self.handler)
        self._listener.stop()  # writes out what is queued
