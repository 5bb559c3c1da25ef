"""Fixtures for the pytest plugin's tests: a clean environment, real servers started by riso's Runner."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_helpers import PLUGIN_ENV

from riso import plan as riso_plan
from riso.config import RisoConfig
from riso.runner import Runner
from riso.testing import local


def pytest_configure(config: pytest.Config) -> None:
    # `pytest_plugins = ["pytester"]` is refused in a conftest below the top level when the whole suite
    # runs; registering it here works in both cases (pytest replays addoption/configure for it).
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner runs see only what a test sets (the outer session may run under `riso env` or xdist)."""
    for name in PLUGIN_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def running_services() -> Iterator[dict[str, str]]:
    """Postgres and Redis started by riso's Runner as `riso up` starts them; yields what `riso env` exports.

    Postgres runs without durability (set through the manifest's settings, as a project may) and in RAM
    where there is room, to keep these tests fast on a busy machine; the bench measures a durable server too.
    """
    root = Path(tempfile.mkdtemp(prefix="riso-plugin-env-", dir=local.scratch_dir()))
    root.chmod(0o755)
    manifest = {
        "name": "envmode",
        "features": ["database", "cache"],
        "services": {"postgres": {"settings": {"fsync": "off", "full_page_writes": "off"}}},
    }
    runner = Runner(riso_plan.build(RisoConfig.model_validate(manifest)), root)
    try:
        runner.up()
        yield runner.env()
    finally:
        runner.down(volumes=True)
        shutil.rmtree(root, ignore_errors=True)
