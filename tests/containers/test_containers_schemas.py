"""Every rendered devcontainer.json and Compose file validates against the published schemas."""

from __future__ import annotations

import subprocess

import pytest
from container_support import (
    COMBINATIONS,
    FLAVOURS,
    Render,
    combo_id,
    load_jsonc,
    load_yaml,
    schema_errors,
)
from jsonschema.protocols import Validator

pytestmark = pytest.mark.parametrize("flavour", FLAVOURS)
combos = pytest.mark.parametrize("features", COMBINATIONS, ids=combo_id)


@combos
def test_devcontainer_json_matches_the_spec_schema(
    features: tuple[str, ...], flavour: str, render: Render, devcontainer_schema: Validator
) -> None:
    document = load_jsonc(render(features, flavour) / ".devcontainer" / "devcontainer.json")
    assert schema_errors(devcontainer_schema, document) == []
    # The schema accepts either shape; the flavour decides which one this is.
    assert ("dockerComposeFile" in document) == (flavour == "compose")
    assert ("image" in document) == (flavour == "nix")


@combos
def test_compose_files_match_the_compose_spec(
    features: tuple[str, ...], flavour: str, render: Render, compose_schema: Validator
) -> None:
    folder = render(features, flavour)
    files = [folder / "docker-compose.yml"]
    if flavour == "compose":
        files.append(folder / ".devcontainer" / "compose.yml")
    else:
        assert not (folder / ".devcontainer" / "compose.yml").exists()
    for path in files:
        assert schema_errors(compose_schema, load_yaml(path)) == [], path.name


@combos
def test_generated_shell_scripts_parse(features: tuple[str, ...], flavour: str, render: Render) -> None:
    scripts = sorted((render(features, flavour) / ".devcontainer").glob("*.sh"))
    scripts += sorted((render(features, flavour) / ".devcontainer").glob("*.bashrc"))
    assert scripts
    for script in scripts:
        done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, f"{script.name}: {done.stderr}"
