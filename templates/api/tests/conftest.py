"""Shared fixtures. Each feature brings its own in `tests/<feature>/fixtures.py` (loaded below):

- `<feature>_settings`: the settings that point the feature at its test services;
- the services themselves (`database_url`, `redis_url`, ...), from published pytest plugins
  (`tests/redis_server.py` for Redis, which several features share).

`settings` joins every feature's part; `service_environment` puts the same values in the
environment for code that reads it (the CLI). Nothing reads a developer's `.env`.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from myapi.core.config import Settings
from myapi.features import FEATURES

pytest_plugins: list[str] = [
    "tests.redis_server",
    "tests.api.fixtures",
    "tests.cache.fixtures",
    "tests.database.fixtures",
    "tests.monitoring.fixtures",
    "tests.tasks.fixtures",
]


@pytest.fixture
def feature_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Every feature's test settings (`<feature>_settings` fixtures), joined."""
    joined: dict[str, Any] = {}
    for feature in FEATURES:
        joined.update(request.getfixturevalue(f"{feature.name}_settings"))
    return joined


@pytest.fixture
def settings(feature_settings: dict[str, Any]) -> Settings:
    """Settings for the test services only: no `.env`."""
    return Settings(_env_file=None, **feature_settings)


@pytest.fixture
def service_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, feature_settings: dict[str, Any]
) -> None:
    """The test settings in the environment, in a folder without a `.env`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("APP_NAME", raising=False)
    for name, value in feature_settings.items():
        if value is None:
            monkeypatch.delenv(name.upper(), raising=False)
        else:
            monkeypatch.setenv(name.upper(), str(value))


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on: connections to it are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
