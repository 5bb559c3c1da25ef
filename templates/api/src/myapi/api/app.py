"""The FastAPI application: `create_app(settings)` builds it from the features' web parts; its
lifespan opens every feature's resources (`core/resources.py`) and closes them at shutdown.

Run it with `python -m myapi serve`,
or `uvicorn myapi.main:create_app --factory`.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from importlib import import_module
from typing import Protocol, cast

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from myapi import __version__
from myapi.api import openapi
from myapi.api.middleware import RequestContext
from myapi.api.problems import http_error, invalid_input
from myapi.core.config import Settings
from myapi.core.health import Readiness
from myapi.core.resources import open_resources
from myapi.core.settings import load_settings
from myapi.features import FEATURES


class WebPart(Protocol):
    """A feature's `web.py`: adds its routes, middleware and handlers to the app."""

    def install(self, app: FastAPI, settings: Settings, shutdown: AsyncExitStack) -> None: ...


def web_parts() -> list[WebPart]:
    return [
        cast(WebPart, import_module(f"myapi.{feature.name}.web"))
        for feature in FEATURES
        if feature.web
    ]


def create_app(settings: Settings | None = None) -> FastAPI:
    # Under `uvicorn --factory` a bad setting is one line and exit status 2, like the CLI.
    settings = settings or load_settings(Settings)
    shutdown = AsyncExitStack()  # what web parts hand over for the end of the lifespan

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with shutdown, open_resources(settings) as resources:
            app.state.resources = resources
            app.state.readiness = Readiness(
                resources.probes,
                timeout=settings.readiness_timeout,
                cache_seconds=settings.readiness_cache_seconds,
                optional=resources.optional,
            )
            yield

    # Telemetry is the monitoring feature's (it exports its own metrics and spans): FastAPI's
    # built-in telemetry would duplicate it and checks for a provider on every request.
    app = FastAPI(
        title=settings.app_name,
        version=__version__,
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_input)
    for part in web_parts():
        part.install(app, settings, shutdown)
    # Added last, so it wraps every feature's middleware: request ids, body cap, 500s.
    app.add_middleware(RequestContext, max_body_bytes=settings.max_body_bytes)
    openapi.install(app)
    # Modules, routes and models live as long as the process: exempt them from the cyclic
    # garbage collector, whose full collections would otherwise rescan them (pauses of tens of
    # milliseconds under load).
    gc.freeze()
    return app
