"""Fixtures for the runner's tests; the plain helpers live in core_support.py."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from core_support import open_folder, stop_project


@pytest.fixture
def folder() -> Iterator[Path]:
    """A fresh project folder every user can traverse; its services are stopped afterwards."""
    path = open_folder("riso-core-")
    yield path
    stop_project(path)
    shutil.rmtree(path, ignore_errors=True)
