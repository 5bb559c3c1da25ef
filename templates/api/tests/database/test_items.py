"""CRUD for items through the API, against a real database."""

from __future__ import annotations

import httpx


async def test_create_read_update_delete(client: httpx.AsyncClient) -> None:
    created = await client.post("/items", json={"name": "first", "description": "one"})
    assert created.status_code == 201
    item = created.json()
    assert item["name"] == "first"
    assert item["description"] == "one"
    item_id = item["id"]

    fetched = await client.get(f"/items/{item_id}")
    assert fetched.status_code == 200
    assert fetched.json() == item

    updated = await client.patch(f"/items/{item_id}", json={"name": "renamed"})
    assert updated.status_code == 200
    assert updated.json() == {**item, "name": "renamed"}
    assert (await client.get(f"/items/{item_id}")).json()["name"] == "renamed"

    deleted = await client.delete(f"/items/{item_id}")
    assert deleted.status_code == 204
    assert (await client.get(f"/items/{item_id}")).status_code == 404
    assert (await client.delete(f"/items/{item_id}")).status_code == 404
    assert (await client.patch(f"/items/{item_id}", json={"name": "x"})).status_code == 404


async def test_list_pages_in_id_order(client: httpx.AsyncClient) -> None:
    for number in range(5):
        response = await client.post("/items", json={"name": f"item {number}"})
        assert response.status_code == 201
    first = (await client.get("/items", params={"limit": 3})).json()
    rest = (await client.get("/items", params={"limit": 3, "offset": 3})).json()
    assert [item["name"] for item in first + rest] == [f"item {n}" for n in range(5)]
    assert len((await client.get("/items")).json()) == 5


async def test_invalid_input_is_rejected(client: httpx.AsyncClient) -> None:
    assert (await client.post("/items", json={"name": ""})).status_code == 422
    assert (await client.post("/items", json={})).status_code == 422
    assert (await client.get("/items", params={"limit": 0})).status_code == 422
    assert (await client.get("/items", params={"limit": 101})).status_code == 422
    assert (await client.get("/items/not-a-number")).status_code == 422
