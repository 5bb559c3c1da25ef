"""The cache feature's settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from myapi.cache.settings import Settings


def test_redis_url_must_be_redis() -> None:
    with pytest.raises(ValidationError, match="redis://"):
        Settings(redis_url="http://cache.example")
