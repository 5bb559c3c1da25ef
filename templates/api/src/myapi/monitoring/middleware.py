"""Per-request work in one pure ASGI middleware: request id, metrics and the access log.

Pure ASGI (not BaseHTTPMiddleware) so it adds no task, no body copy and almost no time.
"""

from __future__ import annotations

import logging
import random
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logging import request_id
from .metrics import UNMATCHED, HttpMetrics

HEADER = b"x-request-id"
# Honour a caller's id only when it is short and plain, so it is safe in logs and headers.
VALID_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")

access_logger = logging.getLogger(__name__)


def new_id() -> str:
    # Unique, not secret: no need for the system's random source (a syscall per request).
    return f"{random.getrandbits(128):032x}"


def incoming_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == HEADER:
            return value.decode("ascii") if VALID_ID.fullmatch(value) else None
    return None


class RequestMiddleware:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics, access_log: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_id(scope) or new_id()
        token = request_id.set(rid)
        header = (HEADER, rid.encode("ascii"))
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            # The router stores the matched route in the scope; its path is the template.
            route = getattr(scope.get("route"), "path", UNMATCHED)
            self.metrics.observe(scope["method"], route, status, elapsed)
            if self.access_log and access_logger.isEnabledFor(logging.INFO):
                fields = {
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 3),
                }
                access_logger.info("request", extra={"fields": fields})
            request_id.reset(token)
