"""Every error is a problem (RFC 9457) carrying the request id, in its body and header; 500s are
logged with it; bodies beyond the limit are refused; invalid input is never echoed back."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from myapp.core.config import Settings
from myapp.main import create_app
from tests.api.fixtures import Serve

LIMIT = 1000


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    app = create_app(settings.model_copy(update={"max_body_bytes": LIMIT}))

    @app.get("/broken")
    async def broken() -> dict[str, str]:
        raise RuntimeError("a bug")

    @app.post("/echo")
    async def echo(data: dict[str, int]) -> dict[str, int]:
        return data

    return app


@pytest.fixture
async def client(app: FastAPI, serve: Serve) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(app) as client:
        yield client


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert isinstance(body["title"], str)
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_an_unknown_path_is_a_404_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/no/such/page"), 404)
    assert body["title"] == "Not Found"
    assert body["instance"] == "/no/such/page"


async def test_a_wrong_method_is_a_405_naming_the_allowed_ones(client: httpx.AsyncClient) -> None:
    response = await client.post("/healthz")
    assert_problem(response, 405)
    assert "GET" in response.headers["allow"]


async def test_a_bug_is_a_500_problem_logged_with_the_request_id(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = await client.get("/broken", headers={"X-Request-ID": "trace-me-42"})
    body = assert_problem(response, 500)
    assert body["request_id"] == "trace-me-42"
    assert "a bug" not in response.text  # the traceback stays on the server
    [record] = [r for r in caplog.records if "trace-me-42" in r.getMessage()]
    assert record.exc_info is not None
    assert "a bug" in str(record.exc_info[1])


async def test_invalid_input_is_a_422_that_names_the_field_without_echoing_it(
    client: httpx.AsyncClient,
) -> None:
    value = "s3cr3t-" + "x" * 600
    body = assert_problem(await client.post("/echo", json={"value": value}), 422)
    assert value not in str(body)
    errors = body["errors"]
    assert isinstance(errors, list)
    assert errors[0]["loc"] == ["body", "value"]
    assert set(errors[0]) == {"loc", "msg", "type"}


async def test_a_body_over_the_limit_is_refused_before_it_is_read(
    client: httpx.AsyncClient,
) -> None:
    body = assert_problem(await client.post("/echo", content=b"{" + b" " * LIMIT + b"}"), 413)
    assert str(LIMIT) in str(body["detail"])


async def test_a_streamed_body_over_the_limit_is_refused(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 200

    response = await client.post(
        "/echo", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)


async def test_a_route_without_a_body_refuses_a_large_one_as_documented(
    client: httpx.AsyncClient,
) -> None:
    """The cap applies before routing: a GET sent with a large body is a 413, documented there."""
    assert_problem(await client.request("GET", "/broken", content=b" " * (LIMIT + 1)), 413)
    document = (await client.get("/openapi.json")).json()
    responses = document["paths"]["/broken"]["get"]["responses"]
    assert {"413", "500"} <= set(responses)
    assert "400" not in responses  # no body to read


async def test_a_body_within_the_limit_is_served(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", json={"value": 1})
    assert response.status_code == 200
    assert response.json() == {"value": 1}


async def test_errors_are_documented_as_problems(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    echo = document["paths"]["/echo"]["post"]["responses"]
    for status in ("400", "413", "422", "500"):
        assert set(echo[status]["content"]) == {"application/problem+json"}
        schema = echo[status]["content"]["application/problem+json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Problem"}
    assert "Problem" in document["components"]["schemas"]
    assert "HTTPValidationError" not in document["components"]["schemas"]
