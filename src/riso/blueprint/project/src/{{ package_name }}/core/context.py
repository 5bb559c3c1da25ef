"""What the code running now belongs to: the id of the HTTP request (or CLI run), for log lines
and error answers."""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
