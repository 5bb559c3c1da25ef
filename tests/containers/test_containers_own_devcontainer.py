"""riso's own development container: valid, with the service binaries its tests need."""

from __future__ import annotations

import subprocess

from container_support import REPO, load_jsonc, schema_errors
from dockerfile_parse import DockerfileParser
from jsonschema.protocols import Validator

FOLDER = REPO / ".devcontainer"


def test_riso_devcontainer_matches_the_schema(devcontainer_schema: Validator) -> None:
    document = load_jsonc(FOLDER / "devcontainer.json")
    assert schema_errors(devcontainer_schema, document) == []
    assert document["postCreateCommand"].startswith("pip install")
    assert "-e '.[test]'" in document["postCreateCommand"]
    assert any(key.startswith("ghcr.io/devcontainers/features/nix:") for key in document["features"])
    assert {m["target"] for m in document["mounts"]} == {"/nix"}


def test_riso_devcontainer_image_has_the_servers() -> None:
    parser = DockerfileParser(path=str(FOLDER / "Dockerfile"))
    installs = " ".join(i["value"] for i in parser.structure if i["instruction"] == "RUN")
    for package in ("postgresql", "redis-server", "prometheus"):
        assert f" {package} " in f" {installs} "
    done = subprocess.run(["bash", "-n", str(FOLDER / "on-create.sh")], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
