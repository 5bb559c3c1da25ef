"""One shape for every error: RFC 9457 problem details (`application/problem+json`).

Each answer carries the request's id (also in the `X-Request-ID` header), so a client's report
leads to the server's log lines. Features raise `HTTPException` (or an exception their web part
maps with `problem_response`); `documented` puts the same shape in the OpenAPI document.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import compile_path

from myapi.core.context import request_id

MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One invalid input: where (`["body", "name"]`, `["query", "limit"]`), what, and its kind.
    The value sent is never repeated back."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details, with the request id and, for invalid input, each error."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
) -> Response:
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    content: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail and detail != title:
        content["detail"] = detail
    if instance:
        content["instance"] = instance
    current = request_id.get()
    if current is not None:
        content["request_id"] = current
    if errors is not None:
        content["errors"] = list(errors)
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


async def http_error(request: Request, exc: Exception) -> Response:
    """`HTTPException` (404s, 405s with their `Allow` header, ...) as a problem."""
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request, headers.get("Allow", ""))
    return problem_response(exc.status_code, detail, instance=request.url.path, headers=headers)


METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def allowed_methods(request: Request, router_says: str) -> str:
    """Every method served at this path: the router names only those of the first route that
    matches it, the OpenAPI document lists them all (routes left out of it keep the router's)."""
    methods = {method.strip() for method in router_says.split(",") if method.strip()}
    for template, operations in request.app.openapi().get("paths", {}).items():
        if compile_path(template)[0].match(request.url.path):
            methods.update(method.upper() for method in operations if method in METHODS)
    return ", ".join(sorted(methods))


async def invalid_input(request: Request, exc: Exception) -> Response:
    """422 naming every invalid input, without the values sent (a body may be large, or
    secret)."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
        for error in exc.errors()
    ]
    return problem_response(422, "the request is invalid", instance=request.url.path, errors=errors)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status answered with a problem (see `api/openapi.py`)."""
    return {code: {"model": Problem, "description": HTTPStatus(code).phrase} for code in statuses}
