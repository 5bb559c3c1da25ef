"""/healthz and /readyz."""

from __future__ import annotations

import httpx

from myapi.core.config import Settings
from tests.test_cli import probe_names


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_everything_answers(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    checks = {name: "ok" for name in await probe_names(settings)}
    assert response.json() == {"status": "ready", "checks": checks, "failing": [], "degraded": []}
