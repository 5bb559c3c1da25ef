"""Request dependencies: what the lifespan opened, handed to the endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from myapi.health import Readiness
from myapi.resources import Resources


def get_readiness(request: Request) -> Readiness:
    readiness: Readiness = request.app.state.readiness
    return readiness


def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ReadinessDep = Annotated[Readiness, Depends(get_readiness)]
ResourcesDep = Annotated[Resources, Depends(get_resources)]
