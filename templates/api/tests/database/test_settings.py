"""The database feature's settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from myapi.database.settings import Settings


def test_database_url_is_switched_to_asyncpg() -> None:
    settings = Settings(database_url="postgresql://app:pw@db:5432/app?sslmode=require")
    assert settings.async_database_url == "postgresql+asyncpg://app:pw@db:5432/app?ssl=require"


def test_database_url_must_be_postgres() -> None:
    with pytest.raises(ValidationError, match="postgresql://"):
        Settings(database_url="mysql://app@db/app")
