"""Request dependencies: what the lifespan opened, handed to the endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from myapp.health import Readiness


def get_readiness(request: Request) -> Readiness:
    readiness: Readiness = request.app.state.readiness
    return readiness


ReadinessDep = Annotated[Readiness, Depends(get_readiness)]
