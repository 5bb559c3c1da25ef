"""JSON logs, one object per line on stderr, each carrying the id of the request (or run) it
belongs to.

Lines are formatted when they are logged (the request id is at hand then) and written once per
event-loop turn: under load one write carries many lines instead of a system call per line.
Warnings and errors are written at once, and so is everything once the app has shut down (the
server's last lines).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from myapi.core.context import request_id


class JsonFormatter(logging.Formatter):
    def __init__(self, context: Callable[[], dict[str, str]] | None = None) -> None:
        super().__init__()
        self._second = -1
        self._second_text = ""
        self.context = context

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
        if self.context is not None:
            entry.update(self.context())
        fields = getattr(record, "fields", None)  # logger.info(..., extra={"fields": {...}})
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class JsonLines(logging.Handler):
    def __init__(
        self, stream: TextIO | None, context: Callable[[], dict[str, str]] | None = None
    ) -> None:
        super().__init__()
        self._stream = stream  # None: whatever sys.stderr is when a line is written
        self.setFormatter(JsonFormatter(context))
        self._lines: list[str] = []
        self._flush_scheduled = False
        self.immediate = False
        """Write each line at once (no event loop may run to flush them later)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._lines.append(self.format(record))
        except Exception:
            self.handleError(record)
            return
        if record.levelno >= logging.WARNING or self.immediate:
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
                stream = self._stream or sys.stderr
                stream.write("\n".join(self._lines) + "\n")
                self._lines.clear()
                stream.flush()


# The server's own loggers: under `uvicorn ... --factory` uvicorn gives them handlers of its own
# (plain text) before the app exists; they are handed to the JSON log instead.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


class JsonLogging:
    """Root logging as JSON lines on `stream` (stderr); `context` adds fields to every line
    (the trace and span ids when tracing is on). `close()` flushes, and the lines logged after
    it (the server's last ones) are written at once.

    A new instance replaces the previous one (tests build many apps in one process).
    """

    _current: JsonLogging | None = None

    def __init__(
        self,
        level: str = "INFO",
        stream: TextIO | None = None,
        context: Callable[[], dict[str, str]] | None = None,
    ) -> None:
        if JsonLogging._current is not None:
            JsonLogging._current._remove()
        self.handler = JsonLines(stream, context)
        root = logging.getLogger()
        root.addHandler(self.handler)
        root.setLevel(level.upper())
        for name in SERVER_LOGGERS:
            server_logger = logging.getLogger(name)
            server_logger.handlers.clear()
            server_logger.propagate = True
        JsonLogging._current = self

    def close(self) -> None:
        self.handler.flush()
        self.handler.immediate = True

    def _remove(self) -> None:
        logging.getLogger().removeHandler(self.handler)
        self.handler.flush()
