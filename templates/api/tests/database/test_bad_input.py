"""Odd input to the items API is a 4xx problem, never a 500: null for a required field, ids and
offsets beyond what Postgres stores, NUL characters, bodies beyond the limit."""

from __future__ import annotations

import httpx
import pytest

from myapi.core.config import Settings

MAX_ID = 2**31 - 1


def assert_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["request_id"] == response.headers["x-request-id"]


@pytest.fixture
async def item_url(client: httpx.AsyncClient) -> str:
    created = await client.post("/items", json={"name": "first"})
    assert created.status_code == 201
    return f"/items/{created.json()['id']}"


async def test_a_required_field_cannot_be_set_to_null(
    client: httpx.AsyncClient, item_url: str
) -> None:
    assert_problem(await client.patch(item_url, json={"name": None}), 422)
    assert (await client.patch(item_url, json={"description": None})).status_code == 200
    assert (await client.get(item_url)).json()["name"] == "first"


@pytest.mark.parametrize("item_id", [0, -1, MAX_ID + 1, 2**63, 10**40])
async def test_ids_outside_what_postgres_stores_are_rejected(
    client: httpx.AsyncClient, item_id: int
) -> None:
    for method in ("GET", "DELETE"):
        assert_problem(await client.request(method, f"/items/{item_id}"), 422)
    assert_problem(await client.patch(f"/items/{item_id}", json={"name": "x"}), 422)


async def test_the_largest_id_is_a_plain_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"/items/{MAX_ID}"), 404)


@pytest.mark.parametrize(
    "params",
    [{"offset": 2**63}, {"offset": MAX_ID + 1}, {"offset": -1}, {"limit": 0}, {"limit": 101}],
)
async def test_pages_outside_the_bounds_are_rejected(
    client: httpx.AsyncClient, params: dict[str, int]
) -> None:
    assert_problem(await client.get("/items", params=params), 422)


async def test_the_largest_offset_is_an_empty_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/items", params={"offset": MAX_ID})
    assert response.status_code == 200
    assert response.json() == []


async def test_nul_characters_are_rejected(client: httpx.AsyncClient, item_url: str) -> None:
    assert_problem(await client.post("/items", json={"name": "a\x00b"}), 422)
    assert_problem(await client.post("/items", json={"name": "a", "description": "\x00"}), 422)
    assert_problem(await client.patch(item_url, json={"name": "\x00"}), 422)


async def test_text_that_is_not_unicode_is_rejected(client: httpx.AsyncClient) -> None:
    lone_surrogate = b'{"name": "a\\ud800b"}'
    response = await client.post(
        "/items", content=lone_surrogate, headers={"content-type": "application/json"}
    )
    assert_problem(response, 422)


async def test_a_body_of_10_mb_is_refused_and_not_echoed(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    huge = {"name": "x" * (10 * 1024 * 1024)}
    response = await client.post("/items", json=huge)
    assert_problem(response, 413)
    assert len(response.content) < 1000
    assert settings.max_body_bytes < 10 * 1024 * 1024


async def test_a_body_that_is_not_json_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/items", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(response, 422)
    response = await client.post(
        "/items", content=b"\xff\xfe{}", headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_wrong_method_names_every_method_of_the_path(
    client: httpx.AsyncClient, item_url: str
) -> None:
    response = await client.put(item_url, json={"name": "x"})
    assert_problem(response, 405)
    assert response.headers["allow"] == "DELETE, GET, PATCH"
    assert (await client.delete("/items")).headers["allow"] == "GET, POST"
