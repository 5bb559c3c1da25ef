"""Per-request metrics and the access log, in one pure ASGI middleware.

Pure ASGI (not BaseHTTPMiddleware) so it adds no task, no body copy and almost no time. The
request id is the api feature's (`api/middleware.py`), which wraps this one; log lines carry it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from myapi.monitoring.metrics import UNMATCHED, HttpMetrics

access_logger = logging.getLogger(__name__)


class RequestMiddleware:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics, access_log: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log
        self._templates: dict[Callable[..., Any], str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_flight += 1
        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.in_flight -= 1
            elapsed = time.perf_counter() - start
            route = self.template(scope)
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

    def template(self, scope: Scope) -> str:
        """The path template of the route that served the request (never the raw path)."""
        route = scope.get("route")  # the router stores the API route it matched
        if route is not None:
            return getattr(route, "path", UNMATCHED)
        endpoint = scope.get("endpoint")  # other routes (/docs, /openapi.json) leave theirs
        if endpoint is None:
            return UNMATCHED
        template = self._templates.get(endpoint)
        if template is None:
            routes = scope["app"].routes
            found = (r.path for r in routes if getattr(r, "endpoint", None) is endpoint)
            template = self._templates[endpoint] = next(found, UNMATCHED)
        return template
