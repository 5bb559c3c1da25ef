"""Fixtures for the generator, starter and matrix tests (helpers: blueprint_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import fixture_blueprint
import pytest


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty blueprint store of this test's own."""
    path = tmp_path / "store"
    monkeypatch.setenv("RISO_BLUEPRINT_STORE", str(path))
    return path


@pytest.fixture
def fake_blueprint(tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The tiny fixture blueprint, installed as riso's blueprint ($RISO_BLUEPRINT)."""
    folder = fixture_blueprint.write(tmp_path / "blueprint-v1")
    monkeypatch.setenv("RISO_BLUEPRINT", str(folder))
    yield folder
