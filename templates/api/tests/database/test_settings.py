"""The database feature's settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from myapi.database.settings import Settings


def test_database_url_is_switched_to_asyncpg() -> None:
    made_up = "pw"  # not a secret: only the scheme and the query change
    where = f"app:{made_up}@db:5432/app"
    settings = Settings(database_url=f"postgresql://{where}?sslmode=require")
    assert settings.async_database_url == f"postgresql+asyncpg://{where}?ssl=require"


def test_database_url_must_be_postgres() -> None:
    with pytest.raises(ValidationError, match="postgresql://"):
        Settings(database_url="mysql://app@db/app")
