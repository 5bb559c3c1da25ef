"""/readyz names the cache when Redis does not answer."""

from __future__ import annotations

from myapi.core.config import Settings
from myapi.main import create_app
from tests.api.fixtures import Serve


async def test_readyz_names_the_cache_when_it_is_down(
    settings: Settings, serve: Serve, closed_port: int
) -> None:
    down = f"redis://127.0.0.1:{closed_port}/0"
    app = create_app(settings.model_copy(update={"redis_url": down}))
    async with serve(app) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert "cache" in response.json()["failing"]  # with any other feature on the same Redis
