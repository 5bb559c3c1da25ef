"""The OpenAPI document tells what the API really answers: every error is a problem
(`application/problem+json`, `api/problems.py`), and the errors any route can give are listed on
each route: 413 and 500 on every one (the body cap is enforced before routing, so a GET sent with
a large body is refused too), 422 where there are parameters or a body, 400 (a body that cannot
be read) where a body is accepted. Routes declare their own (`documented(404, 409)`)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from myapi.api.problems import MEDIA_TYPE, Problem

REF = "#/components/schemas/{model}"
PROBLEM_REF = REF.format(model="Problem")


def install(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            describe_errors(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def problem(status: int) -> dict[str, Any]:
    return {
        "description": HTTPStatus(status).phrase,
        "content": {MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}},
    }


def describe_errors(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template=REF)
    schemas.update(problem_schema.pop("$defs", {}))
    schemas["Problem"] = problem_schema
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                content = response.get("content", {})
                schema = content.get("application/json", {}).get("schema", {})
                if status.startswith(("4", "5")) and schema.get("$ref") == PROBLEM_REF:
                    content[MEDIA_TYPE] = content.pop("application/json")
            extra = [413, 500]
            if operation.get("parameters") or "requestBody" in operation:
                extra.append(422)
            if "requestBody" in operation:
                extra.append(400)
            for status_code in extra:
                responses[str(status_code)] = problem(status_code)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
