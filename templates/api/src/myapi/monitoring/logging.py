"""JSON logs, one object per line on stderr, each carrying the id of the request (or run) it
belongs to.

Lines are formatted when they are logged (the request id is at hand then) and written once per
event-loop turn: under load one write carries many lines instead of a system call per line.
Warnings and errors are written at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from contextvars import ContextVar
from typing import Any, TextIO

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._second_text = ""

    def timestamp(self, created: float) -> str:
        """UTC, ISO 8601 with milliseconds; the date part is formatted once per second."""
        second = int(created)
        if second != self._second:
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._second_text}.{int((created - second) * 1000):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.timestamp(record.created),
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


class JsonLines(logging.Handler):
    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self.setFormatter(JsonFormatter())
        self._lines: list[str] = []
        self._flush_scheduled = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._lines.append(self.format(record))
        except Exception:
            self.handleError(record)
            return
        if record.levelno >= logging.WARNING:
            self.flush()
        elif not self._flush_scheduled:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no event loop in this thread: write now
                self.flush()
            else:
                self._flush_scheduled = True
                loop.call_soon(self.flush)

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]  # Handler.__init__ always creates it
            self._flush_scheduled = False
            if self._lines:
                self.stream.write("\n".join(self._lines) + "\n")
                self._lines.clear()
                self.stream.flush()


class JsonLogging:
    """Root logging as JSON lines on `stream` (stderr); `close()` flushes and removes it.

    A new instance replaces the previous one (tests build many apps in one process).
    """

    _current: JsonLogging | None = None

    def __init__(self, level: str = "INFO", stream: TextIO | None = None) -> None:
        if JsonLogging._current is not None:
            JsonLogging._current.close()
        self.handler = JsonLines(stream or sys.stderr)
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
