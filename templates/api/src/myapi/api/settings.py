"""The api feature's settings."""

from __future__ import annotations

from pydantic import Field

from myapi.core.settings import BaseConfig


class Settings(BaseConfig):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    max_body_bytes: int = Field(1024 * 1024, ge=0)
    """Requests with a larger body are answered 413 without reading it."""
    readiness_timeout: float = 2.0
    """Seconds each dependency probe of /readyz may take."""
    readiness_cache_seconds: float = 1.0
    """How long a /readyz result is reused, so probes never load the dependencies."""
