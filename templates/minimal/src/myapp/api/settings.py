"""The api feature's settings."""

from __future__ import annotations

from myapp.core.settings import BaseConfig


class Settings(BaseConfig):
    host: str = "127.0.0.1"
    port: int = 8000
    readiness_timeout: float = 2.0
    """Seconds each dependency probe of /readyz may take."""
    readiness_cache_seconds: float = 1.0
    """How long a /readyz result is reused, so probes never load the dependencies."""
