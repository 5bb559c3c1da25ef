"""Settings come from the environment, then `.env`, then secret files."""

from __future__ import annotations

from pathlib import Path

import pytest

from myapp.core.config import Settings


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A clean slate: no settings in the environment, and a folder without a `.env`."""
    for name in ("APP_NAME", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    settings = Settings()
    assert settings.app_name == "myapp"
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
    (secrets / "app_name").write_text("from-secret-file")
    settings = Settings(_secrets_dir=secrets)
    assert settings.app_name == "from-secret-file"
