"""/readyz: without Redis the service is degraded, still ready (reads go to the source)."""

from __future__ import annotations

from pydantic import SecretStr

from myapi.core.config import Settings
from myapi.main import create_app
from tests.api.fixtures import Serve


async def test_readyz_says_degraded_when_the_cache_is_down(
    settings: Settings, serve: Serve, closed_port: int
) -> None:
    down = SecretStr(f"redis://127.0.0.1:{closed_port}/0")
    app = create_app(settings.model_copy(update={"redis_url": down}))
    async with serve(app) as client:
        response = await client.get("/readyz")
    body = response.json()
    assert "cache" in body["degraded"]
    assert "cache" not in body["failing"]
    assert body["checks"]["cache"].startswith("CacheUnavailable: ")
    # Degraded is not down: 200, unless another feature on the same Redis (tasks) must fail.
    assert response.status_code == (503 if body["failing"] else 200)
