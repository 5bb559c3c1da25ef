"""/readyz names the database when it does not answer; the app stays alive."""

from __future__ import annotations

from pydantic import SecretStr

from myapi.core.config import Settings
from myapi.main import create_app
from tests.api.fixtures import Serve


async def test_readyz_names_the_database_when_it_is_down(
    settings: Settings, serve: Serve, closed_port: int
) -> None:
    down = SecretStr(f"postgresql://postgres@127.0.0.1:{closed_port}/app")
    app = create_app(settings.model_copy(update={"database_url": down}))
    async with serve(app) as client:
        response = await client.get("/readyz")
        alive = await client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failing"] == ["database"]
    assert body["checks"]["database"] != "ok"
    assert alive.status_code == 200  # alive, just not ready
