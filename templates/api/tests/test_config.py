"""Settings come from the environment, then `.env`, then secret files."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import pytest
from pydantic import SecretStr

from myapi.core.config import Settings
from myapi.core.settings import Environment
from myapi.features import FEATURES


def example_environment(kind: str = "EXAMPLE_ENV") -> dict[str, str]:
    """A valid value of every setting without a default, from each feature's test fixtures;
    `DEPLOYED_ENV`: of those that have a default only in the local and test environments."""
    found: dict[str, str] = {}
    for feature in FEATURES:
        found.update(getattr(import_module(f"tests.{feature.name}.fixtures"), kind, {}))
    return found


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A clean slate: example values in the environment (good for every ENVIRONMENT), and a
    folder without a `.env`."""
    for name in ("APP_NAME", "LOG_LEVEL", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    for name, value in {**example_environment("DEPLOYED_ENV"), **example_environment()}.items():
        monkeypatch.setenv(name, value)


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


def test_environment_picks_its_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("APP_NAME=from-dotenv\nLOG_LEVEL=DEBUG\n")
    (tmp_path / ".env.staging").write_text("APP_NAME=from-staging\n")
    assert Settings().environment == Environment.local
    assert Settings().app_name == "from-dotenv"
    monkeypatch.setenv("ENVIRONMENT", "staging")
    settings = Settings()
    assert settings.environment == Environment.staging
    assert settings.app_name == "from-staging"  # .env.staging wins over .env
    assert settings.log_level == "DEBUG"  # what it does not set comes from .env


def test_environment_may_be_set_in_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ENVIRONMENT=production\n")
    (tmp_path / ".env.production").write_text("APP_NAME=from-production\n")
    settings = Settings()
    assert settings.environment == Environment.production
    assert settings.app_name == "from-production"


def test_log_level_is_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert Settings().log_level == "DEBUG"


def test_secret_files_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name, value in example_environment().items():  # each secret from its own file
        monkeypatch.delenv(name)
        (secrets / name.lower()).write_text(value)
    (secrets / "app_name").write_text("from-secret-file")
    settings = Settings(_secrets_dir=secrets)
    assert settings.app_name == "from-secret-file"
    for name, value in example_environment().items():
        assert plain(getattr(settings, name.lower())) == value


def plain(value: object) -> object:
    """A setting's value, secrets unwrapped."""
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def test_secrets_stay_out_of_repr() -> None:
    shown = repr(Settings())
    examples = {**example_environment(), **example_environment("DEPLOYED_ENV")}
    assert all(value not in shown for value in examples.values())
