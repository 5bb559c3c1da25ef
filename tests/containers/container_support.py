"""Renders of the blueprint's container files, shared by the tests of this folder, and the schemas.

Each (features, flavour) pair is rendered once per session with Copier (only the container paths), so
the 80 valid combinations cost a few seconds. The JSON schemas live in `shared/schemas` beside the checkout;
tests that need them skip with a reason when that folder is absent.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import json5
import pytest
import yaml
from jsonschema import Draft7Validator, Draft201909Validator
from jsonschema.protocols import Validator

from riso import config, containers, plan
from riso.features import valid_combinations
from riso.plan_model import Plan

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO.parent / "shared" / "schemas"
COMBINATIONS = valid_combinations()
MANAGERS = ("uv", "poetry")
FLAVOURS = containers.FLAVOURS


def combo_id(features: tuple[str, ...]) -> str:
    return "+".join(features) or "none"


Render = Callable[..., Path]  # render(features, flavour, manager="uv")


@pytest.fixture(scope="session")
def render(tmp_path_factory: pytest.TempPathFactory) -> Render:
    """render(features, flavour, manager) -> folder with the container files (cached for the session)."""
    cache: dict[tuple[tuple[str, ...], str, str], Path] = {}

    def get(features: tuple[str, ...], flavour: str, manager: str = "uv") -> Path:
        key = (features, flavour, manager)
        if key not in cache:
            dest = tmp_path_factory.mktemp(f"{combo_id(features)}-{flavour}-{manager}")
            data = {
                "project_name": "demo",
                "features": list(features),
                "devcontainer_flavour": flavour,
                "package_manager": manager,
            }
            containers.render(data, dest)
            cache[key] = dest
        return cache[key]

    return get


def plan_for(features: tuple[str, ...]) -> Plan:
    manifest = {"project": {"name": "demo"}, "tool": {"riso": {"features": list(features)}}}
    return plan.build(config.parse(manifest))


def load_jsonc(path: Path) -> Any:
    return json5.loads(path.read_text(encoding="utf-8"))


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _validator(name: str, cls: type[Validator]) -> Validator:
    path = SCHEMAS / name
    if not path.is_file():
        pytest.skip(f"{path} is absent: the schemas come from shared/schemas beside the checkout")
    return cls(json.loads(path.read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def devcontainer_schema() -> Validator:
    return _validator("devContainer.base.schema.json", Draft201909Validator)


@pytest.fixture(scope="session")
def compose_schema() -> Validator:
    return _validator("compose-spec.json", Draft7Validator)


def schema_errors(validator: Validator, document: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(document)]
