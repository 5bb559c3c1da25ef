"""A new feature is a local change: its folders in the blueprint and its entry in features.py.

A throwaway feature `greeting` (a setting, a CLI command and an HTTP route, reaching the app
only through the registry) is added to a temp copy of the blueprint, `riso templates sync`'s
feature table rewrites copier.yml's generated block, and the feature then renders, passes the
static checks and its own tests beside the api feature, and is accepted by the manifest and the
plan. The Nix side reading the same table is tested in tests/nix/test_feature_plugin.py.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from riso import blueprint_store, config, feature_table, features, generate, matrix, plan
from riso.features import Feature

pytestmark = pytest.mark.slow

ON = "{% if 'greeting' in features %}greeting{% endif %}"
API_ON = "{% if 'api' in features %}web.py{% endif %}"
FILES = {
    f"src/{{{{ package_name }}}}/{ON}/__init__.py": '"""The greeting feature: says hello."""\n',
    f"src/{{{{ package_name }}}}/{ON}/settings.py.jinja": '''"""The greeting feature's settings."""

from __future__ import annotations

from {{ package_name }}.core.settings import BaseConfig


class Settings(BaseConfig):
    greeting: str = "hello"
''',
    f"src/{{{{ package_name }}}}/{ON}/feature.py.jinja": '''"""The greeting feature in the registry: `greet`.

Its route is in web.py."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from {{ package_name }}.core.registry import Command, Feature, Resources

if TYPE_CHECKING:
    from {{ package_name }}.core.config import Settings


async def greet(args: argparse.Namespace, settings: Settings, resources: Resources) -> int:
    print(settings.greeting)
    return 0


GREET = Command("greet", "say hello", run=greet)
FEATURE = Feature(name="greeting", commands=(GREET,), web=True)
''',
    f"src/{{{{ package_name }}}}/{ON}/{API_ON}.jinja": '''"""GET /greeting."""

from __future__ import annotations

from contextlib import AsyncExitStack

from fastapi import APIRouter, FastAPI

from {{ package_name }}.core.config import Settings


def install(app: FastAPI, settings: Settings, shutdown: AsyncExitStack) -> None:
    router = APIRouter()  # one per app: its route reads this app's settings

    @router.get("/greeting")
    async def greeting() -> dict[str, str]:
        return {"greeting": settings.greeting}

    app.include_router(router)
''',
    f"tests/{ON}/__init__.py": "",
    f"tests/{ON}/fixtures.py": '''"""The greeting feature's test fixtures."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def greeting_settings() -> dict[str, Any]:
    return {"greeting": "hello from the tests"}
''',
    f"tests/{ON}/test_greeting.py.jinja": '''"""The greeting reaches the CLI and the API through the registry."""

from __future__ import annotations

import httpx
import pytest

from {{ package_name }}.cli import main


@pytest.mark.usefixtures("service_environment")
def test_greet(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["greet"]) == 0
    assert capsys.readouterr().out == "hello from the tests\\n"


async def test_the_route(client: httpx.AsyncClient) -> None:
    assert (await client.get("/greeting")).json() == {"greeting": "hello from the tests"}
''',
}


@pytest.fixture
def greeting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The blueprint copy with the feature's folders, and its features.py entry."""
    blueprint = tmp_path / "blueprint"
    shutil.copytree(blueprint_store.installed_blueprint(), blueprint)
    for name, text in FILES.items():
        path = blueprint / "project" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    monkeypatch.setitem(features.FEATURES, "greeting", Feature("greeting", "says hello", requires=("api",)))
    monkeypatch.setenv(blueprint_store.BLUEPRINT_ENV, str(blueprint))
    monkeypatch.setenv(blueprint_store.STORE_ENV, str(tmp_path / "store"))
    assert feature_table.sync_copier(blueprint)  # the generated block now lists it
    return blueprint


def test_the_feature_table_lists_it_for_copier(greeting: Path) -> None:
    text = (greeting / "copier.yml").read_text(encoding="utf-8")
    assert "    greeting: greeting\n" in text
    assert not feature_table.sync_copier(greeting, check=True)


def test_manifest_and_plan_accept_it(greeting: Path) -> None:
    data = {"project": {"name": "demo"}, "tool": {"riso": {"features": ["greeting", "api"]}}}
    cfg = config.parse(data)
    assert cfg.features == ["api", "greeting"]
    assert plan.build(cfg).project.features == ["api", "greeting"]


def test_it_renders_and_passes_the_matrix_beside_api(greeting: Path, tmp_path: Path) -> None:
    dest = tmp_path / "render"
    generate.render(dest, {"project_name": "demo", "features": ["api", "greeting"]})
    declared = tomllib.loads((dest / "pyproject.toml").read_text())["tool"]["riso"]["features"]
    assert declared == ["api", "greeting"]
    assert "from demo.greeting.feature import FEATURE as greeting" in (dest / "src/demo/features.py").read_text()

    assert ("api", "greeting") in matrix.select(None)
    target = matrix.combination(("api", "greeting"))
    [result] = matrix.run([target], jobs=1, work=tmp_path / "matrix")
    assert result.ok, f"{result.failed_step.name if result.failed_step else '?'}:\n{result.tail()}"
    assert [s.name for s in result.steps][-4:] == ["ruff check", "ruff format", "mypy", "pytest"]
