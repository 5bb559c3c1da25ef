"""Settings come from the environment, then `.env`, then secret files."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from myapi.core.config import Settings

DATABASE_URL = "postgresql://app:secret@db.example:5432/app"
REDIS_URL = "redis://cache.example:6379/0"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A clean slate: no settings in the environment, and a folder without a `.env`."""
    for name in ("APP_NAME", "LOG_LEVEL", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", DATABASE_URL)
    monkeypatch.setenv("REDIS_URL", REDIS_URL)


def test_defaults() -> None:
    settings = Settings()
    assert settings.app_name == "myapi"
    assert settings.log_level == "INFO"


def test_environment_wins_over_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("APP_NAME=from-dotenv\nLOG_LEVEL=DEBUG\n")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    settings = Settings()
    assert settings.app_name == "from-dotenv"
    assert settings.log_level == "WARNING"


def test_secret_files_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    monkeypatch.delenv("DATABASE_URL")
    (secrets / "database_url").write_text("postgresql://app:from-file@db:5432/app")
    settings = Settings(_secrets_dir=secrets)
    assert settings.database_url == "postgresql://app:from-file@db:5432/app"


def test_secrets_stay_out_of_repr() -> None:
    assert "secret" not in repr(Settings())


def test_database_url_is_switched_to_asyncpg() -> None:
    settings = Settings(database_url="postgresql://app:pw@db:5432/app?sslmode=require")
    assert settings.async_database_url == "postgresql+asyncpg://app:pw@db:5432/app?ssl=require"


def test_database_url_must_be_postgres() -> None:
    with pytest.raises(ValidationError, match="postgresql://"):
        Settings(database_url="mysql://app@db/app")


def test_redis_url_must_be_redis() -> None:
    with pytest.raises(ValidationError, match="redis://"):
        Settings(redis_url="http://cache.example")


def test_empty_otlp_endpoint_means_tracing_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
    assert Settings().otel_exporter_otlp_endpoint is None
