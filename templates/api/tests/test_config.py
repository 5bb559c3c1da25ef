"""Settings come from the environment, then `.env`, then secret files."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import pytest

from myapi.core.config import Settings
from myapi.features import FEATURES


def example_environment() -> dict[str, str]:
    """A valid value of every setting without a default, from each feature's test fixtures."""
    found: dict[str, str] = {}
    for feature in FEATURES:
        found.update(getattr(import_module(f"tests.{feature.name}.fixtures"), "EXAMPLE_ENV", {}))
    return found


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A clean slate: example values in the environment, and a folder without a `.env`."""
    for name in ("APP_NAME", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    for name, value in example_environment().items():
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
        assert getattr(settings, name.lower()) == value


def test_secrets_stay_out_of_repr() -> None:
    shown = repr(Settings())
    assert all(value not in shown for value in example_environment().values())
